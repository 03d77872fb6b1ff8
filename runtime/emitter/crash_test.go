package emitter_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
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

// crashChild writes and emits until killed. It prints "put R I" once change
// I of run R is committed and "ack R I" once every custom event up to I was
// flushed or persisted.
func crashChild(dir, url, run string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	store, err := cdc.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		fail(err)
	}
	em, err := emitter.New(store, crashOptions(dir, url, true))
	if err != nil {
		fail(err)
	}
	go em.Run(ctx)
	users, err := cdc.NewCollection[user](store, "users")
	if err != nil {
		fail(err)
	}
	for i := 0; ; i++ {
		if err := users.Put(ctx, fmt.Sprintf("r%s-d%05d", run, i), user{Age: i}); err != nil {
			fail(err)
		}
		fmt.Println("put", run, i)
		if err := em.Emit(events.Custom{Type: "crash", Fields: map[string]any{"run": run, "n": i}}); err != nil {
			fail(err)
		}
		if i%10 == 9 {
			if (i/10)%2 == 0 {
				err = em.Flush(ctx)
				if err != nil {
					err = em.PersistBatch(ctx)
				}
			} else {
				err = em.PersistBatch(ctx)
			}
			if err == nil {
				fmt.Println("ack", run, i)
			}
		}
	}
}

// runCrashChild starts a child, waits for some acknowledged work and kills
// it with SIGKILL while it delivers. It returns the last put and ack.
func runCrashChild(t *testing.T, dir, url, run string, acks int) (lastPut, lastAck int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashURLEnv+"="+url, crashRunEnv+"="+run)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lastPut, lastAck = -1, -1
	extra := rand.IntN(25)
	sc := bufio.NewScanner(out)
	seen := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			cmd.Process.Kill()
			t.Fatalf("child: %s", sc.Text())
		}
		n, _ := strconv.Atoi(f[2])
		switch f[0] {
		case "put":
			lastPut = n
			if seen >= acks {
				extra--
			}
		case "ack":
			lastAck = n
			seen++
		}
		if seen >= acks && extra <= 0 {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, out)
	_ = cmd.Wait()
	if seen < acks {
		t.Fatalf("child stopped after %d acks", seen)
	}
	return lastPut, lastAck
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
		p, a := runCrashChild(t, dir, in.URL, run, 3+rand.IntN(6))
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
				if !puts[fmt.Sprintf("r%s-d%05d", r.run, i)] {
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
