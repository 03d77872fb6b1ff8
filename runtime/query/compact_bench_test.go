package query

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/lake"
)

// The compaction benchmarks (BenchmarkCompact*) run only with
// EVENTS_COMPACT_BENCH=1: they write lakes of 200k and 1M events into the
// temp dir (reused by later runs) and take minutes.
const compactBenchEnv = "EVENTS_COMPACT_BENCH"

func needCompactBench(b *testing.B) {
	if os.Getenv(compactBenchEnv) == "" {
		b.Skip("set " + compactBenchEnv + "=1 to run the compaction benchmarks")
	}
}

// copyDir copies a lake folder (cp -r).
func copyDir(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// syncTree makes every file and folder under root durable (fsync), so no
// write-back of a copy is left to compete with what is timed next.
func syncTree(tb testing.TB, root string) {
	tb.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_ = f.Sync() // a folder cannot be synced everywhere
		return f.Close()
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// dirBytes is the size of the events objects under root.
func dirBytes(tb testing.TB, root string) (n int64, objects int) {
	tb.Helper()
	filepath.WalkDir(filepath.Join(root, "events"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".jsonl") || strings.HasSuffix(p, ".parquet")) {
			if info, err := d.Info(); err == nil {
				n += info.Size()
				objects++
			}
		}
		return nil
	})
	return n, objects
}

// heapPeak samples the live heap every 5 ms until stop is called, which
// returns the peak growth over the heap when it started.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		if peak < base {
			return 0
		}
		return peak - base
	}
}

// compacted returns a compacted copy of the lake folder src (made once and
// kept beside it), reporting the compaction's speed and heap growth.
func compacted(b *testing.B, src string) string {
	dst := src + "-compacted"
	done := filepath.Join(dst, "complete")
	if _, err := os.Stat(done); err == nil {
		return dst
	}
	os.RemoveAll(dst)
	copyDir(b, src, dst)
	// The copy's write-back would slow Compact's own file system work: a
	// real lake was written long before it is compacted.
	syncTree(b, dst)
	// The floor of Compact's removals: removing the same input objects
	// with os.RemoveAll, from a second copy.
	floor := dst + "-rm"
	os.RemoveAll(floor)
	copyDir(b, filepath.Join(src, "events"), floor)
	syncTree(b, floor)
	rmStart := time.Now()
	if err := os.RemoveAll(floor); err != nil {
		b.Fatal(err)
	}
	b.Logf("os.RemoveAll of a copy of %s's events objects: %s", filepath.Base(src), time.Since(rmStart))
	stop := heapPeak()
	start := time.Now()
	res, err := lake.Compact(context.Background(), lake.Dir(dst), lake.CompactOptions{Before: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	elapsed := time.Since(start)
	growth := stop()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("Compact %s: %+v in %s: %.0f events/s, heap growth %.1f MB, bytes %d -> %d (%.1fx)", filepath.Base(src), res, elapsed,
		float64(res.Events)/elapsed.Seconds(), float64(growth)/(1<<20), res.BytesIn, res.BytesOut, float64(res.BytesIn)/float64(res.BytesOut))
	if err := os.WriteFile(done, []byte(elapsed.String()+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	return dst
}

// qualify matches the de-duplication clause of Source's SQL.
var qualify = regexp.MustCompile(`(?s)\n  WINDOW w AS .*? END\)`)

// noDedupe returns q without Source's de-duplication (to measure its cost).
func noDedupe(b *testing.B, q string) string {
	out := qualify.ReplaceAllString(q, ")")
	if out == q {
		b.Fatalf("no QUALIFY in\n%s", q)
	}
	return out
}

// compareLakes times each query on the lakes before and after compaction,
// alternately in the same run, each with and without the id
// de-duplication, checks they give the same number of rows, and reports the
// mean of each and the speed-up.
func compareLakes(b *testing.B, before, after string, queries map[string]func(root string) (string, error)) {
	db := openDuckDB(b, "")
	for name, build := range queries {
		qb, err := build(before)
		if err != nil {
			b.Fatal(err)
		}
		qa, err := build(after)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			var t [4]time.Duration
			for b.Loop() {
				var n [4]int
				for i, q := range []string{qb, qa, noDedupe(b, qb), noDedupe(b, qa)} {
					start := time.Now()
					n[i] = drain(b, db, q)
					t[i] += time.Since(start)
				}
				if n[0] != n[1] || n[0] != n[2] || n[0] != n[3] {
					b.Fatalf("rows: before %d, after %d, without dedupe %d, %d", n[0], n[1], n[2], n[3])
				}
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(ms(t[0]), "ms-jsonl")
			b.ReportMetric(ms(t[1]), "ms-parquet")
			b.ReportMetric(float64(t[0])/float64(t[1]), "speedup")
			b.ReportMetric(ms(t[2]), "ms-jsonl-nodedupe")
			b.ReportMetric(ms(t[3]), "ms-parquet-nodedupe")
		})
	}
}

// BenchmarkCompactBenchLake compares the 1M-event bench lake (7,200 hourly
// objects, BenchmarkQueries) with its compacted copy.
func BenchmarkCompactBenchLake(b *testing.B) {
	needCompactBench(b)
	before := benchLake(b, benchEvents(b))
	after := compacted(b, before)
	day := &DateRange{Start: at("2025-01-05T00:00:00.000Z"), End: at("2025-01-05T23:59:59.999Z")}
	compareLakes(b, before, after, map[string]func(string) (string, error){
		"History/one-document": func(r string) (string, error) {
			return History(HistoryOptions{Root: r, Collection: "users", DocID: "doc-42"})
		},
		"History/one-document-one-store": func(r string) (string, error) {
			return History(HistoryOptions{Root: r, DOID: "store-03", Collection: "users", DocID: "doc-42"})
		},
		"Latency/all":   func(r string) (string, error) { return Latency(LatencyOptions{Root: r}) },
		"Build/one-day": func(r string) (string, error) { return Build(Options{Root: r, DateRange: day}) },
		"PITRRange/one-store-1000": func(r string) (string, error) {
			return PITRRange(PITROptions{Root: r, DOID: "store-03", StartBookmark: bm(10000), EndBookmark: bm(11000)})
		},
	})
}

// smallLake writes ~200k events in ~20,000 small objects over one day: 500
// stores, each writing its own objects of 10 events (single-store
// emitters) for half of its events and through a fleet writer (objects of
// 10 events of many stores) for the other half.
func smallLake(b *testing.B) string {
	dir := filepath.Join(os.TempDir(), "events-compact-bench-small-v1")
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	bucket := lake.Dir(dir)
	const stores, perStore, perObject = 500, 400, 10
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, stores)
	sem := make(chan struct{}, 8)
	for s := range stores {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			id := events.Identity{ID: fmt.Sprintf("tenant-%03d", s), Class: []string{"Tenant", "Room"}[s%2], Colo: "AMS"}
			var enc []lakewrite.EncodedEvent
			bookmark := 0
			for i := range perStore {
				ts := day.Add(time.Duration(i) * 24 * time.Hour / perStore).Add(time.Duration(s) * time.Millisecond)
				var ev events.Event
				if i%2 == 0 {
					ev = events.RPCCall{TS: ts, Method: []string{"get", "put"}[i%4/2], DurationMs: float64(i%100) / 2, Success: i%31 != 0}
				} else {
					bookmark++
					ev = events.CollectionChange{Type: events.TypeCollectionUpdate, TS: ts, Collection: "users", DocID: fmt.Sprintf("u%d", i%20),
						Doc: []byte(fmt.Sprintf(`{"n":%d,"name":"user %d"}`, i, i%20)), Bookmark: fmt.Sprintf("%020d", bookmark)}
				}
				js, err := ev.AppendJSON(nil, events.Envelope{TS: ts, DO: id, ID: fmt.Sprintf("%s-%d", id.ID, i)})
				if err != nil {
					errs <- err
					return
				}
				enc = append(enc, lakewrite.EncodedEvent{TS: ts, Seq: uint64(i), JSON: js})
				if len(enc) == perObject {
					if (i/perObject)%2 == 0 {
						_, err = lakewrite.WriteEvents(context.Background(), bucket, id, enc)
					} else {
						// A fleet's object: written under the writer's name.
						err = writeFleet(bucket, fmt.Sprintf("w%d", s%4), enc)
					}
					if err != nil {
						errs <- err
						return
					}
					enc = enc[:0]
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// writeFleet writes enc as one many-store object (lakeformat.WriterKey).
func writeFleet(bucket lake.Bucket, writer string, enc []lakewrite.EncodedEvent) error {
	var body strings.Builder
	for _, e := range enc {
		body.Write(e.JSON)
		body.WriteByte('\n')
	}
	key := fmt.Sprintf("events/%s/_w-%s_%d_%020d_%016x.jsonl", enc[0].TS.UTC().Format("2006/01/02/15"), writer, enc[0].TS.UnixMilli(), enc[0].Seq, len(body.String())+int(enc[0].Seq))
	return bucket.Put(context.Background(), key, strings.NewReader(body.String()), lake.PutOptions{})
}

// BenchmarkCompactSmallObjects compares a lake of ~200k events in ~20,000
// small objects with its compacted copy.
func BenchmarkCompactSmallObjects(b *testing.B) {
	needCompactBench(b)
	before := smallLake(b)
	after := compacted(b, before)
	nb, ob := dirBytes(b, before)
	na, oa := dirBytes(b, after)
	b.Logf("small-objects lake: %d objects, %d bytes; compacted: %d objects, %d bytes (%.1fx smaller)", ob, nb, oa, na, float64(nb)/float64(na))
	compareLakes(b, before, after, map[string]func(string) (string, error){
		"Build/all":   func(r string) (string, error) { return Build(Options{Root: r}) },
		"Latency/all": func(r string) (string, error) { return Latency(LatencyOptions{Root: r}) },
		"History/one-doc": func(r string) (string, error) {
			return History(HistoryOptions{Root: r, Collection: "users", DocID: "u7"})
		},
		"History/one-store": func(r string) (string, error) {
			return History(HistoryOptions{Root: r, DOID: "tenant-042", Collection: "users", DocID: "u7"})
		},
	})
}
