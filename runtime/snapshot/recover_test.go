package snapshot_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// TestRestoreIntoNewStoreContinuesBookmarks is disaster recovery: a store
// that shipped its changes to the lake and took snapshots is lost after
// writing well past the target. A new, empty store restored to the target
// holds the state then, and numbers its changes after everything the lost
// store shipped or snapshotted; so a second new store restored to the
// first one's latest bookmark replays one history through both (no
// ErrConflict) and equals it. A restore in place never renumbers.
func TestRestoreIntoNewStoreContinuesBookmarks(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		const id = "dr ü-1"
		old := openStore(t)
		a, bb := coll(t, old, "a"), coll(t, old, "b")
		for i := range 60 {
			put(t, a, fmt.Sprintf("a%02d", i%40), fmt.Sprintf(`{"v":%d}`, i))
			if i%3 == 0 {
				put(t, bb, fmt.Sprintf("b%02d", i%7), fmt.Sprintf(`{"w":%d}`, i))
			}
		}
		if _, err := snapshot.Create(ctx, old, id, snapshot.Options{Bucket: b}); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if _, err := a.Delete(ctx, fmt.Sprintf("a%02d", i*3)); err != nil {
				t.Fatal(err)
			}
			put(t, bb, fmt.Sprintf("b%02d", i), fmt.Sprintf(`{"w":%d}`, 100+i))
		}
		target := bookmark(t, old)
		want := nonEmpty(stateOf(t, old))

		// Past the target: new documents (in a new collection too),
		// deletes and updates, a snapshot, all shipped.
		late := coll(t, old, "late")
		for i := range 30 {
			put(t, a, fmt.Sprintf("new%02d", i), fmt.Sprintf(`{"n":%d}`, i))
			put(t, late, fmt.Sprintf("l%d", i%5), fmt.Sprintf(`{"n":%d}`, i))
			if _, err := bb.Delete(ctx, fmt.Sprintf("b%02d", i%12)); err != nil {
				t.Fatal(err)
			}
			put(t, a, fmt.Sprintf("a%02d", 20+i%10), fmt.Sprintf(`{"late":%d}`, i))
		}
		if _, err := snapshot.Create(ctx, old, id, snapshot.Options{Bucket: b}); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			put(t, a, fmt.Sprintf("a%02d", 30+i), fmt.Sprintf(`{"later":%d}`, i))
		}
		shipped := ship(t, old, b, id, "", 23)
		// The last changes reach only a snapshot, never the lake (the
		// emitter lagged): the new store must still number after them.
		// (They touch documents that shipped changes after the target
		// touched too: a document only they created could not be retracted,
		// see RestoreTo.)
		for i := range 4 {
			put(t, a, fmt.Sprintf("a%02d", 21+i), fmt.Sprintf(`{"unshipped":%d}`, i))
		}
		last, err := snapshot.Create(ctx, old, id, snapshot.Options{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		lastSeq, _ := last.Bookmark.Seq()
		shippedSeq, _ := shipped.Seq()
		if lastSeq != shippedSeq+4 {
			t.Fatalf("last snapshot at %s, shipped up to %s", last.Bookmark, shipped)
		}

		// The old store is lost: a new one is restored to the target.
		n1 := openStore(t)
		res, err := snapshot.RestoreTo(ctx, n1, b, id, snapshot.Target{Bookmark: target})
		if err != nil {
			t.Fatal(err)
		}
		if d := diffStates(want, nonEmpty(stateOf(t, n1))); d != "" {
			t.Fatalf("restored state:\n%s", d)
		}
		if res.Reached != target || res.Advanced != last.Bookmark || res.Retracted == 0 {
			t.Fatalf("result %+v; want reached %s, advanced to %s, some retracted", res, target, last.Bookmark)
		}
		n1Seq, _ := bookmark(t, n1).Seq()
		if n1Seq < lastSeq {
			t.Fatalf("new store's bookmark %d is behind the old store's last change %d", n1Seq, lastSeq)
		}
		own, err := n1.ChangesAfter(ctx, "", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(own) == 0 || own[0].Bookmark != changelog.BookmarkFromSeq(lastSeq+1) || res.Bookmark != own[len(own)-1].Bookmark {
			t.Fatalf("the restore's changes start at %v, want %d", own[0].Bookmark, lastSeq+1)
		}

		// The new store lives on and ships under the same id.
		na, nl := coll(t, n1, "a"), coll(t, n1, "late")
		for i := range 20 {
			put(t, na, fmt.Sprintf("a%02d", i), fmt.Sprintf(`{"n1":%d}`, i))
			put(t, nl, fmt.Sprintf("l%d", i%3), fmt.Sprintf(`{"n1":%d}`, i))
			if i%4 == 0 {
				if _, err := na.Delete(ctx, fmt.Sprintf("a%02d", 30+i/4)); err != nil {
					t.Fatal(err)
				}
			}
		}
		n1End := ship(t, n1, b, id, "", 17)
		if n1End != bookmark(t, n1) {
			t.Fatalf("shipped %s, store at %s", n1End, bookmark(t, n1))
		}

		// A second disaster: the chain now runs through both stores.
		n2 := openStore(t)
		res2, err := snapshot.RestoreTo(ctx, n2, b, id, snapshot.Target{Bookmark: n1End})
		if err != nil {
			t.Fatalf("second restore: %v", err)
		}
		if d := diffStates(nonEmpty(stateOf(t, n1)), nonEmpty(stateOf(t, n2))); d != "" {
			t.Fatalf("second restore:\n%s", d)
		}
		if res2.Reached != n1End || res2.Advanced != n1End {
			t.Fatalf("second result %+v; want reached and advanced %s", res2, n1End)
		}
		if seq, _ := bookmark(t, n2).Seq(); seq < n1Seq {
			t.Fatalf("second store's bookmark %d is behind %d", seq, n1Seq)
		}
		// By time as well: now is after every change of both stores.
		n3 := openStore(t)
		if _, err := snapshot.RestoreTo(ctx, n3, b, id, snapshot.Target{Time: last.Timestamp.Add(1 << 40)}); err != nil {
			t.Fatalf("restore by time: %v", err)
		}
		if d := diffStates(nonEmpty(stateOf(t, n1)), nonEmpty(stateOf(t, n3))); d != "" {
			t.Fatalf("restore by time:\n%s", d)
		}

		// In place, a store at or past the chain keeps its numbering: the
		// restore's changes follow its own last one.
		before, _ := bookmark(t, n1).Seq()
		res3, err := snapshot.RestoreTo(ctx, n1, b, id, snapshot.Target{Bookmark: target})
		if err != nil {
			t.Fatal(err)
		}
		writes := int64(res3.Inserted + res3.Updated + res3.Deleted)
		if res3.Advanced != "" || res3.Retracted != 0 || res3.Bookmark != changelog.BookmarkFromSeq(before+writes) || writes == 0 {
			t.Fatalf("in place: %+v; store was at %d", res3, before)
		}
		if d := diffStates(want, nonEmpty(stateOf(t, n1))); d != "" {
			t.Fatalf("in place:\n%s", d)
		}
	})
}
