package emitter_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/internal/crashtest"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

const (
	crashDirEnv = "EMITTER_CRASH_DIR"
	crashURLEnv = "EMITTER_CRASH_URL"
	crashRunEnv = "EMITTER_CRASH_RUN"
)

// TestMain lets the test binary act as the crashing child process.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir, os.Getenv(crashURLEnv), os.Getenv(crashRunEnv))
		return
	}
	os.Exit(m.Run())
}

func crashOptions(dir, url string, flakyLake bool) emitter.Options {
	var bucket lake.Bucket = lake.Dir(filepath.Join(dir, "lake"))
	if flakyLake {
		// Every third write fails: lake retries, and kills, mid-backoff.
		bucket = &flakyBucket{Bucket: bucket, failEvery: 3}
	}
	return emitter.Options{
		Endpoint: url, APIKey: testKey, Bucket: bucket, CDC: true, TrackPrevious: true,
		BatchSize: 16, FlushInterval: 2 * time.Millisecond, RequestTimeout: 5 * time.Second,
		Logger: discardLogger(), Jitter: func() time.Duration { return 0 },
	}
}

// crashChild writes and emits until killed (crashtest.Work), delivering to
// the ingest at url and a flaky lake.
func crashChild(dir, url, run string) {
	ctx := context.Background()
	store, err := cdc.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		crashtest.Fail(err)
	}
	em, err := emitter.New(store, crashOptions(dir, url, true))
	if err != nil {
		crashtest.Fail(err)
	}
	go em.Run(ctx)
	crashtest.Work(ctx, store, em, run)
}

// TestCrashLosesNothing: a child doing CDC writes and custom emits is killed
// with SIGKILL during delivery (twice; the ingest fails every third request
// and the bucket every third write);
// after a restart every committed change and every flushed or persisted
// event reached both sinks, and the lake holds each event exactly once.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	in := newIngest(t)
	in.script(modeFlaky)
	type runResult struct {
		run              string
		lastPut, lastAck int
	}
	var runs []runResult
	for r := range 2 {
		run := strconv.Itoa(r)
		p, a := crashtest.Kill(t, []string{crashDirEnv + "=" + dir, crashURLEnv + "=" + in.URL, crashRunEnv + "=" + run}, 3+rand.IntN(6))
		runs = append(runs, runResult{run, p, a})
	}
	in.script(modeOK)
	store := openStoreAt(t, filepath.Join(dir, "store.db"))
	em, err := emitter.New(store, crashOptions(dir, in.URL, false))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := em.Flush(ctx); err == nil && em.PendingCount() == 0 {
			break
		}
	}
	// The last change's bookmark: the store's own is past it, as a reopened
	// store numbers on past what it shipped (a mark, not a change).
	log, err := cdcx.Store(store).ReadLog(ctx, "", 1<<30)
	if err != nil || len(log) == 0 {
		t.Fatal(len(log), err)
	}
	bm := log[len(log)-1].Bookmark
	st := em.Stats()
	if st.Pending != 0 || st.HTTP.CDCCursor != bm || st.Lake.CDCCursor != bm {
		t.Fatalf("not caught up: bookmark %s, stats %+v", bm, st)
	}

	check := func(sink string, evs []events.Event, exactlyOnce bool) {
		t.Helper()
		byID := map[string]string{}
		puts, customs := map[string]bool{}, map[string]bool{}
		for _, ev := range evs {
			var what string
			switch e := ev.(type) {
			case events.CollectionChange:
				what = e.DocID
				puts[e.DocID] = true
			case events.Custom:
				what = fmt.Sprintf("r%s-n%v", e.Fields["run"], e.Fields["n"])
				customs[what] = true
			}
			id := eventID(ev)
			if prev, dup := byID[id]; dup {
				if exactlyOnce {
					t.Errorf("%s: event %s (%s) more than once", sink, id, what)
				} else if prev != what {
					t.Errorf("%s: id %s names %s and %s", sink, id, prev, what)
				}
			}
			byID[id] = what
		}
		for _, r := range runs {
			for i := 0; i <= r.lastPut; i++ {
				if !puts[crashtest.DocID(r.run, i)] {
					t.Errorf("%s: committed change %d of run %s lost", sink, i, r.run)
				}
			}
			for i := 0; i <= r.lastAck; i++ {
				if !customs[fmt.Sprintf("r%s-n%d", r.run, i)] {
					t.Errorf("%s: acknowledged event %d of run %s lost", sink, i, r.run)
				}
			}
		}
		t.Logf("%s: %d events, %d distinct; runs %+v", sink, len(evs), len(byID), runs)
	}
	check("http", in.events(), false)
	check("lake", lakeEvents(t, lake.Dir(filepath.Join(dir, "lake"))), true)
}
