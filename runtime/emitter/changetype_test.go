package emitter_test

import (
	"errors"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/emitter"
)

// TestEmitRefusesChangeTypes: a custom event (or a CollectionChange) of a
// change's type is refused with ErrChangeEvent, queues nothing and counts
// nothing: changes come only from the change log.
func TestEmitRefusesChangeTypes(t *testing.T) {
	in := newIngest(t)
	em, err := emitter.New(openStore(t), emitter.Options{Endpoint: in.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(t.Context())
	for _, ev := range []events.Event{
		events.Custom{Type: events.TypeCollectionInsert},
		events.Custom{Type: events.TypeCollectionUpdate, Fields: map[string]any{"doc": 1}},
		&events.Custom{Type: events.TypeCollectionDelete},
		events.CollectionChange{Type: events.TypeCollectionInsert, Collection: "users", DocID: "u1", Bookmark: "00000000000000000001"},
	} {
		err := em.Emit(ev)
		if !errors.Is(err, emitter.ErrChangeEvent) || !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("Emit(%s) = %v", ev.EventType(), err)
		}
	}
	if st := em.Stats(); st.Emitted != 0 || st.Pending != 0 {
		t.Fatalf("stats %+v", st)
	}
	mustEmit(t, em, events.Custom{Type: "collection.archived"}) // not a change type
}
