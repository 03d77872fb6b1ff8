package natssink_test

import (
	"context"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
)

// TestFleetDelivers: a fleet of stores (ids with dots, wildcards and
// spaces; fewer may be open than exist) with the NATS sink as its only
// sink, closed and reopened half way: the stream holds every change and
// custom event of every store once, each store's in order, under the
// store's subject.
func TestFleetDelivers(t *testing.T) {
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	createStream(t, js, 2*time.Minute)
	sink := newSink(t, js)
	ids := []string{"plain", "room.1", "room*2", "tenant>3", "a b", "50%"}
	opts := fleet.Options{Dir: t.TempDir(), Class: "Room", MaxOpen: 3,
		Emitter: emitter.Options{Sinks: []emitter.Sink{sink}, BatchSize: 8, Logger: discardLogger()}}
	wantChanges := map[string]int{}
	wantCustom := map[string]int{}
	n := 0
	round := func(f *fleet.Fleet, k int) {
		for range k {
			for _, id := range ids {
				if err := f.Do(ctx, id, func(s *cdc.Store) error {
					users, err := cdc.NewCollection[user](s, "users")
					if err != nil {
						return err
					}
					return users.Put(ctx, docID(n%7), user{Age: n})
				}); err != nil {
					t.Fatal(err)
				}
				wantChanges[id]++
				if err := f.Emit(ctx, id, events.Custom{Type: "room.event", Fields: map[string]any{"n": n}}); err != nil {
					t.Fatal(err)
				}
				wantCustom[id]++
				n++
			}
		}
	}
	f, err := fleet.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	round(f, 5)
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	round(f, 4)
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f, err = fleet.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close(ctx)
	round(f, 3)
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := readStream(t, js)
	checkStream(t, msgs)
	gotChanges, gotCustom := map[string]int{}, map[string]int{}
	for _, m := range msgs {
		if m.Bookmark != "" {
			gotChanges[m.store]++
		} else {
			gotCustom[m.store]++
		}
	}
	for _, id := range ids {
		if gotChanges[id] != wantChanges[id] || gotCustom[id] != wantCustom[id] {
			t.Errorf("store %q: %d changes, %d custom events; want %d, %d", id, gotChanges[id], gotCustom[id], wantChanges[id], wantCustom[id])
		}
	}
	if len(msgs) != 2*n {
		t.Errorf("%d messages, want %d", len(msgs), 2*n)
	}
}
