package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/ingest"
	"github.com/dotdo/events/runtime/lake"
)

// TestRefusals sends each kind of bad request and checks its status, the
// event index it names and that nothing was written.
func TestRefusals(t *testing.T) {
	hs, b := newServer(t, ingest.Options{
		Keys:       []string{testKey},
		ScopedKeys: []ingest.Key{{Secret: "tenant-a-key", StorePrefixes: []string{"tenant-a-"}}, {Secret: "shop-key", Classes: []string{"Shop"}}},
	})
	at := testNow.Add(-time.Hour)
	good := event("s1", at, "")
	deep := strings.Repeat(`[`, ingest.MaxDepth) + strings.Repeat(`]`, ingest.MaxDepth)
	bigField := `"blob":"` + strings.Repeat("x", ingest.MaxEventBytes) + `"`
	cases := []struct {
		name   string
		key    string
		body   []byte
		status int
		index  int // -1: no index expected
	}{
		{"no key", "", batch("", good), 401, -1},
		{"wrong key", "sk_test_0123456780", batch("", good), 401, -1},
		{"malformed JSON", testKey, []byte(`{"events":[` + good + `,`), 400, 1},
		{"not an object", testKey, []byte(`[1,2]`), 400, -1},
		{"no events", testKey, []byte(`{"batchId":"x"}`), 400, -1},
		{"trailing data", testKey, []byte(string(batch("", good)) + `{}`), 400, -1},
		{"bad type", testKey, batch("", good, good, `{"type":"bad type!","ts":"2026-11-28T11:00:00Z"}`), 400, 2},
		{"no ts", testKey, batch("", good, `{"type":"a.b"}`), 400, 1},
		{"bad ts", testKey, batch("", `{"type":"a.b","ts":"yesterday"}`), 400, 0},
		{"ts too far ahead", testKey, batch("", good, event("s1", testNow.Add(2*time.Hour), "")), 400, 1},
		{"ts too old", testKey, batch("", event("s1", testNow.AddDate(-2, 0, 0), "")), 400, 0},
		{"numeric type", testKey, batch("", `{"type":5,"ts":"2026-11-28T11:00:00Z"}`), 400, 0},
		{"empty id", testKey, batch("", event("s1", at, `"id":""`)), 400, 0},
		{"do not an object", testKey, batch("", `{"type":"a.b","ts":"2026-11-28T11:00:00Z","do":"x"}`), 400, 0},
		{"bad store id", testKey, batch("", event("a/b", at, "")), 400, 0},
		{"too deep", testKey, batch("", good, event("s1", at, `"x":`+deep)), 400, 1},
		{"event too large", testKey, batch("", event("s1", at, bigField)), 400, 0},
		{"invalid UTF-8", testKey, batch("", event("s1", at, "\"x\":\"\xff\"")), 400, 0},
		{"control character", testKey, batch("", event("s1", at, "\"x\":\"a\tb\"")), 400, 0},
		{"bad number", testKey, batch("", event("s1", at, `"x":01`)), 400, 0},
		{"bad escape", testKey, batch("", event("s1", at, `"x":"\q"`)), 400, 0},
		{"1001 events", testKey, batch("", manyEvents("s1", at, 1001)...), 413, 1000},
		{"body over 16 MiB", testKey, batch("", good, event("s1", at, `"pad":"`+strings.Repeat("y", ingest.MaxBodyBytes)+`"`)), 413, -1},
		{"another tenant", "tenant-a-key", batch("", event("tenant-a-1", at, ""), event("tenant-b-1", at, "")), 403, 1},
		{"another class", "shop-key", batch("", event("s1", at, ""), `{"type":"a.b","ts":"2026-11-28T11:00:00Z","do":{"id":"s2","class":"Bank"}}`), 403, 1},
		{"scoped key, no do", "tenant-a-key", batch("", `{"type":"a.b","ts":"2026-11-28T11:00:00Z"}`), 403, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := post(t, hs.URL, c.key, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %v", status, c.status, body)
			}
			if _, ok := body["error"].(string); !ok {
				t.Errorf("no error message: %v", body)
			}
			idx, has := body["index"].(float64)
			switch {
			case c.index < 0 && has:
				t.Errorf("index %v, want none", idx)
			case c.index >= 0 && (!has || int(idx) != c.index):
				t.Errorf("index %v (%v), want %d: %v", idx, has, c.index, body["error"])
			}
			if ks := keys(t, b); len(ks) != 0 {
				t.Fatalf("refused batch wrote %v", ks)
			}
		})
	}
}

// TestAllBadEventsListed checks that a 400 lists every offending event, so
// a sender can set aside just those.
func TestAllBadEventsListed(t *testing.T) {
	hs, b := newServer(t, ingest.Options{})
	at := testNow.Add(-time.Hour)
	status, body := post(t, hs.URL, "", batch("", event("s", at, ""), `{"type":"","ts":"2026-11-28T11:00:00Z"}`, event("s", at, ""), `{"type":"x","ts":"nope"}`))
	if status != 400 {
		t.Fatalf("status %d", status)
	}
	errs, _ := body["errors"].([]any)
	var got []int
	for _, e := range errs {
		got = append(got, int(e.(map[string]any)["index"].(float64)))
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Errorf("errors name events %v, want [1 3]: %v", got, body)
	}
	if len(keys(t, b)) != 0 {
		t.Error("wrote objects")
	}
}

// TestMethodsAndPaths covers 405, 404, /health and /metrics.
func TestMethodsAndPaths(t *testing.T) {
	hs, b := newServer(t, ingest.Options{Keys: []string{testKey}})
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/ingest", 405},
		{"PUT", "/ingest", 405},
		{"POST", "/health", 405},
		{"GET", "/nope", 404},
		{"POST", "/", 404},
		{"GET", "/health", 200},
		{"GET", "/metrics", 200},
	} {
		req, _ := http.NewRequest(c.method, hs.URL+c.path, strings.NewReader(`{"events":[]}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, resp.StatusCode, c.status, data)
		}
		if c.status == 405 && resp.Header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", c.method, c.path)
		}
	}
	// Metrics count what happened, in the text format.
	post(t, hs.URL, "", batch("", event("s", testNow, "")))
	if st, _ := post(t, hs.URL, testKey, batch("", event("s", testNow, ""))); st != 200 {
		t.Fatalf("status %d", st)
	}
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`events_ingest_requests_total{code="401"} 1`,
		`events_ingest_requests_total{code="200"} 1`,
		`events_ingest_rejects_total{reason="auth"} 1`,
		`events_ingest_events_accepted_total 1`,
		`events_ingest_request_duration_seconds_count 1`,
		`events_ingest_lake_write_errors_total 0`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if n := len(keys(t, b)); n != 1 {
		t.Errorf("%d objects, want 1", n)
	}
}

// gate is a real bucket whose Puts wait until released, to hold requests
// in flight.
type gate struct {
	lake.Bucket
	entered chan struct{}
	release chan struct{}
	fail    error
}

func (g *gate) Put(ctx context.Context, key string, body io.ReadSeeker, opts lake.PutOptions) error {
	if strings.HasPrefix(key, lakeformat.PlaceholderRoot) {
		return g.Bucket.Put(ctx, key, body, opts) // the lake's empty placeholders: not a batch
	}
	if g.entered != nil {
		g.entered <- struct{}{}
		<-g.release
	}
	if g.fail != nil {
		return g.fail
	}
	return g.Bucket.Put(ctx, key, body, opts)
}

// TestBusy fills MaxInFlight and checks the next request gets 503 with
// Retry-After, writing nothing, and that the held one then succeeds.
func TestBusy(t *testing.T) {
	g := &gate{Bucket: lake.Dir(t.TempDir()), entered: make(chan struct{}), release: make(chan struct{})}
	if err := lake.EnsurePlaceholders(context.Background(), g.Bucket); err != nil { // so that only event objects reach the gate
		t.Fatal(err)
	}
	hs, b := newServer(t, ingest.Options{Bucket: g, MaxInFlight: 1})
	var wg sync.WaitGroup
	wg.Add(1)
	var firstStatus int
	go func() {
		defer wg.Done()
		firstStatus, _ = post(t, hs.URL, "", batch("", event("s", testNow, `"n":1`)))
	}()
	<-g.entered
	req, _ := http.NewRequest("POST", hs.URL+"/ingest", bytes.NewReader(batch("", event("s", testNow, `"n":2`))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second request: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(g.release)
	wg.Wait()
	if firstStatus != 200 {
		t.Errorf("first request: %d", firstStatus)
	}
	if ls := lines(t, b); len(ls) != 1 || ls[0]["n"] != 1.0 {
		t.Errorf("lake holds %v, want only event n=1", ls)
	}
}

// TestLakeFailure checks a failing bucket gets 503 and no 200.
func TestLakeFailure(t *testing.T) {
	g := &gate{Bucket: lake.Dir(t.TempDir()), fail: errors.New("disk on fire")}
	if err := lake.EnsurePlaceholders(context.Background(), g.Bucket); err != nil { // so that only event objects reach the gate
		t.Fatal(err)
	}
	hs, _ := newServer(t, ingest.Options{Bucket: g})
	status, _ := post(t, hs.URL, "", batch("", event("s", testNow, "")))
	if status != 503 {
		t.Errorf("status %d, want 503", status)
	}
}

// TestRateLimit checks the per-key limit answers 429 with Retry-After.
func TestRateLimit(t *testing.T) {
	now := testNow
	hs, _ := newServer(t, ingest.Options{Keys: []string{testKey, "other-key"}, RateLimit: 1, Now: func() time.Time { return now }})
	if st, _ := post(t, hs.URL, testKey, batch("", event("s", testNow, ""))); st != 200 {
		t.Fatalf("first: %d", st)
	}
	if st, _ := post(t, hs.URL, testKey, batch("", event("s", testNow, ""))); st != 429 {
		t.Fatalf("second at the same instant: %d, want 429", st)
	}
	if st, _ := post(t, hs.URL, "other-key", batch("", event("s", testNow, ""))); st != 200 {
		t.Fatalf("another key: %d, want 200", st)
	}
}

// TestNewErrors checks bad Options.
func TestNewErrors(t *testing.T) {
	for _, o := range []ingest.Options{
		{},
		{Bucket: lake.Dir(t.TempDir()), Keys: []string{""}},
		{Bucket: lake.Dir(t.TempDir()), Keys: []string{"a", "a"}},
		{Bucket: lake.Dir(t.TempDir()), MaxInFlight: -1},
		{Bucket: lake.Dir(t.TempDir()), ScopedKeys: []ingest.Key{{Secret: "k", StorePrefixes: []string{""}}}},
	} {
		if _, err := ingest.New(o); !errors.Is(err, ingest.ErrInvalidOptions) {
			t.Errorf("New(%+v) = %v, want ErrInvalidOptions", o, err)
		}
	}
}
