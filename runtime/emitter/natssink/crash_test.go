package natssink_test

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

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dotdo/events"
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

// crashChild writes and emits, delivering to the server at url, until
// killed. It prints "put R I" once change I of run R is committed and
// "ack R I" once every custom event up to I was flushed or persisted.
func crashChild(dir, url, run string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		fail(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		fail(err)
	}
	sink, err := natssink.New(js, testPrefix)
	if err != nil {
		fail(err)
	}
	store, err := cdc.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		fail(err)
	}
	em, err := emitter.New(store, crashOptions(sink))
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
			err := em.Flush(ctx)
			if err != nil {
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
		p, a := runCrashChild(t, dir, b.url(), run, 3+rand.IntN(6))
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
			if !puts[fmt.Sprintf("r%s-d%05d", r.run, i)] {
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
