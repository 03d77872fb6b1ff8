package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	analytics "gopkg.in/segmentio/analytics-go.v3"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
)

// counter is a loopback ingest server that counts the events it receives
// (by a marker each format writes once per event) and answers 200.
type counter struct {
	srv    *httptest.Server
	events atomic.Int64
	reqs   atomic.Int64
}

func newCounter(tb testing.TB, marker string) *counter {
	c := &counter{}
	m := []byte(marker)
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.events.Add(int64(bytes.Count(body, m)))
		c.reqs.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	tb.Cleanup(c.srv.Close)
	return c
}

func (c *counter) waitFor(tb testing.TB, n int64) {
	deadline := time.Now().Add(2 * time.Minute)
	for c.events.Load() < n {
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d events arrived", c.events.Load(), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// peerEvents is how many events each side sends per round.
const peerEvents = 50_000

// peerBatch is the batch size of both sides.
const peerBatch = 100

// transport returns the HTTP transport both sides use: keep-alive with
// enough idle connections for concurrent requests.
func transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return tr
}

// variant is one way of running the emitter.
type variant struct {
	name       string
	maxPending int // 0: the default
	inFlight   int // 0: the default (1)
}

// runEmitter emits n custom events with Run delivering in the background,
// then Flushes, and returns when the ingest has them all.
func runEmitter(tb testing.TB, n int, v variant) time.Duration {
	ctx := context.Background()
	c := newCounter(tb, `{"type":`)
	store, err := cdc.Open(ctx, filepath.Join(tb.TempDir(), "s.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	em, err := emitter.New(store, emitter.Options{
		Endpoint: c.srv.URL, APIKey: "key", BatchSize: peerBatch, MaxPending: v.maxPending,
		HTTPInFlight: v.inFlight, HTTPClient: &http.Client{Transport: transport()},
	})
	if err != nil {
		tb.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go em.Run(runCtx)
	start := time.Now()
	for i := range n {
		for {
			err := em.Emit(events.Custom{Type: "user.action", Fields: map[string]any{"userId": "u-123", "n": i}})
			if err == nil {
				break
			}
			if !errors.Is(err, emitter.ErrBacklogFull) {
				tb.Fatal(err)
			}
			// Memory is full while the outbox write runs: back off.
			time.Sleep(50 * time.Microsecond)
		}
	}
	if err := em.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	c.waitFor(tb, int64(n))
	d := time.Since(start)
	if err := em.Close(ctx); err != nil {
		tb.Fatal(err)
	}
	return d
}

// runAnalytics enqueues n track events with analytics-go and returns when
// the ingest has them all (Close flushes).
func runAnalytics(tb testing.TB, n int) time.Duration {
	c := newCounter(tb, `"messageId"`)
	client, err := analytics.NewWithConfig("key", analytics.Config{
		Endpoint:  c.srv.URL,
		BatchSize: peerBatch,
		Interval:  time.Second,
		Transport: transport(),
		Logger:    analytics.StdLogger(log.New(io.Discard, "", 0)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	for i := range n {
		if err := client.Enqueue(analytics.Track{
			UserId: "u-123", Event: "user.action", Properties: analytics.NewProperties().Set("n", i),
		}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := client.Close(); err != nil {
		tb.Fatal(err)
	}
	c.waitFor(tb, int64(n))
	return time.Since(start)
}

// BenchmarkPeer delivers the same number of events, in batches of the same
// size, to the same kind of loopback server with analytics-go and with the
// emitter (several configurations), one after the other in each op. It
// reports the median rate of each and the median of the per-op ratios
// (emitter / analytics-go), which cancels most of the drift of a shared
// machine. Run with -benchtime Nx for N ops.
func BenchmarkPeer(b *testing.B) {
	variants := []variant{
		{name: "default"},                      // every option at its default
		{name: "inflight4", inFlight: 4},       // 4 HTTP batches in flight
		{name: "spill10k", maxPending: 10_000}, // memory overflows: the SQLite outbox path
	}
	theirs := make([]float64, 0, b.N)
	ours := make([][]float64, len(variants))
	ratios := make([][]float64, len(variants))
	rate := func(d time.Duration) float64 { return peerEvents / d.Seconds() }
	for range b.N {
		t := rate(runAnalytics(b, peerEvents))
		theirs = append(theirs, t)
		for i, v := range variants {
			o := rate(runEmitter(b, peerEvents, v))
			ours[i] = append(ours[i], o)
			ratios[i] = append(ratios[i], o/t)
		}
	}
	b.ReportMetric(median(theirs), "analytics_ev/s")
	for i, v := range variants {
		b.ReportMetric(median(ours[i]), "emitter_"+v.name+"_ev/s")
		b.ReportMetric(median(ratios[i]), "ratio_"+v.name)
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
