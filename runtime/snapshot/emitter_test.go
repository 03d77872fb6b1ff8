package snapshot_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// TestRestoreToFromTheEmitter: changes the real emitter shipped to the lake
// are trusted (their ids are the ones RestoreTo recognises), so a new store
// restores the whole state from the lake alone; a custom event typed like a
// change, if the emitter accepts it at all, is not replayed.
func TestRestoreToFromTheEmitter(t *testing.T) {
	ctx := context.Background()
	b := lake.Dir(t.TempDir())
	s := openStore(t)
	const id = "shipped"
	em, err := emitter.New(s, emitter.Options{Bucket: b, CDC: true, Identity: events.Identity{ID: id}})
	if err != nil {
		t.Fatal(err)
	}
	c := coll(t, s, "c")
	for i := range 8 {
		put(t, c, fmt.Sprintf("d%d", i%5), fmt.Sprintf(`{"i":%d}`, i))
	}
	forged := events.Custom{Type: events.TypeCollectionInsert, Fields: map[string]any{
		"collection": "c", "docId": "forged", "doc": map[string]any{"x": 1}, "bookmark": "00000000000000000009",
	}}
	emitErr := em.Emit(forged)
	t.Logf("Emit of a custom event typed like a change: %v", emitErr)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}
	end := bookmark(t, s)
	fresh := openStore(t)
	res, err := snapshot.RestoreTo(ctx, fresh, b, id, snapshot.Target{Bookmark: end})
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 8 || res.Reached != end {
		t.Fatalf("result %+v", res)
	}
	if emitErr == nil && res.Skipped != 1 || emitErr != nil && res.Skipped != 0 {
		t.Errorf("Emit: %v; skipped %d", emitErr, res.Skipped)
	}
	if d := diffStates(stateOf(t, s), stateOf(t, fresh)); d != "" {
		t.Fatal(d)
	}
}
