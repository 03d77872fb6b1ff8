package snapshot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/dotdo/events/internal/cdcx"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// peakHeap runs fn and returns the highest HeapInuse seen while it ran,
// above what was in use before, sampled every 5 ms.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// benchDoc is a document of about 120 bytes.
func benchDoc(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"name":"user %d","email":"user%d@example.com","role":"member","active":true,"age":%d,"tags":["a","b"]}`, i, i, i%90))
}

// fillStore puts n documents in collection "docs" of s, in transactions of
// 10 000, and prunes the change log they make.
func fillStore(tb testing.TB, s *cdc.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	c := coll(tb, s, "docs")
	batch := make([]cdc.Entry[json.RawMessage], 0, 10_000)
	for i := 0; i < n; i++ {
		batch = append(batch, cdc.Entry[json.RawMessage]{ID: fmt.Sprintf("doc-%08d", i), Doc: benchDoc(i)})
		if len(batch) == cap(batch) || i == n-1 {
			if err := c.PutMany(ctx, batch); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := cdcx.Store(s).PruneChanges(ctx, bookmark(tb, s)); err != nil {
		tb.Fatal(err)
	}
}

const benchDocs = 100_000

func reportDocs(b *testing.B, n int, peak uint64) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkCreate100k snapshots 100k documents to a local folder.
func BenchmarkCreate100k(b *testing.B) {
	ctx := context.Background()
	s := openStore(b)
	fillStore(b, s, benchDocs)
	bucket := lake.Dir(b.TempDir())
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			if _, err := snapshot.Create(ctx, s, "bench", snapshot.Options{Bucket: bucket}); err != nil {
				b.Fatal(err)
			}
		}))
	}
	reportDocs(b, benchDocs, peak)
}

// BenchmarkBaselineList100k reads the same 100k documents with one
// Collection.List (all in memory), the plain way to read them.
func BenchmarkBaselineList100k(b *testing.B) {
	ctx := context.Background()
	s := openStore(b)
	fillStore(b, s, benchDocs)
	c := coll(b, s, "docs")
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			docs, err := c.List(ctx, cdc.FindOptions{})
			if err != nil || len(docs) != benchDocs {
				b.Fatal(len(docs), err)
			}
		}))
	}
	reportDocs(b, benchDocs, peak)
}

// BenchmarkRestore100kFresh restores 100k documents into an empty store.
func BenchmarkRestore100kFresh(b *testing.B) {
	ctx := context.Background()
	s := openStore(b)
	fillStore(b, s, benchDocs)
	bucket := lake.Dir(b.TempDir())
	res, err := snapshot.Create(ctx, s, "bench", snapshot.Options{Bucket: bucket})
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		fresh := openStore(b)
		b.StartTimer()
		peak = max(peak, peakHeap(func() {
			if _, err := snapshot.Restore(ctx, fresh, bucket, res.Key); err != nil {
				b.Fatal(err)
			}
		}))
	}
	reportDocs(b, benchDocs, peak)
}

// BenchmarkRestore100kSame restores 100k documents over themselves: every
// document is compared, none written.
func BenchmarkRestore100kSame(b *testing.B) {
	ctx := context.Background()
	s := openStore(b)
	fillStore(b, s, benchDocs)
	bucket := lake.Dir(b.TempDir())
	res, err := snapshot.Create(ctx, s, "bench", snapshot.Options{Bucket: bucket})
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			rr, err := snapshot.Restore(ctx, s, bucket, res.Key)
			if err != nil || rr.Inserted+rr.Updated+rr.Deleted != 0 {
				b.Fatal(rr, err)
			}
		}))
	}
	reportDocs(b, benchDocs, peak)
}

// BenchmarkBaselinePutMany100k writes the same 100k documents into an
// empty store with one Collection.PutMany (one transaction).
func BenchmarkBaselinePutMany100k(b *testing.B) {
	ctx := context.Background()
	entries := make([]cdc.Entry[json.RawMessage], benchDocs)
	for i := range entries {
		entries[i] = cdc.Entry[json.RawMessage]{ID: fmt.Sprintf("doc-%08d", i), Doc: benchDoc(i)}
	}
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		fresh := openStore(b)
		c := coll(b, fresh, "docs")
		b.StartTimer()
		peak = max(peak, peakHeap(func() {
			if err := c.PutMany(ctx, entries); err != nil {
				b.Fatal(err)
			}
		}))
	}
	reportDocs(b, benchDocs, peak)
}

// pitrFixture is a store of 10k documents with a snapshot, then 10k
// changes (updates, inserts, deletes) shipped to the lake.
func pitrFixture(b *testing.B) (*cdc.Store, lake.Bucket, cdc.Bookmark) {
	ctx := context.Background()
	s := openStore(b)
	fillStore(b, s, 10_000)
	bucket := lake.Dir(b.TempDir())
	if _, err := snapshot.Create(ctx, s, "bench", snapshot.Options{Bucket: bucket}); err != nil {
		b.Fatal(err)
	}
	start := bookmark(b, s)
	c := coll(b, s, "docs")
	for i := range 10_000 {
		id := fmt.Sprintf("doc-%08d", (i*7919)%12_000)
		if i%10 == 9 {
			if _, err := c.Delete(ctx, id); err != nil {
				b.Fatal(err)
			}
			continue
		}
		if err := c.Put(ctx, id, benchDoc(i+1_000_000)); err != nil {
			b.Fatal(err)
		}
	}
	end := ship(b, s, bucket, "bench", start, 100)
	return s, bucket, end
}

// BenchmarkRestoreTo10kFromLake restores a fresh store to the end of 10k
// changes after a snapshot: the snapshot, then 10k events from the lake
// (100 objects of 100 events).
func BenchmarkRestoreTo10kFromLake(b *testing.B) {
	ctx := context.Background()
	_, bucket, end := pitrFixture(b)
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		fresh := openStore(b)
		b.StartTimer()
		peak = max(peak, peakHeap(func() {
			res, err := snapshot.RestoreTo(ctx, fresh, bucket, "bench", snapshot.Target{Bookmark: end})
			if err != nil || res.Replayed < 9_000 {
				b.Fatal(res, err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// BenchmarkRestoreTo10kFromLog restores the store itself back to the
// snapshot's state plus its 10k changes read from its own change log (the
// target is its current state, so nothing is written).
func BenchmarkRestoreTo10kFromLog(b *testing.B) {
	ctx := context.Background()
	s, bucket, end := pitrFixture(b)
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			res, err := snapshot.RestoreTo(ctx, s, bucket, "bench", snapshot.Target{Bookmark: end})
			if err != nil || res.FromLog < 9_000 {
				b.Fatal(res, err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// TestMillionDocuments snapshots and restores a store of a million
// documents and reports time and peak heap. It takes minutes: it runs only
// with SNAPSHOT_MILLION=1 and not under -short.
func TestMillionDocuments(t *testing.T) {
	if testing.Short() || os.Getenv("SNAPSHOT_MILLION") == "" {
		t.Skip("set SNAPSHOT_MILLION=1 to run")
	}
	const n = 1_000_000
	ctx := context.Background()
	s := openStore(t)
	start := time.Now()
	fillStore(t, s, n)
	t.Logf("filled %d documents in %v", n, time.Since(start))
	bucket := lake.Dir(t.TempDir())
	var res snapshot.Result
	start = time.Now()
	peak := peakHeap(func() {
		var err error
		if res, err = snapshot.Create(ctx, s, "million", snapshot.Options{Bucket: bucket}); err != nil {
			t.Fatal(err)
		}
	})
	d := time.Since(start)
	t.Logf("Create: %d docs, %d MB body, %v (%.0f docs/s), peak heap +%.1f MB", res.TotalDocs, res.Size>>20, d, n/d.Seconds(), float64(peak)/(1<<20))
	if res.TotalDocs != n {
		t.Fatalf("%d docs", res.TotalDocs)
	}

	fresh := openStore(t)
	start = time.Now()
	var rr snapshot.RestoreResult
	peak = peakHeap(func() {
		var err error
		if rr, err = snapshot.Restore(ctx, fresh, bucket, res.Key); err != nil {
			t.Fatal(err)
		}
	})
	d = time.Since(start)
	t.Logf("Restore into an empty store: %d inserted, %v (%.0f docs/s), peak heap +%.1f MB", rr.Inserted, d, n/d.Seconds(), float64(peak)/(1<<20))
	if rr.Inserted != n {
		t.Fatalf("%+v", rr)
	}

	start = time.Now()
	peak = peakHeap(func() {
		var err error
		if rr, err = snapshot.Restore(ctx, s, bucket, res.Key); err != nil {
			t.Fatal(err)
		}
	})
	d = time.Since(start)
	t.Logf("Restore over the same documents: %d compared, %d written, %v (%.0f docs/s), peak heap +%.1f MB", rr.TotalDocs, rr.Inserted+rr.Updated+rr.Deleted, d, n/d.Seconds(), float64(peak)/(1<<20))
	if rr.Inserted+rr.Updated+rr.Deleted != 0 {
		t.Fatalf("%+v", rr)
	}
	// A few spot checks of content.
	c := coll(t, fresh, "docs")
	for _, i := range []int{0, 1, 499_999, n - 1} {
		doc, ok, err := c.Get(ctx, fmt.Sprintf("doc-%08d", i))
		if err != nil || !ok || compact(t, doc) != string(benchDoc(i)) {
			t.Fatalf("doc %d: %s %v %v", i, doc, ok, err)
		}
	}
}
