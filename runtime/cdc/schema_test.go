package cdc_test

import (
	"context"
	"database/sql"
	"errors"
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

// TestCollectionNamesDifferingInCase: SQLite names ignore case, so "Users"
// would share the table of "users": refused, matchable, and nothing written.
func TestCollectionNamesDifferingInCase(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	must(t, users.Put(ctx, "u1", User{Name: "Ann"}))
	before := changeCount(t, s)
	for _, name := range []string{"Users", "USERS", "uSeRs"} {
		if _, err := cdc.NewCollection[User](s, name); !errors.Is(err, cdc.ErrInvalidCollection) {
			t.Fatalf("NewCollection(%q) = %v, want ErrInvalidCollection", name, err)
		}
	}
	// Also from a second handle on the file (nothing cached there).
	s2, err := cdc.Open(ctx, cdcx.Store(s).Path())
	must(t, err)
	defer s2.Close()
	if _, err := cdc.NewCollection[User](s2, "Users"); !errors.Is(err, cdc.ErrInvalidCollection) {
		t.Fatalf("second handle: NewCollection(Users) = %v", err)
	}
	names, err := cdcx.Store(s).Collections(ctx)
	must(t, err)
	if len(names) != 1 || names[0] != "users" {
		t.Fatalf("collections = %v", names)
	}
	if n := changeCount(t, s); n != before {
		t.Fatalf("%d change rows, want %d", n, before)
	}
	u, ok, err := users.Get(ctx, "u1")
	if err != nil || !ok || u.Name != "Ann" {
		t.Fatalf("Get = %+v, %v, %v", u, ok, err)
	}
	// Names that differ otherwise still work, and the same name again.
	if _, err := cdc.NewCollection[User](s, "users_2"); err != nil {
		t.Fatal(err)
	}
	if _, err := cdc.NewCollection[User](s2, "users"); err != nil {
		t.Fatal(err)
	}
}
