package emitter_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// TestEmitTx: an event of EmitTx commits or rolls back with the caller's
// transaction. A Put and an EmitTx in a transaction that returns an error
// ship nothing; in one that commits both ship, to every sink, once, also
// through a restart before delivery. Emit inside the same transaction
// queues its event whatever the outcome (as documented).
func TestEmitTx(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	bucket := lake.Dir(t.TempDir())
	store := openStore(t)
	users := newUsers(t, store)
	opts := emitter.Options{Endpoint: in.URL, Bucket: bucket, CDC: true, Logger: discardLogger()}
	em, err := emitter.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = store.Update(ctx, func(tx *cdc.Tx) error {
		if err := users.With(tx).Put(ctx, "u1", user{Name: "Ann"}); err != nil {
			return err
		}
		if err := em.EmitTx(ctx, tx, events.Custom{Type: "order.paid", Fields: map[string]any{"n": 1}}); err != nil {
			return err
		}
		if err := em.Emit(custom("not.transactional", 1)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ev := range in.events() {
		if ev.EventType() != "not.transactional" {
			t.Fatalf("a rolled-back transaction shipped %s", ev.EventType())
		}
	}
	// Refused events leave the transaction usable and write nothing.
	err = store.Update(ctx, func(tx *cdc.Tx) error {
		if err := em.EmitTx(ctx, tx, events.Custom{Type: events.TypeCollectionInsert}); !errors.Is(err, emitter.ErrChangeEvent) {
			t.Errorf("EmitTx of a change type: %v", err)
		}
		if err := em.EmitTx(ctx, tx, events.Custom{Type: "bad type"}); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("EmitTx of an invalid event: %v", err)
		}
		if err := users.With(tx).Put(ctx, "u2", user{Name: "Bo"}); err != nil {
			return err
		}
		for n := 2; n <= 3; n++ {
			if err := em.EmitTx(ctx, tx, events.Custom{Type: "order.paid", Fields: map[string]any{"n": n}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A restart before delivery: the committed events are in the store.
	emitter.Abandon(em)
	em, err = emitter.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var paid, inserts []string
	for _, ev := range in.events() {
		switch ev := ev.(type) {
		case events.Custom:
			if ev.Type == "order.paid" {
				paid = append(paid, ev.ID)
			}
		case events.CollectionChange:
			inserts = append(inserts, ev.DocID)
		}
	}
	if len(inserts) != 1 || inserts[0] != "u2" {
		t.Fatalf("changes shipped: %v", inserts)
	}
	if len(paid) != 2 || !strings.HasPrefix(paid[0], em.StoreID()+"-t") || paid[0] == paid[1] {
		t.Fatalf("order.paid shipped with ids %v", paid)
	}
	if got := customNs(lakeEvents(t, bucket), "order.paid"); !equalInts(got, []int{2, 3}) {
		t.Fatalf("order.paid in the lake: %v", got)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(customNs(in.events(), "order.paid")); n != 2 {
		t.Fatalf("order.paid shipped %d times", n)
	}
}
