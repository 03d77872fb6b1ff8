package cdc_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

// TestShippedBookmarkNotReissuedAfterLostTail simulates a power loss that
// takes the last commits after they were shipped: the database file is put
// back to a copy taken before them. The store must number its next change
// past everything shipped, never reissuing a bookmark.
func TestShippedBookmarkNotReissuedAfterLostTail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "store.db")
	durable := filepath.Join(dir, "durable.db")

	s, err := cdc.Open(ctx, path)
	must(t, err)
	users := newUsers(t, s)
	putN(t, users, 5)
	must(t, cdcx.Store(s).Shipping(ctx, changelog.BookmarkFromSeq(5))) // a synced commit
	// What survives the power loss: everything committed up to here.
	copyDB(t, path, durable)
	// Later commits (synchronous=NORMAL, not synced) are read and shipped:
	// they are below the reserved mark, so no synced commit is needed.
	for i := 5; i < 10; i++ {
		must(t, users.Put(ctx, "late", User{Age: i}))
	}
	shipped, err := s.Bookmark(ctx)
	must(t, err)
	must(t, cdcx.Store(s).Shipping(ctx, shipped))
	must(t, s.Close())

	// Power loss: the tail is gone, and the machine booted again.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	rebooted(t, durable)
	must(t, os.Rename(durable, path))

	s, err = cdc.Open(ctx, path)
	must(t, err)
	defer s.Close()
	users = newUsers(t, s)
	if _, ok, _ := users.Get(ctx, "late"); ok {
		t.Fatal("the simulated loss kept the tail")
	}
	must(t, users.Put(ctx, "after", User{}))
	ch, err := users.Changes(ctx, changelog.BookmarkFromSeq(5), 10)
	must(t, err)
	if len(ch) != 1 || ch[0].DocID != "after" || ch[0].Bookmark <= shipped {
		t.Fatalf("first change after the loss: %+v; its bookmark must be after the shipped %s", ch, shipped)
	}
}

// TestShippingReservesAhead: shipping reserves numbers ahead, so shipping
// the next changes needs no synced commit; a clean reopen skips no number.
func TestShippingReservesAhead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := cdc.Open(ctx, path)
	must(t, err)
	users := newUsers(t, s)
	putN(t, users, 3)
	must(t, cdcx.Store(s).Shipping(ctx, changelog.BookmarkFromSeq(3)))
	var mark1 int64
	must(t, cdcx.Store(s).QueryRowContext(ctx, `SELECT value FROM cdc_meta WHERE key = 'shipped'`).Scan(&mark1))
	putN(t, users, 3)
	must(t, cdcx.Store(s).Shipping(ctx, changelog.BookmarkFromSeq(6)))
	var mark2 int64
	must(t, cdcx.Store(s).QueryRowContext(ctx, `SELECT value FROM cdc_meta WHERE key = 'shipped'`).Scan(&mark2))
	if mark1 <= 3 || mark2 != mark1 {
		t.Fatalf("marks %d then %d: want one reservation above 3", mark1, mark2)
	}
	must(t, s.Close())
	s, err = cdc.Open(ctx, path)
	must(t, err)
	defer s.Close()
	if bm, _ := s.Bookmark(ctx); bm != changelog.BookmarkFromSeq(6) {
		t.Fatalf("bookmark after a clean reopen %s, want 6 (the reservation was %d)", bm, mark1)
	}
}

// TestKilledProcessSkipsNoNumber: a process that dies without closing the
// store (SIGKILL, a panic) loses no commit (the OS has them), so the store
// opened again on the same boot continues right after its log, reservation
// or not.
func TestKilledProcessSkipsNoNumber(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := cdc.Open(ctx, path)
	must(t, err)
	users := newUsers(t, s)
	putN(t, users, 3)
	must(t, cdcx.Store(s).Shipping(ctx, changelog.BookmarkFromSeq(3)))
	// Not closed: a second handle sees what a restarted process would.
	again, err := cdc.Open(ctx, path)
	must(t, err)
	defer again.Close()
	if bm, _ := again.Bookmark(ctx); bm != changelog.BookmarkFromSeq(3) {
		t.Fatalf("bookmark after the unclean reopen %s, want 3", bm)
	}
	must(t, s.Close())
}

// rebooted makes the database at path look as if the machine restarted
// since its shipped mark was written.
func rebooted(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	must(t, err)
	defer db.Close()
	res, err := db.Exec(`UPDATE cdc_meta SET value = 'another boot' WHERE key = 'shipped_boot'`)
	must(t, err)
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("no boot id recorded with the shipped mark")
	}
}

// copyDB writes a consistent copy of the committed state of the database at
// from into to, through SQLite (which keeps its locks right).
func copyDB(t *testing.T, from, to string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+from)
	must(t, err)
	defer db.Close()
	_, err = db.Exec(`VACUUM INTO '` + to + `'`)
	must(t, err)
}
