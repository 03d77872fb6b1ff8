package ingest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/ingest"
	"github.com/dotdo/events/runtime/lake"
)

// testNow is the server clock of the tests: the fixtures' events are from
// the hours before it.
var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const testKey = "sk_test_0123456789"

// newServer starts an ingest over a fresh local lake, on a loopback
// httptest server.
func newServer(t testing.TB, opts ingest.Options) (*httptest.Server, lake.Bucket) {
	t.Helper()
	if opts.Bucket == nil {
		opts.Bucket = lake.Dir(t.TempDir())
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	srv, err := ingest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs, opts.Bucket
}

// post sends body to url with key (none when empty) and returns the status
// and the decoded JSON answer.
func post(t testing.TB, url, key string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/ingest", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

// keys lists every events object of the bucket (not the placeholders
// under _empty/ that the lake keeps for DuckDB).
func keys(t testing.TB, b lake.Bucket) []string {
	t.Helper()
	objs, err := lake.ListAll(context.Background(), b, "events/")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		if strings.HasPrefix(o.Key, lakeformat.PlaceholderRoot) {
			continue // the lake's empty placeholders (lake.EnsurePlaceholders)
		}
		out = append(out, o.Key)
	}
	return out
}

// lines returns every stored event, decoded, across the bucket's events
// objects.
func lines(t testing.TB, b lake.Bucket) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, k := range keys(t, b) {
		obj, err := b.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(obj.Body)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s: line %q: %v", k, sc.Text(), err)
			}
			out = append(out, m)
		}
		obj.Body.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// event returns one valid event of store at ts with extra members.
func event(store string, ts time.Time, extra string) string {
	s := fmt.Sprintf(`{"type":"order.paid","ts":%q,"do":{"id":%q,"class":"Shop"}`, ts.UTC().Format("2006-01-02T15:04:05.000Z"), store)
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

// batch joins events into a body.
func batch(batchID string, evs ...string) []byte {
	s := `{"events":[` + strings.Join(evs, ",") + `]`
	if batchID != "" {
		s += `,"batchId":` + fmt.Sprintf("%q", batchID)
	}
	return []byte(s + "}")
}

// manyEvents returns n events of store, one a second from start.
func manyEvents(store string, start time.Time, n int) []string {
	evs := make([]string, n)
	for i := range evs {
		evs[i] = event(store, start.Add(time.Duration(i)*time.Second), fmt.Sprintf(`"n":%d,"text":"some text of an ordinary event, about this long"`, i))
	}
	return evs
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
