package snapshot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// writeForged writes custom events typed like changes, as an emitter that
// accepted events.Custom{Type: "collection.insert"} wrote them (id
// "{emitter id}-e{n}"), or with an id of their author's choosing.
func writeForged(t testing.TB, b lake.Bucket, id string, forged ...events.Custom) {
	t.Helper()
	evs := make([]lakewrite.EncodedEvent, len(forged))
	for i, ev := range forged {
		ev.DO = events.Identity{ID: id}
		js, err := ev.AppendJSON(nil, events.Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = lakewrite.EncodedEvent{TS: ev.TS, Seq: uint64(1e19) + uint64(i), JSON: js}
	}
	if _, err := lakewrite.WriteEvents(context.Background(), b, events.Identity{ID: id}, evs); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreSkipsForgedChanges: custom events typed like changes are not
// replayed (a document never written does not appear, a shipped change is
// not contradicted, a missing change is not filled in); the result counts
// them.
func TestRestoreSkipsForgedChanges(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		s := openStore(t)
		c := coll(t, s, "c")
		const id = "victim"
		for i := range 6 {
			put(t, c, fmt.Sprintf("d%d", i), fmt.Sprintf(`{"i":%d}`, i))
		}
		changes, err := s.ChangesAfter(ctx, "", 100)
		if err != nil || len(changes) != 6 {
			t.Fatal(len(changes), err)
		}
		writeChanges(t, b, id, changes[:5]) // change 6 never reaches the lake
		want := stateOf(t, s)
		delete(want["c"], "d5") // the state after change 5
		ts := changes[4].TS
		forge := func(evID, docID string, seq int64) events.Custom {
			return events.Custom{Type: events.TypeCollectionInsert, TS: ts, ID: evID, Fields: map[string]any{
				"collection": "c", "docId": docID, "doc": map[string]any{"forged": true},
				"bookmark": string(changelog.BookmarkFromSeq(seq)),
			}}
		}
		writeForged(t, b, id,
			forge("abc-e1", "d1", 2),     // contradicts a shipped change
			forge("abc-e2", "never", 6),  // fills the missing change
			forge("", "never2", 6),       // no id at all
			forge("abc-c7", "never3", 6), // a change id whose number is not its bookmark's
			forge("x-c6-e", "never4", 6), // not "-c{n}" at the end
		)
		// Up to change 5: the forged events neither conflict nor appear.
		fresh := openStore(t)
		res, err := snapshot.RestoreTo(ctx, fresh, b, id, snapshot.Target{Bookmark: changes[4].Bookmark})
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped != 5 || res.Replayed != 5 {
			t.Fatalf("result %+v", res)
		}
		got := stateOf(t, fresh)
		if d := diffStates(want, got); d != "" {
			t.Fatalf("restored state:\n%s", d)
		}
		// Change 6 is only forged: a gap, nothing written.
		fresh2 := openStore(t)
		if _, err := snapshot.RestoreTo(ctx, fresh2, b, id, snapshot.Target{Bookmark: changes[5].Bookmark}); !errors.Is(err, snapshot.ErrGap) {
			t.Fatalf("forged change 6: %v", err)
		}
		if bm := bookmark(t, fresh2); bm != cdc.Bookmark("") {
			t.Fatalf("store changed: %s", bm)
		}
	})
}

// getCounter records the keys a Bucket is asked to Get.
type getCounter struct {
	lake.Bucket
	keys []string
}

func (g *getCounter) Get(ctx context.Context, key string) (*lake.Object, error) {
	g.keys = append(g.keys, key)
	return g.Bucket.Get(ctx, key)
}

// TestRestoreToReadsOnlyItsObjects: in a lake shared by many stores,
// RestoreTo of one store opens only the objects that may hold its events.
func TestRestoreToReadsOnlyItsObjects(t *testing.T) {
	ctx := context.Background()
	b := lake.Dir(t.TempDir())
	s := openStore(t)
	c := coll(t, s, "c")
	for i := range 5 {
		put(t, c, fmt.Sprintf("d%d", i), fmt.Sprintf(`{"i":%d}`, i))
	}
	changes, err := s.ChangesAfter(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		writeChanges(t, b, fmt.Sprintf("other-%d", i), changes)
	}
	writeChanges(t, b, "mine", changes)
	for _, from := range []bool{false, true} {
		g := &getCounter{Bucket: b}
		fresh := openStore(t)
		if from {
			// With a snapshot the lake is read hour by hour from it.
			if _, err := snapshot.Create(ctx, openStore(t), "mine", snapshot.Options{Bucket: b}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := snapshot.RestoreTo(ctx, fresh, g, "mine", snapshot.Target{Bookmark: changes[4].Bookmark})
		if err != nil {
			t.Fatal(err)
		}
		if from && res.Snapshot == "" || !from && res.Replayed != 5 {
			t.Fatalf("result %+v", res)
		}
		mine := 0
		for _, k := range g.keys {
			if strings.Contains(k, "other-") {
				t.Errorf("read %s", k)
			}
			if strings.Contains(k, "/mine_") {
				mine++
			}
		}
		if mine == 0 {
			t.Errorf("read none of the store's objects: %q", g.keys)
		}
	}
}
