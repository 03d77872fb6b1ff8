package natssink_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dotdo/events/internal/crashtest"
	"github.com/dotdo/events/internal/sinkbench"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/emitter/natssink"
)

const (
	crashDirEnv = "NATSSINK_CRASH_DIR"
	crashURLEnv = "NATSSINK_CRASH_URL"
	crashRunEnv = "NATSSINK_CRASH_RUN"
)

// TestMain lets the test binary act as the crashing child process and as
// the benchmark's HTTP receiver.
func TestMain(m *testing.M) {
	sinkbench.Serve() // the HTTP receiver of TestSinkBenchCPU
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir, os.Getenv(crashURLEnv), os.Getenv(crashRunEnv))
		return
	}
	os.Exit(m.Run())
}

// crashOptions are the emitter options of the child and of the restart.
func crashOptions(sink emitter.Sink) emitter.Options {
	return emitter.Options{CDC: true, BatchSize: 16, FlushInterval: 2 * time.Millisecond, RequestTimeout: 5 * time.Second,
		Sinks: []emitter.Sink{sink}, Logger: discardLogger(), Jitter: func() time.Duration { return 0 }}
}

// crashChild writes and emits (crashtest.Work), delivering to the server
// at url, until killed.
func crashChild(dir, url, run string) {
	ctx := context.Background()
	nc, err := nats.Connect(url)
	if err != nil {
		crashtest.Fail(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		crashtest.Fail(err)
	}
	sink, err := natssink.New(js, testPrefix)
	if err != nil {
		crashtest.Fail(err)
	}
	store, err := cdc.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		crashtest.Fail(err)
	}
	em, err := emitter.New(store, crashOptions(sink))
	if err != nil {
		crashtest.Fail(err)
	}
	go em.Run(ctx)
	crashtest.Work(ctx, store, em, run)
}

// TestCrashOncePerID: a child process writing, emitting and delivering to
// the server in this process is killed with SIGKILL during delivery, twice;
// a new emitter on the same store file then catches up: every committed
// change and acknowledged custom event is in the stream, each id exactly
// once (the broker dropped the re-sends of what was in flight).
func TestCrashOncePerID(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	createStream(t, js, 2*time.Minute)
	dir := t.TempDir()
	type runResult struct {
		run              string
		lastPut, lastAck int
	}
	var runs []runResult
	for r := range 2 {
		run := strconv.Itoa(r)
		p, a := crashtest.Kill(t, []string{crashDirEnv + "=" + dir, crashURLEnv + "=" + b.url(), crashRunEnv + "=" + run}, 3+rand.IntN(6))
		runs = append(runs, runResult{run, p, a})
	}
	store, err := cdc.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	em, err := emitter.New(store, crashOptions(newSink(t, js)))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := em.Flush(ctx); err == nil && em.PendingCount() == 0 {
			break
		}
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := readStream(t, js)
	count := map[string]int{}
	puts, customs := map[string]bool{}, map[string]bool{}
	for _, m := range msgs {
		count[m.ID]++
		switch {
		case m.Bookmark != "":
			puts[m.DocID] = true
		case m.N != nil:
			customs[fmt.Sprintf("r%s-n%d", m.Run, *m.N)] = true
		}
	}
	for id, k := range count {
		if k != 1 {
			t.Errorf("event %s stored %d times", id, k)
		}
	}
	for _, r := range runs {
		for i := 0; i <= r.lastPut; i++ {
			if !puts[crashtest.DocID(r.run, i)] {
				t.Errorf("committed change %d of run %s lost", i, r.run)
			}
		}
		for i := 0; i <= r.lastAck; i++ {
			if !customs[fmt.Sprintf("r%s-n%d", r.run, i)] {
				t.Errorf("acknowledged custom event %d of run %s lost", i, r.run)
			}
		}
	}
	t.Logf("%d messages, %d distinct ids, %d custom events; runs %+v", len(msgs), len(count), len(customs), runs)
}
