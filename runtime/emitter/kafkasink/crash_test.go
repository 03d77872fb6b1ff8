package kafkasink_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/crashtest"
	"github.com/dotdo/events/internal/sinkbench"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/emitter/kafkasink"
)

// Environment of the child processes the tests re-exec.
const (
	crashDirEnv    = "KAFKASINK_CRASH_DIR"    // run crashChild on this dir
	crashBrokerEnv = "KAFKASINK_CRASH_BROKER" // the parent's kfake broker
)

// crashBatch is the crash child's batch size: the most a restart may send
// again.
const crashBatch = 16

// TestMain lets the test binary act as a child process.
func TestMain(m *testing.M) {
	sinkbench.Serve() // the HTTP receiver of BenchmarkKafkaSinkCPU
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir, os.Getenv(crashBrokerEnv))
		return
	}
	if os.Getenv(brokerChildEnv) != "" {
		brokerChild()
		return
	}
	os.Exit(m.Run())
}

func crashOptions(sink emitter.Sink) emitter.Options {
	return emitter.Options{CDC: true, BatchSize: crashBatch, FlushInterval: 2 * time.Millisecond,
		RequestTimeout: 5 * time.Second, Sinks: []emitter.Sink{sink}, Logger: discardLogger()}
}

// crashChild writes and emits (crashtest.Work, run "0") until killed,
// delivering to the broker.
func crashChild(dir, broker string) {
	ctx := context.Background()
	store, err := cdc.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		crashtest.Fail(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		crashtest.Fail(err)
	}
	sink, err := kafkasink.New(cl, topic)
	if err != nil {
		crashtest.Fail(err)
	}
	em, err := emitter.New(store, crashOptions(sink))
	if err != nil {
		crashtest.Fail(err)
	}
	go em.Run(ctx)
	crashtest.Work(ctx, store, em, "0")
}

// TestCrashRestart: a child process delivering changes and custom events
// to the broker (in this process) is killed with SIGKILL mid-delivery; a
// new emitter on the same store delivers the rest. A consumer then sees
// every committed change and every acknowledged custom event, each store's
// first copies in order, and duplicates only of the batch in flight (at
// most one batch).
func TestCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	ctx := context.Background()
	c := newCluster(t, 3)
	dir := t.TempDir()
	// Kill at a random point after some acknowledged work.
	lastPut, lastAck := crashtest.Kill(t, []string{crashDirEnv + "=" + dir, crashBrokerEnv + "=" + c.ListenAddrs()[0]}, 3+rand.IntN(6))
	beforeRestart := len(readTopic(t, c.ListenAddrs(), 3))

	store := openStoreAt(t, filepath.Join(dir, "store.db"))
	em, err := emitter.New(store, crashOptions(newSink(t, c.ListenAddrs())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close(ctx) })
	for range 20 {
		if err := em.Flush(ctx); err == nil && em.PendingCount() == 0 {
			break
		}
	}
	bms := logBookmarks(t, store)
	if st := em.Stats(); st.Pending != 0 || st.Sinks["kafka"].CDCCursor != bms[len(bms)-1] {
		t.Fatalf("not caught up: last bookmark %s, stats %+v", bms[len(bms)-1], st)
	}

	all := decodeAll(t, readTopic(t, c.ListenAddrs(), 3))
	evs, dups := firstCopies(all)
	docs := map[string]bool{}
	var ns []int
	for _, d := range evs {
		switch d.ev.Type {
		case events.TypeCollectionInsert:
			docs[d.ev.DocID] = true
		case "crash":
			ns = append(ns, *d.ev.N)
		}
	}
	for i := 0; i <= lastPut; i++ {
		if !docs[crashtest.DocID("0", i)] {
			t.Fatalf("committed change %d (of %d) missing", i, lastPut)
		}
	}
	for i := 0; i <= lastAck; i++ {
		if i >= len(ns) || ns[i] != i {
			t.Fatalf("acknowledged custom event %d (of %d) missing or out of order", i, lastAck)
		}
	}
	for i := 1; i < len(ns); i++ {
		if ns[i] <= ns[i-1] {
			t.Fatalf("custom events out of order at %d: %v", i, ns)
		}
	}
	checkStoreOrder(t, evs, map[string][]cdc.Bookmark{em.StoreID(): bms}, nil)
	if dups > crashBatch {
		t.Fatalf("%d duplicates, more than the batch in flight (%d)", dups, crashBatch)
	}
	t.Logf("child: %d puts, %d acked custom events; %d records before the restart, %d after; %d distinct, %d duplicates",
		lastPut+1, lastAck+1, beforeRestart, len(all), len(evs), dups)
}
