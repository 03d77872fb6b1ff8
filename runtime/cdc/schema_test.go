package cdc_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
)

// TestNewCollectionExistingWritesNothing opens a collection whose table and
// indexes exist while another connection holds the database's write lock:
// it must not need the lock (it used to run CREATE INDEX IF NOT EXISTS in a
// write transaction on every call, waiting out the busy timeout here).
func TestNewCollectionExistingWritesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s1, err := cdc.Open(ctx, path)
	must(t, err)
	defer s1.Close()
	must(t, newUsers(t, s1).Put(ctx, "u1", User{Email: "a@x"}))
	s2, err := cdc.Open(ctx, path) // a second store: nothing cached yet
	must(t, err)
	defer s2.Close()

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(100)")
	must(t, err)
	defer db.Close()
	conn, err := db.Conn(ctx)
	must(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	must(t, err)
	defer conn.ExecContext(ctx, "ROLLBACK") //nolint:errcheck

	users := newUsers(t, s2) // fails (busy) if it needs the write lock
	docs, err := users.Find(ctx, fEmail.Eq("a@x"), cdc.FindOptions{})
	if err != nil || len(docs) != 1 {
		t.Fatalf("Find = %v, %v", docs, err)
	}
}

// TestNewCollectionAddsIndexLater: an index added to an existing collection
// is created, also when the others are already known to exist.
func TestNewCollectionAddsIndexLater(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	must(t, users.Put(ctx, "u1", User{Address: Address{City: "Oslo"}}))
	indexes := func() int {
		var n int
		must(t, cdcx.Store(s).QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name LIKE 'ix_users_%'`).Scan(&n))
		return n
	}
	if n := indexes(); n != 2 {
		t.Fatalf("%d indexes, want 2", n)
	}
	again, err := cdc.NewCollection[User](s, "users", cdc.WithIndex(fEmail, fJoined, fCity))
	must(t, err)
	if n := indexes(); n != 3 {
		t.Fatalf("%d indexes after adding one, want 3", n)
	}
	docs, err := again.Find(ctx, fCity.Eq("Oslo"), cdc.FindOptions{})
	if err != nil || len(docs) != 1 {
		t.Fatalf("Find = %v, %v", docs, err)
	}
}
