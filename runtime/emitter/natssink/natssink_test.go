package natssink_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
)

// user is the tests' document.
type user struct {
	Name string `json:"name"`
	Age  int    `json:"age,omitempty"`
}

// TestEmitterDelivers: an emitter with CDC and custom events, the NATS sink
// its only sink, a store id that NATS would split (dots, wildcards,
// spaces): every change and custom event is in the stream once, under the
// store's subject, with its id as Nats-Msg-Id, in order; a second Flush of
// the same store adds nothing.
func TestEmitterDelivers(t *testing.T) {
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	createStream(t, js, 2*time.Minute)
	sink := newSink(t, js)
	store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const storeID = "tenant.a *>b%20 ü"
	em, err := emitter.New(store, emitter.Options{CDC: true, TrackPrevious: true, BatchSize: 7,
		Sinks: []emitter.Sink{sink}, Identity: events.Identity{ID: storeID}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	users, err := cdc.NewCollection[user](store, "users")
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := range n {
		if err := users.Put(ctx, docID(i%25), user{Name: "u", Age: i}); err != nil {
			t.Fatal(err)
		}
		if err := em.Emit(events.Custom{Type: "user.action", Fields: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
		if i%9 == 0 {
			if err := em.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := users.Delete(ctx, docID(3)); err != nil {
		t.Fatal(err)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := readStream(t, js)
	byID := checkStream(t, msgs)
	changes, customs := 0, 0
	for _, m := range msgs {
		if m.store != storeID {
			t.Errorf("message %d of store %q, want %q", m.seq, m.store, storeID)
		}
		switch m.Type {
		case events.TypeCollectionInsert, events.TypeCollectionUpdate, events.TypeCollectionDelete:
			changes++
		case "user.action":
			customs++
		default:
			t.Errorf("message %d of type %q", m.seq, m.Type)
		}
	}
	if changes != n+1 || customs != n || len(byID) != 2*n+1 {
		t.Fatalf("%d changes, %d custom events, %d ids; want %d, %d, %d", changes, customs, len(byID), n+1, n, 2*n+1)
	}
	st := em.Stats().Sinks["nats"]
	if st.Delivered != 2*n+1 || st.Attempt != 0 || st.DeadLettered != 0 {
		t.Fatalf("sink stats %+v", st)
	}
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if again := readStream(t, js); len(again) != len(msgs) {
		t.Fatalf("%d messages after Close, %d before", len(again), len(msgs))
	}

}

// TestLargeBatch: a batch of more events than the sink leaves
// unacknowledged at once is stored whole, in order.
func TestLargeBatch(t *testing.T) {
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	createStream(t, js, 2*time.Minute)
	sink := newSink(t, js)
	const n = 10_000
	batch := &emitter.Batch{ID: "big"}
	for i := range n {
		id := "s-" + docID(i)
		batch.Events = append(batch.Events, emitter.BatchEvent{Store: "s", ID: id, Type: "t",
			JSON: []byte(`{"id":"` + id + `","type":"t","do":{"id":"s"},"n":` + strconv.Itoa(i) + `}`)})
	}
	if err := sink.Send(ctx, batch); err != nil {
		t.Fatal(err)
	}
	msgs := readStream(t, js)
	checkStream(t, msgs)
	if len(msgs) != n {
		t.Fatalf("%d messages, want %d", len(msgs), n)
	}
	// A re-send of the same batch is dropped by the broker.
	if err := sink.Send(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if again := readStream(t, js); len(again) != n {
		t.Fatalf("%d messages after a re-send, want %d", len(again), n)
	}
}
