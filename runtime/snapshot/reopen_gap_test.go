package snapshot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// TestRestoreAcrossReservedNumbers: a store that shipped through an emitter
// reserves bookmark numbers ahead (never reissued after a power loss), so
// reopening it skips them. A restore from the lake alone, into a new store,
// must still reach a bookmark after the skip: the skipped numbers are no
// missing changes.
func TestRestoreAcrossReservedNumbers(t *testing.T) {
	ctx := context.Background()
	const id = "reopened"
	bucket := lake.Dir(t.TempDir())
	path := filepath.Join(t.TempDir(), "s.db")
	round := func(from int) cdc.Bookmark {
		s, err := cdc.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		em, err := emitter.New(s, emitter.Options{CDC: true, Bucket: bucket, Identity: events.Identity{ID: id}})
		if err != nil {
			t.Fatal(err)
		}
		a := coll(t, s, "a")
		for i := range 3 {
			put(t, a, fmt.Sprintf("d%d", from+i), fmt.Sprintf(`{"v":%d}`, from+i))
		}
		if err := em.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := em.Close(ctx); err != nil {
			t.Fatal(err)
		}
		return bookmark(t, s)
	}
	first := round(0)
	last := round(3)
	if last <= first {
		t.Fatalf("bookmarks went back: %s then %s", first, last)
	}
	t.Logf("first round ends at %s, second at %s", first, last)

	fresh := openStore(t)
	res, err := snapshot.RestoreTo(ctx, fresh, bucket, id, snapshot.Target{Bookmark: last})
	if err != nil {
		t.Fatalf("restore to %s across the reopen: %v", last, err)
	}
	got := stateOf(t, fresh)
	if n := len(got["a"]); n != 6 {
		t.Fatalf("restored %d documents, want 6 (%+v)", n, res)
	}
}
