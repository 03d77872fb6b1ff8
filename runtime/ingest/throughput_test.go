package ingest_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/ingest"
	"github.com/dotdo/events/runtime/lake"
)

// floor is the floor of durable ingest: it reads the body and appends it
// to one file with an fsync per request.
type floor struct {
	mu sync.Mutex
	f  *os.File
}

func (fl *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	fl.mu.Lock()
	_, err = fl.f.Write(body)
	if err == nil {
		err = fl.f.Sync()
	}
	fl.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Write([]byte(`{"accepted":1000}`))
}

// throughputBodies returns n distinct 1000-event batches of ~300-byte
// events, upstream-shaped (no ids, no batchId) when bare, else as this
// module's emitter sends them (ids and a batchId).
func throughputBodies(n int, bare bool) [][]byte {
	now := time.Now().UTC().Add(-time.Minute)
	out := make([][]byte, n)
	for k := range out {
		var b strings.Builder
		b.WriteString(`{"events":[`)
		for i := range 1000 {
			if i > 0 {
				b.WriteByte(',')
			}
			id := ""
			if !bare {
				id = fmt.Sprintf(`"id":"t%d-e%d",`, k, i)
			}
			fmt.Fprintf(&b, `{"type":"collection.update","ts":%q,"do":{"id":"tenant-%d","class":"Tenant","colo":"AMS"},%s"collection":"users","docId":"u%d","doc":{"name":"Ann Example","email":"ann@example.com","age":%d,"tags":["a","b"],"active":true},"bookmark":"%020d"}`,
				now.Add(time.Duration(i)*time.Millisecond).Format("2006-01-02T15:04:05.000Z"), (k*7+i)%50, id, i, i%90, k*1000+i)
		}
		b.WriteString(`]`)
		if !bare {
			fmt.Fprintf(&b, `,"batchId":"batch-%d"`, k)
		}
		b.WriteString(`}`)
		out[k] = []byte(b.String())
	}
	return out
}

// drive posts bodies from 4 concurrent clients to url for d and returns
// the events accepted per second.
func drive(t *testing.T, client *http.Client, url string, bodies [][]byte, d time.Duration) float64 {
	var accepted atomic.Int64
	var next atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				body := bodies[int(next.Add(1))%len(bodies)]
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
					return
				}
				accepted.Add(1000)
			}
		}()
	}
	wg.Wait()
	return float64(accepted.Load()) / time.Since(start).Seconds()
}

// TestThroughputRatio measures events/s accepted by the ingest against the
// floor (read the body, append it to a file, fsync), 4 clients, 1000-event
// batches, on loopback, both writing to the same disk, interleaved. It is
// a measurement, not a check: run it with
//
//	EVENTS_BENCH_INGEST=1 EVENTS_BENCH_DIR=/var/tmp go test -run TestThroughputRatio -v ./runtime/ingest/
func TestThroughputRatio(t *testing.T) {
	if os.Getenv("EVENTS_BENCH_INGEST") == "" {
		t.Skip("set EVENTS_BENCH_INGEST=1 to measure")
	}
	base := os.Getenv("EVENTS_BENCH_DIR")
	if base == "" {
		base = "/var/tmp"
	}
	dir, err := os.MkdirTemp(base, "ingest-bench")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	f, err := os.OpenFile(filepath.Join(dir, "floor.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fl := httptest.NewServer(&floor{f: f})
	defer fl.Close()
	srv, err := ingest.New(ingest.Options{Bucket: lake.Dir(filepath.Join(dir, "lake")), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	in := httptest.NewServer(srv)
	defer in.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}

	rounds, _ := strconv.Atoi(os.Getenv("EVENTS_BENCH_ROUNDS"))
	if rounds <= 0 {
		rounds = 4
	}
	const per = 3 * time.Second
	for _, bare := range []bool{true, false} {
		bodies := throughputBodies(64, bare)
		var sumFloor, sumIngest float64
		for r := range rounds {
			a := drive(t, client, fl.URL+"/ingest", bodies, per)
			b := drive(t, client, in.URL+"/ingest", bodies, per)
			t.Logf("bare=%v round %d: floor %.0f events/s, ingest %.0f events/s, ratio %.2f", bare, r, a, b, b/a)
			sumFloor += a
			sumIngest += b
		}
		t.Logf("bare=%v (upstream-shaped=%v) body %d bytes: floor %.0f events/s, ingest %.0f events/s, RATIO %.2f",
			bare, bare, len(bodies[0]), sumFloor/float64(rounds), sumIngest/float64(rounds), sumIngest/sumFloor)
	}
}
