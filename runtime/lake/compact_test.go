package lake_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/laketest"
)

// eventSet reads every event of the lake and returns them keyed by what
// counts them once (id, or for an event without one the object and line it
// was first stored at), each as canonical JSON; it fails on two different
// events under one key.
func eventSet(t *testing.T, b lake.Bucket, sel lake.Selection) map[string]string {
	t.Helper()
	out := map[string]string{}
	for ev, err := range lake.Events(context.Background(), b, sel) {
		if err != nil {
			t.Fatal(err)
		}
		k := ev.ID
		if k == "" {
			k = fmt.Sprintf("~%s#%d", ev.Key, ev.Line)
		}
		var v any
		if err := json.Unmarshal(ev.JSON, &v); err != nil {
			t.Fatalf("%s: %v", ev.Key, err)
		}
		js, _ := json.Marshal(v)
		if old, ok := out[k]; ok && old != string(js) {
			t.Fatalf("two events under %s:\n%s\n%s", k, old, js)
		}
		out[k] = string(js)
	}
	return out
}

// compactLake writes a lake over two days: day 1 (2024-01-15) hours 10-12,
// day 2 hours 0-2, stores a, b, c, objects of one store, many stores and
// upstream's (no ids), and an event twice (a retried batch under another
// key). It returns the number of distinct events.
func compactLake(t *testing.T, b lake.Bucket) int {
	t.Helper()
	n := 0
	for _, day := range []time.Time{time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC), time.Date(2024, 1, 16, 0, 0, 0, 0, time.UTC)} {
		for h := 0; h < 3; h++ {
			hour := day.Add(time.Duration(h) * time.Hour)
			for _, store := range []string{"a", "b", "c"} {
				var lines []string
				for i := 0; i < 5; i++ {
					n++
					ts := hour.Add(time.Duration(i) * time.Minute)
					lines = append(lines, fmt.Sprintf(`{"type":"collection.insert","ts":%q,"do":{"id":%q,"class":"K"},"id":"%s-c%d","collection":"users","docId":"u%d","doc":{"n":%d},"bookmark":"%020d"}`,
						wire.FormatTime(ts), store, store, n, i, n, n))
				}
				put(t, b, lakeformat.StoreKey(hour, store, hour.UnixMilli(), uint64(n), lakeformat.Sum([]byte(strings.Join(lines, "\n")))), strings.Join(lines, "\n")+"\n", lake.PutOptions{})
				// The same last event again, in a many-store object.
				put(t, b, lakeformat.WriterKey(hour, "w1", hour.UnixMilli(), uint64(n), "0000000000000000"), lines[4]+"\n", lake.PutOptions{})
			}
			// Upstream: no ids, no final newline.
			up := fmt.Sprintf(`{"type":"track","ts":%q,"do":{"id":"a"},"event":"x"}`+"\n"+`{"type":"track","ts":%q,"do":{"id":"a"},"event":"x"}`, wire.FormatTime(hour), wire.FormatTime(hour))
			put(t, b, lakeformat.HourPrefix(hour)+fmt.Sprintf("a_%d.jsonl", hour.UnixMilli()), up, lake.PutOptions{})
			n += 2
		}
	}
	return n
}

// TestCompact: a day wholly before Before becomes day-level Parquet, the
// hours of the next day before it hour-level Parquet, later hours stay; the
// same events read back (each once), the inputs are gone, a second Compact
// finds nothing to do, a late event into a compacted hour is read and the
// next Compact folds it in.
func TestCompact(t *testing.T) {
	for name, b := range laketest.Buckets(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			total := compactLake(t, b)
			before := eventSet(t, b, lake.Selection{})
			if len(before) != total {
				t.Fatalf("%d events before, want %d", len(before), total)
			}
			var progress []string
			cut := time.Date(2024, 1, 16, 2, 0, 0, 0, time.UTC)
			res, err := lake.Compact(ctx, b, lake.CompactOptions{Before: cut, Progress: func(f string, _ lake.CompactResult) { progress = append(progress, f) }})
			if err != nil {
				t.Fatal(err)
			}
			wantFolders := []string{"events/2024/01/15/", "events/2024/01/16/00/", "events/2024/01/16/01/"}
			slices.Sort(progress) // days are compacted two at a time
			if !slices.Equal(progress, wantFolders) || res.Partitions != 3 || res.ObjectsIn != 5*7 || res.ObjectsOut != 3 || res.Events != int64(total/6*5) {
				t.Errorf("result %+v, progress %v", res, progress)
			}
			if res.BytesIn <= res.BytesOut || res.BytesOut == 0 {
				t.Errorf("bytes in %d, out %d", res.BytesIn, res.BytesOut)
			}
			after := eventSet(t, b, lake.Selection{})
			if !maps.Equal(before, after) {
				t.Fatalf("events differ after Compact: %d before, %d after", len(before), len(after))
			}
			for _, sel := range []lake.Selection{{Store: "a"}, {Store: "b", From: time.Date(2024, 1, 15, 11, 0, 0, 0, time.UTC), To: time.Date(2024, 1, 16, 1, 0, 0, 0, time.UTC)}} {
				got := eventSet(t, b, sel)
				want := map[string]string{}
				for k, v := range before {
					var e struct {
						TS string              `json:"ts"`
						DO struct{ ID string } `json:"do"`
					}
					json.Unmarshal([]byte(v), &e)
					ts, _ := wire.ParseTime(e.TS)
					if e.DO.ID == sel.Store && (sel.From.IsZero() || !ts.Truncate(time.Hour).Before(sel.From)) && (sel.To.IsZero() || !ts.Truncate(time.Hour).After(sel.To)) {
						want[k] = v
					}
				}
				if !maps.Equal(got, want) {
					t.Errorf("%+v: %d events, want %d", sel, len(got), len(want))
				}
			}
			keys := listKeys(t, b, "events/2024/")
			for _, k := range keys {
				if strings.HasSuffix(k, ".jsonl") && !strings.HasPrefix(k, "events/2024/01/16/02/") {
					t.Errorf("input left: %s", k)
				}
			}
			again, err := lake.Compact(ctx, b, lake.CompactOptions{Before: cut})
			if err != nil || again.Partitions != 0 {
				t.Errorf("second Compact: %+v, %v", again, err)
			}
			// A late event into the compacted day.
			late := time.Date(2024, 1, 15, 11, 30, 0, 0, time.UTC)
			put(t, b, lakeformat.StoreKey(late, "b", late.UnixMilli(), 999, "1111111111111111"), fmt.Sprintf(`{"type":"t","ts":%q,"do":{"id":"b"},"id":"late"}`+"\n", wire.FormatTime(late)), lake.PutOptions{})
			if got := eventSet(t, b, lake.Selection{}); len(got) != total+1 {
				t.Errorf("late event: %d events, want %d", len(got), total+1)
			}
			res, err = lake.Compact(ctx, b, lake.CompactOptions{Before: cut})
			if err != nil || res.Partitions != 1 || res.Events != int64(total/6*3+1) {
				t.Errorf("Compact after a late event: %+v, %v", res, err)
			}
			if got := eventSet(t, b, lake.Selection{}); len(got) != total+1 {
				t.Errorf("after folding the late event: %d events, want %d", len(got), total+1)
			}
			if n := len(listKeys(t, b, "events/2024/01/15/")); n != 1 {
				t.Errorf("day 1 holds %d objects, want 1", n)
			}
		})
	}
}

// TestCompactCorrupt: a corrupt line names its object and line, leaves its
// partition as it was, and the other partitions are compacted.
func TestCompactCorrupt(t *testing.T) {
	b := lake.Dir(t.TempDir())
	total := compactLake(t, b)
	bad := "events/2024/01/16/00/_w-bad_1_00000000000000000001_0000000000000000.jsonl"
	put(t, b, bad, `{"type":"t","ts":"2024-01-16T00:00:00.000Z","do":{"id":"a"},"id":"ok"}`+"\n"+`{"type":"t","ts":"2024-01-16T00:0`, lake.PutOptions{})
	before := listKeys(t, b, "events/2024/01/16/00/")
	res, err := lake.Compact(context.Background(), b, lake.CompactOptions{Before: time.Date(2024, 1, 16, 2, 0, 0, 0, time.UTC), ObjectBytes: 1000})
	if !errors.Is(err, lake.ErrCorrupt) || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("error %v", err)
	}
	if got := listKeys(t, b, "events/2024/01/16/00/"); !slices.Equal(got, before) {
		t.Errorf("corrupt partition changed:\n%v\nwant\n%v", got, before)
	}
	if res.Partitions != 2 || res.ObjectsOut < 3 {
		t.Errorf("result %+v", res)
	}
	day1 := lake.Selection{From: time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 1, 15, 23, 0, 0, 0, time.UTC)}
	if n := len(eventSet(t, b, day1)); n != total/2 {
		t.Errorf("%d events, want %d", n, total/2)
	}
	for _, o := range []lake.CompactOptions{{}, {Age: -time.Hour}, {Before: time.Now(), Age: time.Hour}, {Age: time.Hour, ObjectBytes: -1}} {
		if _, err := lake.Compact(context.Background(), b, o); !errors.Is(err, lake.ErrInvalidOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// TestCompactConcurrent: two Compacts at once lose and double nothing.
func TestCompactConcurrent(t *testing.T) {
	for name, b := range laketest.Buckets(t) {
		t.Run(name, func(t *testing.T) {
			total := compactLake(t, b)
			before := eventSet(t, b, lake.Selection{})
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = lake.Compact(context.Background(), b, lake.CompactOptions{Before: time.Date(2024, 1, 17, 0, 0, 0, 0, time.UTC), ObjectBytes: 2000})
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if after := eventSet(t, b, lake.Selection{}); !maps.Equal(before, after) || len(after) != total {
				t.Fatalf("%d events after two Compacts, want %d", len(after), total)
			}
			if _, err := lake.Compact(context.Background(), b, lake.CompactOptions{Before: time.Date(2024, 1, 17, 0, 0, 0, 0, time.UTC)}); err != nil {
				t.Fatal(err)
			}
			if after := eventSet(t, b, lake.Selection{}); !maps.Equal(before, after) {
				t.Fatalf("%d events after a third Compact, want %d", len(after), total)
			}
		})
	}
}

// TestCompactEvery: the loop compacts at once and on every tick, reports
// each run, and ends with its context; bad options are refused.
func TestCompactEvery(t *testing.T) {
	b := lake.Dir(t.TempDir())
	total := compactLake(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan lake.CompactResult, 100)
	errc := make(chan error, 1)
	go func() {
		errc <- lake.CompactEvery(ctx, b, time.Millisecond, lake.CompactOptions{Age: time.Hour, Done: func(r lake.CompactResult, err error) {
			if err != nil {
				t.Error(err)
			}
			runs <- r
		}})
	}()
	first := <-runs
	second := <-runs
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("CompactEvery returned %v", err)
	}
	if first.Partitions != 2 || second.Partitions != 0 {
		t.Errorf("runs %+v, %+v", first, second)
	}
	if n := len(eventSet(t, b, lake.Selection{})); n != total {
		t.Errorf("%d events, want %d", n, total)
	}
	for _, c := range []struct {
		every time.Duration
		opts  lake.CompactOptions
	}{{0, lake.CompactOptions{Age: time.Hour}}, {time.Second, lake.CompactOptions{}}, {time.Second, lake.CompactOptions{Before: time.Now()}}} {
		if err := lake.CompactEvery(context.Background(), b, c.every, c.opts); !errors.Is(err, lake.ErrInvalidOptions) {
			t.Errorf("%v %+v: %v", c.every, c.opts, err)
		}
	}
}

// killEnv names the lake folder a re-executed test binary compacts (see
// TestCompactKilled).
const killEnv = "LAKE_COMPACT_KILL_DIR"

// TestCompactKilledChild is the child of TestCompactKilled: it compacts the
// lake in $LAKE_COMPACT_KILL_DIR until it is killed. Without the variable
// it does nothing.
func TestCompactKilledChild(t *testing.T) {
	dir := os.Getenv(killEnv)
	if dir == "" {
		t.Skip("run by TestCompactKilled")
	}
	if _, err := lake.Compact(context.Background(), lake.Dir(dir), lake.CompactOptions{Before: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), ObjectBytes: 3000}); err != nil {
		t.Fatal(err)
	}
}

// TestCompactKilled: a Compact killed (SIGKILL) at a random moment leaves
// every event readable exactly once, and the next Compact finishes the job
// with the same events.
func TestCompactKilled(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 6 {
		dir := t.TempDir()
		b := lake.Dir(dir)
		for d := range 3 {
			day := time.Date(2024, 2, 1+d, 0, 0, 0, 0, time.UTC)
			for i := 0; i < 40; i++ {
				hour := day.Add(time.Duration(i%6) * time.Hour)
				var lines []string
				for j := range 10 {
					lines = append(lines, fmt.Sprintf(`{"type":"t","ts":%q,"do":{"id":"s%d"},"id":"%d-%d-%d","doc":{"x":%q}}`,
						wire.FormatTime(hour.Add(time.Duration(j)*time.Second)), i%5, d, i, j, strings.Repeat("y", 50)))
				}
				put(t, b, lakeformat.StoreKey(hour, fmt.Sprintf("s%d", i%5), hour.UnixMilli(), uint64(i), "0000000000000000"), strings.Join(lines, "\n")+"\n", lake.PutOptions{})
			}
		}
		before := eventSet(t, b, lake.Selection{})
		cmd := exec.Command(os.Args[0], "-test.run=^TestCompactKilledChild$")
		cmd.Env = append(os.Environ(), killEnv+"="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond) // a random moment, not an assertion
		_ = cmd.Process.Kill()
		state := cmd.Wait()
		parquet := 0
		for _, k := range listKeys(t, b, "events/") {
			if strings.HasSuffix(k, ".parquet") {
				parquet++
			}
		}
		t.Logf("round %d: child %v, %d Parquet objects", round, state, parquet)
		if after := eventSet(t, b, lake.Selection{}); !maps.Equal(before, after) {
			t.Fatalf("round %d: %d events after the kill, want %d", round, len(after), len(before))
		}
		if _, err := lake.Compact(context.Background(), b, lake.CompactOptions{Before: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		if after := eventSet(t, b, lake.Selection{}); !maps.Equal(before, after) {
			t.Fatalf("round %d: %d events after the next Compact, want %d", round, len(after), len(before))
		}
		for _, k := range listKeys(t, b, "events/") {
			if !strings.HasSuffix(k, ".parquet") || strings.Count(k, "/") != 4 {
				t.Errorf("round %d: %s left after the next Compact", round, k)
			}
		}
	}
}

// TestCompactDirSidecars: on a Dir bucket, Compact's own removals (one
// folder sync per folder) remove the inputs' metadata sidecars too and
// leave no empty folder, as Delete does; the events read back the same.
func TestCompactDirSidecars(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	b := lake.Dir(root)
	hour := time.Date(2024, 3, 1, 5, 0, 0, 0, time.UTC)
	for i := range 40 {
		ts := hour.Add(time.Duration(i) * time.Minute)
		line := fmt.Sprintf(`{"type":"t","ts":%q,"do":{"id":"s%d"},"id":"e%d"}`+"\n", wire.FormatTime(ts), i%3, i)
		opts := lake.PutOptions{}
		if i%2 == 0 {
			opts.ContentType = lakeformat.ContentTypeJSONL // a sidecar
		}
		put(t, b, lakeformat.StoreKey(ts.Add(time.Duration(i%2)*time.Hour), fmt.Sprintf("s%d", i%3), ts.UnixMilli(), uint64(i), "0000000000000000"), line, opts)
	}
	before := eventSet(t, b, lake.Selection{})
	if len(before) != 40 {
		t.Fatalf("%d events before, want 40", len(before))
	}
	res, err := lake.Compact(ctx, b, lake.CompactOptions{Before: hour.Add(48 * time.Hour)})
	if err != nil || res.ObjectsIn != 40 || res.Events != 40 {
		t.Fatalf("Compact: %+v, %v", res, err)
	}
	if after := eventSet(t, b, lake.Selection{}); !maps.Equal(before, after) {
		t.Fatalf("events differ after Compact: %d before, %d after", len(before), len(after))
	}
	// No input or input sidecar is left, and no empty folder.
	var left []string
	walk := func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, lakeformat.JSONL) || strings.HasSuffix(p, lakeformat.JSONL+".meta") {
			left = append(left, p)
		}
		if d.IsDir() {
			if des, _ := os.ReadDir(p); len(des) == 0 {
				left = append(left, p+" (empty)")
			}
		}
		return nil
	}
	for _, dir := range []string{"events", ".lake/meta/events.d"} {
		if err := filepath.WalkDir(filepath.Join(root, filepath.FromSlash(dir)), walk); err != nil {
			t.Fatal(err)
		}
	}
	if len(left) != 0 {
		t.Errorf("left after Compact: %q", left)
	}
}

// noBatchDelete is an S3 bucket whose DeleteObjects always fails (a
// server without it); it counts the calls.
type noBatchDelete struct {
	lake.Bucket
	calls int
	mu    sync.Mutex
}

func (b *noBatchDelete) DeleteMany(context.Context, []string) error {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	return errors.New("NotImplemented: DeleteObjects")
}

// TestCompactBatchDeleteFallsBack: when a bucket's DeleteMany fails,
// Compact removes its inputs one by one and loses nothing.
func TestCompactBatchDeleteFallsBack(t *testing.T) {
	ctx := context.Background()
	b := &noBatchDelete{Bucket: laketest.Buckets(t)["s3"]}
	total := compactLake(t, b)
	before := eventSet(t, b, lake.Selection{})
	if _, err := lake.Compact(ctx, b, lake.CompactOptions{Before: time.Date(2024, 1, 16, 2, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if b.calls == 0 {
		t.Error("Compact did not try DeleteMany")
	}
	for _, k := range listKeys(t, b, "events/2024/") {
		if strings.HasSuffix(k, ".jsonl") && !strings.HasPrefix(k, "events/2024/01/16/02/") {
			t.Errorf("input left: %s", k)
		}
	}
	if after := eventSet(t, b, lake.Selection{}); !maps.Equal(before, after) || len(after) != total {
		t.Errorf("%d events after, %d before, want %d", len(after), len(before), total)
	}
}
