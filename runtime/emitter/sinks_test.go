package emitter_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/laketest"
)

// flakyBucket is a real bucket whose Puts fail while down is set (a bucket
// that is unreachable) or, with failEvery, every failEvery-th Put, counting
// the Puts that reached it.
type flakyBucket struct {
	lake.Bucket
	down      atomic.Bool
	failEvery int64
	calls     atomic.Int64
	puts      atomic.Int64
}

func (f *flakyBucket) Put(ctx context.Context, key string, body io.ReadSeeker, opts lake.PutOptions) error {
	n := f.calls.Add(1)
	if f.down.Load() || (f.failEvery > 0 && n%f.failEvery == 0) {
		return errors.New("bucket unreachable")
	}
	f.puts.Add(1)
	return f.Bucket.Put(ctx, key, body, opts)
}

// TestLakeFailureDoesNotResendHTTP: while the bucket fails, HTTP delivers
// once; the lake catches up later on its own, without a second HTTP send.
func TestLakeFailureDoesNotResendHTTP(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	bucket := &flakyBucket{Bucket: lake.Dir(t.TempDir())}
	bucket.down.Store(true)
	clk := newClock(t0)
	store := openStore(t, cdc.WithRetention(0, 0)) // prune once delivered
	em, err := emitter.New(store, emitter.Options{Endpoint: in.URL, Bucket: bucket, Now: clk.Now, CDC: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	users := newUsers(t, store)
	for i := range 20 {
		mustEmit(t, em, custom("t", i))
		if err := users.Put(ctx, fmt.Sprint("u", i), user{Name: "n"}); err != nil {
			t.Fatal(err)
		}
	}
	err = em.Flush(ctx)
	var de *emitter.DeliveryError
	if !errors.As(err, &de) || de.Sink != "lake" {
		t.Fatalf("flush: %v", err)
	}
	if st := em.Stats(); st.HTTP.Delivered != 40 || st.Lake.Delivered != 0 || st.Outbox != 20 {
		t.Fatalf("stats %+v", st)
	}
	reqs := len(in.requests())
	// More attempts while the bucket is down: no HTTP re-send.
	for range 3 {
		clk.Advance(2 * time.Minute)
		_ = em.HandleAlarm(ctx)
	}
	if len(in.requests()) != reqs {
		t.Fatal("lake failure re-sent to HTTP")
	}
	bucket.down.Store(false)
	clk.Advance(2 * time.Minute)
	if err := em.HandleAlarm(ctx); err != nil {
		t.Fatal(err)
	}
	if len(in.requests()) != reqs {
		t.Fatal("lake recovery re-sent to HTTP")
	}
	counts := idCounts(lakeEvents(t, bucket))
	if len(counts) != 40 {
		t.Fatalf("lake holds %d events", len(counts))
	}
	for id, c := range counts {
		if c != 1 {
			t.Fatalf("%s %d times in the lake", id, c)
		}
	}
	if st := em.Stats(); st.Outbox != 0 || st.Pending != 0 {
		t.Fatalf("outbox not pruned: %+v", st)
	}
	// Delivered changes are pruned from the log (the newest row stays).
	rest, err := cdcx.Store(store).ReadLog(ctx, "", 100)
	if err != nil || len(rest) != 1 {
		t.Fatalf("change log after delivery: %d rows, %v", len(rest), err)
	}
}

// TestHTTPFailureDoesNotRewriteLake: the reverse: the lake is written once
// while HTTP is down.
func TestHTTPFailureDoesNotRewriteLake(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	in.script(mode503)
	bucket := &flakyBucket{Bucket: lake.Dir(t.TempDir())}
	clk := newClock(t0)
	em, err := emitter.New(openStore(t), emitter.Options{Endpoint: in.URL, Bucket: bucket, Now: clk.Now, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		mustEmit(t, em, custom("t", i))
	}
	if err := em.Flush(ctx); err == nil {
		t.Fatal("flush succeeded with HTTP down")
	}
	puts := bucket.puts.Load()
	for range 3 {
		clk.Advance(2 * time.Minute)
		_ = em.HandleAlarm(ctx)
	}
	in.script(modeOK)
	clk.Advance(2 * time.Minute)
	if err := em.HandleAlarm(ctx); err != nil {
		t.Fatal(err)
	}
	if bucket.puts.Load() != puts {
		t.Fatalf("HTTP failure rewrote the lake: %d puts, then %d", puts, bucket.puts.Load())
	}
	if ns := customNs(in.events(), "t"); !slices.Equal(ns, seq(0, 20)) {
		t.Fatalf("HTTP got %v", ns)
	}
}

// TestLakeLayout: keys, hour/day/year rollover, body and metadata, on a
// local folder and on S3 (gofakes3 through the real client).
func TestLakeLayout(t *testing.T) {
	for name, bucket := range laketest.Buckets(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			// Delivered after midnight; each event lands under its own hour.
			clk := newClock(time.Date(2025, 1, 1, 0, 0, 5, 0, time.UTC))
			id := events.Identity{ID: "shop:1", Name: "Shop", Colo: "SJC"}
			em, err := emitter.New(openStore(t), emitter.Options{Bucket: bucket, Identity: id, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			late := time.Date(2024, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
			mustEmit(t, em, events.Custom{Type: "t", TS: late, Fields: map[string]any{"n": 0}})
			mustEmit(t, em, custom("t", 1)) // now: 2025-01-01T00:00:05Z
			mustEmit(t, em, events.Custom{Type: "t", TS: late, Fields: map[string]any{"n": 2}})
			if err := em.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			objs := readLake(t, bucket)
			if len(objs) != 2 {
				t.Fatalf("%d objects", len(objs))
			}
			ids := map[int]string{}
			for _, o := range objs {
				for _, ev := range o.events {
					c := ev.(events.Custom)
					ids[int(c.Fields["n"].(float64))] = c.ID
				}
			}
			seqOf := func(n int) uint64 {
				var s uint64
				fmt.Sscanf(ids[n][strings.LastIndex(ids[n], "-e")+2:], "%d", &s)
				return s + 10_000_000_000_000_000_000
			}
			want := []struct {
				key string
				ns  []int
			}{
				{fmt.Sprintf("events/2024/12/31/23/shop%%3A1_%d_%020d_", late.UnixMilli(), seqOf(0)), []int{0, 2}},
				{fmt.Sprintf("events/2025/01/01/00/shop%%3A1_%d_%020d_", clk.Now().UnixMilli(), seqOf(1)), []int{1}},
			}
			for i, o := range objs {
				// The key ends with the body's digest (a key names one content).
				var body []byte
				for _, line := range o.lines {
					body = append(append(body, line...), '\n')
				}
				if wantKey := want[i].key + lakeformat.Sum(body) + ".jsonl"; o.key != wantKey {
					t.Errorf("key %s, want %s", o.key, wantKey)
				}
				if ns := customNs(o.events, "t"); !slices.Equal(ns, want[i].ns) {
					t.Errorf("%s holds %v, want %v", o.key, ns, want[i].ns)
				}
				md := o.info.Metadata
				if o.info.ContentType != "application/x-ndjson" || md["doId"] != "shop:1" || md["doName"] != "Shop" ||
					md["doColo"] != "SJC" || md["eventCount"] != fmt.Sprint(len(want[i].ns)) {
					t.Errorf("%s: content type %q metadata %v", o.key, o.info.ContentType, md)
				}
				for _, line := range o.lines {
					if !strings.HasPrefix(string(line), `{"type":"t","ts":"`) {
						t.Errorf("line %s", line)
					}
				}
			}
			if objs[0].events[0].(events.Custom).TS != late {
				t.Errorf("ts %s", objs[0].events[0].(events.Custom).TS)
			}
		})
	}
}
