package natssink_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
)

// waitStatus waits (bounded) until js's connection is or is not connected.
func waitStatus(t *testing.T, js jetstream.JetStream, connected bool) {
	t.Helper()
	for range 500 {
		if js.Conn().Status() == nats.CONNECTED == connected {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("connection still %s", js.Conn().Status())
}

// TestOutageLosesNothing: the server shut down between flushes; what is
// written meanwhile fails to deliver (Stats show the retries), nothing is
// lost, and after a restart on the same store folder and port everything
// is in the stream once, in order.
func TestOutageLosesNothing(t *testing.T) {
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	createStream(t, js, 2*time.Minute)
	store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	em, err := emitter.New(store, emitter.Options{CDC: true, BatchSize: 10, RequestTimeout: time.Second,
		Sinks: []emitter.Sink{newSink(t, js)}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	users, err := cdc.NewCollection[user](store, "users")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	write := func(k int) {
		for range k {
			if err := users.Put(ctx, docID(n), user{Age: n}); err != nil {
				t.Fatal(err)
			}
			if err := em.Emit(events.Custom{Type: "t", Fields: map[string]any{"n": n}}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	write(25)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	b.stop()
	waitStatus(t, js, false)
	for range 3 {
		write(15)
		if err := em.Flush(ctx); err == nil {
			t.Fatal("Flush with the server down succeeded")
		}
	}
	st := em.Stats().Sinks["nats"]
	if st.Retries < 3 || st.Attempt < 3 || st.Delivered != 50 || st.LastError == "" {
		t.Fatalf("stats while down: %+v", st)
	}
	b.start()
	waitStatus(t, js, true)
	write(5)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st = em.Stats().Sinks["nats"]
	if st.Attempt != 0 || st.Delivered != uint64(2*n) {
		t.Fatalf("stats after recovery: %+v", st)
	}
	byID := checkStream(t, readStream(t, js))
	if len(byID) != 2*n {
		t.Fatalf("%d events in the stream, %d written", len(byID), 2*n)
	}
}

// TestOutageWhileRunning: the server goes down and comes back while an
// emitter's Run delivers a steady stream of writes (so batches are cut by
// the outage): afterwards every id is in the stream exactly once.
func TestOutageWhileRunning(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the emitter's backoff")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := startBroker(t)
	js := connect(t, b.url())
	createStream(t, js, 2*time.Minute)
	store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	em, err := emitter.New(store, emitter.Options{CDC: true, BatchSize: 20, FlushInterval: 2 * time.Millisecond,
		RequestTimeout: time.Second, Sinks: []emitter.Sink{newSink(t, js)}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	users, err := cdc.NewCollection[user](store, "users")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { em.Run(ctx) })
	const total = 600
	for i := range total {
		if err := users.Put(ctx, docID(i), user{Age: i}); err != nil {
			t.Fatal(err)
		}
		if err := em.Emit(events.Custom{Type: "t", Fields: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 200:
			b.stop()
		case 400:
			b.start()
		}
		time.Sleep(time.Millisecond / 2)
	}
	cancel()
	wg.Wait()
	if em.Stats().Sinks["nats"].Retries == 0 {
		t.Errorf("no retries: %+v", em.Stats().Sinks["nats"])
	}
	waitStatus(t, js, true)
	if err := em.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := readStream(t, js)
	seen := map[string]int{}
	late, last := 0, ""
	for _, m := range msgs {
		seen[m.ID]++
		if m.Bookmark != "" {
			if m.Bookmark < last {
				late++ // see the package doc's "Order"
			}
			last = max(last, m.Bookmark)
		}
	}
	t.Logf("%d messages, %d changes stored after a later one", len(msgs), late)
	for id, k := range seen {
		if k != 1 {
			t.Errorf("event %s stored %d times", id, k)
		}
	}
	if len(seen) != 2*total {
		t.Fatalf("%d events in the stream, want %d", len(seen), 2*total)
	}

}
