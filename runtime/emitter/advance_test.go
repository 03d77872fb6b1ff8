package emitter_test

import (
	"context"
	"testing"
	"time"

	"github.com/dotdo/events/internal/cdcx"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// TestCDCAdvancedStore: a store whose numbers were moved on by
// cdc.Tx.AdvanceBookmark (as a restore into a new store does) has a marker
// row as its newest bookmark, which is no change. Every change is still
// delivered once to both sinks, the mark yields nothing, a flush with only
// the mark pending neither spins nor fails, and pruning keeps going.
func TestCDCAdvancedStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	in := newIngest(t)
	bucket := lake.Dir(t.TempDir())
	store := openStore(t, cdc.WithRetention(0, 0)) // prune once delivered
	users := newUsers(t, store)
	advanceTo := func(to int64) {
		t.Helper()
		if err := store.Update(ctx, func(tx *cdc.Tx) error { return cdcx.Tx(tx).AdvanceBookmark(ctx, changelog.BookmarkFromSeq(to)) }); err != nil {
			t.Fatal(err)
		}
	}
	put := func(id string) {
		t.Helper()
		if err := users.Put(ctx, id, user{Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	em, err := emitter.New(store, emitter.Options{Endpoint: in.URL, Bucket: bucket, CDC: true, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)

	// A fresh store moved on before its first change: only the mark.
	advanceTo(100)
	if err := em.Flush(ctx); err != nil {
		t.Fatalf("flush with only a mark: %v", err)
	}
	if n := len(in.events()); n != 0 {
		t.Fatalf("a mark was delivered as %d events", n)
	}
	put("a") // 101
	put("b") // 102
	advanceTo(200)
	put("c") // 201: the mark sits inside the batch 102..201
	put("d") // 202
	advanceTo(300)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	put("e") // 301
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	want := []int64{101, 102, 201, 202, 301}
	check := func(name string, evs []events.Event) {
		t.Helper()
		var got []int64
		for _, ev := range evs {
			c, ok := ev.(events.CollectionChange)
			if !ok {
				t.Fatalf("%s: unexpected event %T", name, ev)
			}
			seq, err := cdc.Bookmark(c.Bookmark).Seq()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, seq)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: bookmarks %v, want %v", name, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: bookmarks %v, want %v", name, got, want)
			}
		}
	}
	check("http", in.events())
	check("lake", lakeEvents(t, bucket))
	st := em.Stats()
	if st.HTTP.CDCCursor != changelog.BookmarkFromSeq(301) || st.Lake.CDCCursor != changelog.BookmarkFromSeq(301) {
		t.Fatalf("cursors %s, %s; want 301", st.HTTP.CDCCursor, st.Lake.CDCCursor)
	}
	// Every delivered row but the newest is pruned, marks included.
	var rows int
	if err := cdcx.Store(store).QueryRowContext(ctx, `SELECT count(*) FROM cdc_changes`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("%d change-log rows left after delivery, want 1", rows)
	}
	if bm, err := store.Bookmark(ctx); err != nil || bm != changelog.BookmarkFromSeq(301) {
		t.Fatalf("bookmark %s, %v; want 301", bm, err)
	}
}
