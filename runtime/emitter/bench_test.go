package emitter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// benchEmit measures Emit on the hot path: validate, stamp, encode into
// memory. The timer stops while memory is drained to a loopback server every
// 4096 events, so neither delivery nor a spill is measured.
func benchEmit(b *testing.B, ev events.Event) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	em, err := emitter.New(openStore(b), emitter.Options{Endpoint: srv.URL, BatchSize: 1000, MaxPending: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := em.Emit(ev); err != nil {
			b.Fatal(err)
		}
		if i%4096 == 4095 {
			b.StopTimer()
			if err := em.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
}

// BenchmarkEmit: the hot path for the common kinds. The event is boxed once,
// outside the loop (boxing a struct into events.Event is the caller's
// allocation).
func BenchmarkEmit(b *testing.B) {
	b.Run("custom-2-fields", func(b *testing.B) {
		benchEmit(b, events.Custom{Type: "user.action", Fields: map[string]any{"userId": "u-123", "n": 42}})
	})
	b.Run("custom-1-field", func(b *testing.B) {
		benchEmit(b, events.Custom{Type: "user.action", Fields: map[string]any{"userId": "u-123"}})
	})
	b.Run("rpc.call", func(b *testing.B) {
		benchEmit(b, events.RPCCall{Method: "sendMessage", DurationMs: 1.25, Success: true})
	})
	b.Run("track", func(b *testing.B) {
		benchEmit(b, events.Client{Type: "track", Event: "signup", UserID: "u-1"})
	})
	// Baseline for the ratio in BENCHMARKS.md: what encoding one such event
	// with encoding/json costs on this machine in this run (no validation,
	// no queue), the way a naive emitter would.
	// What formatting one "ts" costs here (every event needs one; the
	// events package does it with time.Time.AppendFormat).
	b.Run("baseline-ts-format", func(b *testing.B) {
		buf := make([]byte, 0, 64)
		b.ReportAllocs()
		for range b.N {
			buf = time.Now().UTC().AppendFormat(buf[:0], events.TimeLayout)
		}
	})
	b.Run("baseline-json.Marshal", func(b *testing.B) {
		do := events.Identity{ID: "0123456789abcdef"}
		b.ReportAllocs()
		for i := range b.N {
			out, err := json.Marshal(map[string]any{
				"type": "user.action", "ts": time.Now().UTC().Format(events.TimeLayout), "do": do,
				"id": "0123456789abcdef-e" + strconv.Itoa(i), "userId": "u-123", "n": 42,
			})
			if err != nil || len(out) == 0 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCDCKeepUp: Put runs flat out on a generic collection for a fixed
// window while Run delivers the changes to a loopback server and a lake.Dir.
// It reports the write rate, each sink's delivery rate over the same window,
// the largest backlog seen (changes written but not yet delivered by both
// sinks, sampled every 10ms) and how long the rest took to drain. One op is
// one window.
func BenchmarkCDCKeepUp(b *testing.B) {
	const window = 2 * time.Second
	ctx := context.Background()
	var delivered atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		delivered.Add(int64(bytes.Count(body, []byte(`{"type":`))))
	}))
	defer srv.Close()
	var writes, httpDone, lakeDone, maxBacklog int64
	var drain time.Duration
	for range b.N {
		store := openStore(b)
		users, err := cdc.NewCollection[user](store, "users")
		if err != nil {
			b.Fatal(err)
		}
		em, err := emitter.New(store, emitter.Options{
			Endpoint: srv.URL, Bucket: lake.Dir(b.TempDir()), CDC: true, FlushInterval: 50 * time.Millisecond,
		})
		if err != nil {
			b.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = em.Run(runCtx); close(done) }()
		var written atomic.Int64
		stop := make(chan struct{})
		writerDone := make(chan struct{})
		go func() {
			defer close(writerDone)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := users.Put(ctx, strconv.Itoa(i%5000), user{Name: "n", Age: i}); err != nil {
					b.Error(err)
					return
				}
				written.Add(1)
			}
		}()
		startStats := em.Stats()
		deadline := time.Now().Add(window)
		for time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			st := em.Stats()
			cur := min(cdcSeq(st.HTTP.CDCCursor), cdcSeq(st.Lake.CDCCursor))
			maxBacklog = max(maxBacklog, written.Load()-cur)
		}
		st := em.Stats()
		close(stop)
		<-writerDone
		writes += written.Load()
		httpDone += int64(st.HTTP.Delivered - startStats.HTTP.Delivered)
		lakeDone += int64(st.Lake.Delivered - startStats.Lake.Delivered)
		t := time.Now()
		for em.Stats().Lake.Delivered < uint64(written.Load()) || em.Stats().HTTP.Delivered < uint64(written.Load()) {
			if time.Since(t) > time.Minute {
				b.Fatal("backlog did not drain")
			}
			time.Sleep(time.Millisecond)
		}
		drain += time.Since(t)
		cancel()
		<-done
	}
	secs := (window * time.Duration(b.N)).Seconds()
	b.ReportMetric(float64(writes)/secs, "writes/s")
	b.ReportMetric(float64(httpDone)/secs, "http_delivered/s")
	b.ReportMetric(float64(lakeDone)/secs, "lake_delivered/s")
	b.ReportMetric(float64(maxBacklog), "max_backlog")
	b.ReportMetric(drain.Seconds()*1000/float64(b.N), "drain_ms")
}

func cdcSeq(b cdc.Bookmark) int64 {
	n, _ := b.Seq()
	return n
}
