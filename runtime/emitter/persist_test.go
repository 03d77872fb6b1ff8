package emitter_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// TestPersistBatchNewEmitter: persisted events are delivered once by a new
// emitter on the store; events emitted in between are not lost.
func TestPersistBatchNewEmitter(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	bucket := lake.Dir(t.TempDir())
	store := openStore(t)
	opts := emitter.Options{Endpoint: in.URL, Bucket: bucket}
	em1, err := emitter.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustEmit(t, em1, custom("t", i)) // A
	}
	if err := em1.PersistBatch(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 20; i++ {
		mustEmit(t, em1, custom("t", i)) // B, in memory
	}
	if err := em1.Flush(ctx); err != nil { // delivers A from the outbox, B from memory
		t.Fatal(err)
	}
	for i := 20; i < 30; i++ {
		mustEmit(t, em1, custom("t", i)) // C
	}
	if err := em1.PersistBatch(ctx); err != nil {
		t.Fatal(err)
	}
	// em1 is abandoned here (as at hibernation): no Close.
	emitter.Abandon(em1)
	em2, err := emitter.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := em2.PendingCount(); got != 10 {
		t.Fatalf("new emitter sees %d pending, want 10", got)
	}
	for i := 30; i < 35; i++ {
		mustEmit(t, em2, custom("t", i))
	}
	if err := em2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ns := customNs(in.events(), "t"); !slices.Equal(ns, seq(0, 35)) {
		t.Fatalf("HTTP got %v", ns)
	}
	if ns := customNs(lakeEvents(t, bucket), "t"); !slices.Equal(ns, seq(0, 35)) {
		t.Fatalf("lake got %v", ns)
	}
	// A third emitter has nothing left to send.
	emitter.Abandon(em2)
	em3, err := emitter.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := em3.Flush(ctx); err != nil || em3.PendingCount() != 0 || len(in.events()) != 35 {
		t.Fatalf("third emitter: %v, pending %d, %d events", err, em3.PendingCount(), len(in.events()))
	}
	// Ids of a new emitter never reuse an old one's.
	if counts := idCounts(in.events()); len(counts) != 35 {
		t.Fatalf("%d distinct ids for 35 events", len(counts))
	}
}

// TestCloseFlushesAndPersists: Close delivers what it can and persists the
// rest for the next emitter; Emit after Close fails.
func TestCloseFlushesAndPersists(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	in.script(mode500)
	store := openStore(t)
	opts := emitter.Options{Endpoint: in.URL, Logger: discardLogger()}
	em, err := emitter.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		mustEmit(t, em, custom("t", i))
	}
	if err := em.Close(ctx); !errors.Is(err, emitter.ErrDelivery) {
		t.Fatalf("close with the endpoint down: %v", err)
	}
	if err := em.Emit(custom("t", 9)); !errors.Is(err, emitter.ErrClosed) {
		t.Fatalf("emit after close: %v", err)
	}
	in.script(modeOK)
	em2, err := emitter.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := em2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if ns := customNs(in.events(), "t"); !slices.Equal(ns, seq(0, 5)) {
		t.Fatalf("got %v", ns)
	}
}

// TestBacklogOverflow: memory moves to the outbox at MaxPending; at
// MaxBacklog Emit refuses with ErrBacklogFull (counted); nothing is lost.
func TestBacklogOverflow(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	in.script(mode500)
	clk := newClock(t0)
	em, err := emitter.New(openStore(t), emitter.Options{
		Endpoint: in.URL, MaxPending: 10, MaxBacklog: 25, Now: clk.Now, Logger: discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		mustEmit(t, em, custom("t", i))
		waitUntil(t, func() bool { return em.Stats().InMemory < 10 })
	}
	st := em.Stats()
	if st.Spills < 2 || st.Outbox < 20 || st.Pending != 25 {
		t.Fatalf("stats %+v", st)
	}
	if err := em.Emit(custom("t", 25)); !errors.Is(err, emitter.ErrBacklogFull) {
		t.Fatalf("26th event: %v", err)
	}
	if st := em.Stats(); st.Rejected != 1 || st.Pending != 25 {
		t.Fatalf("stats %+v", st)
	}
	in.script(modeOK)
	clk.Advance(time.Minute)
	if err := em.HandleAlarm(ctx); err != nil {
		t.Fatal(err)
	}
	if ns := customNs(in.events(), "t"); !slices.Equal(ns, seq(0, 25)) {
		t.Fatalf("got %v", ns)
	}
	if err := em.Emit(custom("t", 26)); err != nil {
		t.Fatalf("room again: %v", err)
	}
}

// TestEmitInsideTransaction: Emit never waits for the store's writer, so
// emitting inside the caller's own transaction cannot deadlock, even when
// memory overflows or a send fails meanwhile; memory stays bounded at twice
// MaxPending while the outbox write waits.
func TestEmitInsideTransaction(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	in.script(mode500)
	store := openStore(t)
	em, err := emitter.New(store, emitter.Options{Endpoint: in.URL, MaxPending: 10, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	users := newUsers(t, store)
	var accepted, refused int
	flushed := make(chan error, 1)
	err = store.Update(ctx, func(tx *cdc.Tx) error {
		if err := users.With(tx).Put(ctx, "u1", user{Name: "a"}); err != nil {
			return err
		}
		for i := range 25 {
			switch err := em.Emit(custom("t", i)); {
			case err == nil:
				accepted++
			case errors.Is(err, emitter.ErrBacklogFull):
				refused++
			default:
				return err
			}
		}
		// A failing send wants to persist memory too: it must wait for
		// the writer without blocking Emit.
		go func() { flushed <- em.Flush(ctx) }()
		for i := 25; i < 27; i++ {
			if err := em.Emit(custom("t", i)); err == nil {
				accepted++
			} else {
				refused++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if accepted != 20 || refused != 7 {
		t.Fatalf("accepted %d, refused %d", accepted, refused)
	}
	if err := <-flushed; !errors.Is(err, emitter.ErrDelivery) {
		t.Fatalf("flush: %v", err)
	}
	waitUntil(t, func() bool { return em.Stats().InMemory == 0 })
	in.script(modeOK)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ns := customNs(in.events(), "t"); len(ns) != 20 || !slices.Equal(ns, seq(0, 20)) {
		t.Fatalf("delivered %v", ns)
	}
}

// waitUntil polls cond (bounded: 10s) for work finishing in the background.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRun: Run delivers on its own (full batch or interval) until Close.
func TestRun(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	store := openStore(t)
	em, err := emitter.New(store, emitter.Options{Endpoint: in.URL, BatchSize: 10, FlushInterval: 20 * time.Millisecond, CDC: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- em.Run(ctx) }()
	users := newUsers(t, store)
	for i := range 25 {
		mustEmit(t, em, custom("t", i))
		if err := users.Put(ctx, "u", user{Age: i}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(in.events()) < 50 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := len(in.events()); got != 50 {
		t.Fatalf("Run delivered %d of 50 events", got)
	}
	if err := em.Run(ctx); !errors.Is(err, emitter.ErrClosed) {
		t.Fatalf("Run after Close: %v", err)
	}
}
