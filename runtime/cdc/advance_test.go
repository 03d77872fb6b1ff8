package cdc_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

func advance(t testing.TB, s *cdc.Store, to int64) {
	t.Helper()
	must(t, s.Update(context.Background(), func(tx *cdc.Tx) error {
		return cdcx.Tx(tx).AdvanceBookmark(context.Background(), changelog.BookmarkFromSeq(to))
	}))
}

func bookmarkOf(t testing.TB, s *cdc.Store) int64 {
	t.Helper()
	bm, err := s.Bookmark(context.Background())
	must(t, err)
	seq, err := bm.Seq()
	must(t, err)
	return seq
}

func TestAdvanceBookmarkFreshStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := cdc.Open(ctx, path)
	must(t, err)
	defer func() { s.Close() }()
	users := newUsers(t, s)

	advance(t, s, 1000)
	if got := bookmarkOf(t, s); got != 1000 {
		t.Fatalf("bookmark after advance = %d, want 1000", got)
	}
	// The mark is not a change: no reader returns it.
	if all, err := s.ChangesAfter(ctx, "", 10); err != nil || len(all) != 0 {
		t.Fatalf("ChangesAfter after advance = %v, %v; want nothing", all, err)
	}
	must(t, users.Put(ctx, "u1", User{Name: "Ann"}))
	if got := bookmarkOf(t, s); got != 1001 {
		t.Fatalf("bookmark after put = %d, want 1001", got)
	}
	// Inside a transaction too, and Tx.Bookmark sees the advance at once.
	must(t, s.Update(ctx, func(tx *cdc.Tx) error {
		if err := cdcx.Tx(tx).AdvanceBookmark(ctx, changelog.BookmarkFromSeq(2000)); err != nil {
			return err
		}
		bm, err := cdcx.Tx(tx).Bookmark(ctx)
		if err != nil {
			return err
		}
		if bm != changelog.BookmarkFromSeq(2000) {
			t.Errorf("Tx.Bookmark after advance = %s, want 2000", bm)
		}
		return users.With(tx).Put(ctx, "u2", User{Name: "Bob"})
	}))
	all, err := s.ChangesAfter(ctx, "", 10)
	must(t, err)
	if len(all) != 2 || all[0].Bookmark != changelog.BookmarkFromSeq(1001) || all[1].Bookmark != changelog.BookmarkFromSeq(2001) {
		t.Fatalf("changes = %+v, want u1 at 1001 and u2 at 2001", all)
	}
	for _, after := range []cdc.Bookmark{"", changelog.BookmarkFromSeq(999), changelog.BookmarkFromSeq(1000), changelog.BookmarkFromSeq(1001)} {
		chs, err := users.Changes(ctx, after, 10)
		must(t, err)
		for _, c := range chs {
			if c.Collection != "users" || (c.DocID != "u1" && c.DocID != "u2") {
				t.Fatalf("Changes(%s) returned %+v", after, c)
			}
		}
	}
	tx, err := s.ChangesAfter(ctx, changelog.BookmarkFromSeq(1001), 10)
	must(t, err)
	if len(tx) != 1 || tx[0].DocID != "u2" {
		t.Fatalf("ChangesAfter(1001) = %+v, want only u2 (the mark at 2000 skipped)", tx)
	}

	// Reopening keeps the number.
	must(t, s.Close())
	s, err = cdc.Open(ctx, path)
	must(t, err)
	users = newUsers(t, s)
	if got := bookmarkOf(t, s); got != 2001 {
		t.Fatalf("bookmark after reopen = %d, want 2001", got)
	}
	must(t, users.Put(ctx, "u3", User{Name: "Cy"}))
	if got := bookmarkOf(t, s); got != 2002 {
		t.Fatalf("bookmark after reopen and put = %d, want 2002", got)
	}
}

func TestAdvanceBookmarkNeverGoesBack(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	for _, id := range []string{"a", "b", "c"} {
		must(t, users.Put(ctx, id, User{Name: id}))
	}
	rows := changeCount(t, s)
	for _, to := range []int64{0, 1, 3} {
		advance(t, s, to)
	}
	if got, n := bookmarkOf(t, s), changeCount(t, s); got != 3 || n != rows {
		t.Fatalf("after advancing backwards: bookmark %d, %d rows; want 3, %d", got, n, rows)
	}
	advance(t, s, 10)
	advance(t, s, 5) // behind the mark: nothing
	if got := bookmarkOf(t, s); got != 10 {
		t.Fatalf("bookmark = %d, want 10", got)
	}
	must(t, users.Put(ctx, "d", User{Name: "d"}))
	if got := bookmarkOf(t, s); got != 11 {
		t.Fatalf("bookmark after put = %d, want 11", got)
	}
	// A bad bookmark is refused with the package's error.
	err := s.Update(ctx, func(tx *cdc.Tx) error { return cdcx.Tx(tx).AdvanceBookmark(ctx, "12") })
	if !errors.Is(err, cdc.ErrInvalidBookmark) {
		t.Fatalf("advance to a bad bookmark: %v, want ErrInvalidBookmark", err)
	}
}

func TestAdvanceBookmarkReadOnly(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	err := s.View(ctx, func(tx *cdc.Tx) error { return cdcx.Tx(tx).AdvanceBookmark(ctx, changelog.BookmarkFromSeq(5)) })
	if !errors.Is(err, cdc.ErrReadOnly) {
		t.Fatalf("advance in a View: %v, want ErrReadOnly", err)
	}
	if got := bookmarkOf(t, s); got != 0 {
		t.Fatalf("bookmark = %d, want 0", got)
	}
}

func TestAdvanceBookmarkPrune(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	// A mark as the newest row: pruning through it keeps it, so the next
	// change still follows it.
	advance(t, s, 50)
	n, err := cdcx.Store(s).PruneChanges(ctx, changelog.BookmarkFromSeq(50))
	must(t, err)
	if n != 0 || bookmarkOf(t, s) != 50 {
		t.Fatalf("prune of the only mark deleted %d, bookmark %d; want 0, 50", n, bookmarkOf(t, s))
	}
	must(t, users.Put(ctx, "a", User{Name: "a"}))
	// Now the mark is older than a change: it is pruned like one, and the
	// numbers keep going.
	n, err = cdcx.Store(s).PruneChanges(ctx, changelog.BookmarkFromSeq(51))
	must(t, err)
	if n != 1 || changeCount(t, s) != 1 {
		t.Fatalf("prune deleted %d, %d rows left; want 1, 1", n, changeCount(t, s))
	}
	must(t, users.Put(ctx, "b", User{Name: "b"}))
	if got := bookmarkOf(t, s); got != 52 {
		t.Fatalf("bookmark after prune and put = %d, want 52", got)
	}
	// The pruned changes are gone: reading from the start says so, reading
	// from where the log was pruned gives the rest.
	if _, err := s.ChangesAfter(ctx, "", 10); !errors.Is(err, cdc.ErrPruned) {
		t.Fatalf("changes from the start after a prune: %v, want ErrPruned", err)
	}
	all, err := s.ChangesAfter(ctx, changelog.BookmarkFromSeq(50), 10)
	must(t, err)
	if len(all) != 2 || all[0].Bookmark != changelog.BookmarkFromSeq(51) || all[1].Bookmark != changelog.BookmarkFromSeq(52) {
		t.Fatalf("changes after prune = %+v", all)
	}
}
