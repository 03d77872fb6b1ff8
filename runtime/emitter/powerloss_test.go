package emitter_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// TestShippedBookmarksSurvivePowerLoss: the last commits are lost after the
// emitter shipped them (simulated by putting back a copy of the database
// taken before them). Changes written afterwards must not reuse their
// bookmarks: in the lake, one bookmark names one change.
func TestShippedBookmarksSurvivePowerLoss(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "store.db")
	bucket := lake.Dir(filepath.Join(dir, "lake"))
	opts := emitter.Options{Bucket: bucket, CDC: true}
	put := func(s *cdc.Store, id string, n int) {
		t.Helper()
		users, err := cdc.NewCollection[map[string]int](s, "users")
		if err != nil {
			t.Fatal(err)
		}
		if err := users.Put(ctx, id, map[string]int{"n": n}); err != nil {
			t.Fatal(err)
		}
	}

	s, err := cdc.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	em, err := emitter.New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		put(s, fmt.Sprint("a", i), i)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// What a power loss now would keep: everything committed so far.
	durable := filepath.Join(dir, "durable.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`VACUUM INTO '` + durable + `'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// The power loss restarts the machine: the boot id the shipped mark
	// was written under is no longer the machine's.
	db, err = sql.Open("sqlite", "file:"+durable)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE cdc_meta SET value = 'another boot' WHERE key = 'shipped_boot'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for i := range 5 { // committed (not synced), read and shipped
		put(s, fmt.Sprint("b", i), i)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if err := os.Rename(durable, path); err != nil {
		t.Fatal(err)
	}

	s, err = cdc.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	em, err = emitter.New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		put(s, fmt.Sprint("c", i), i)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}
	byBookmark := map[string]string{}
	n := 0
	for _, ev := range lakeEvents(t, bucket) {
		c, ok := ev.(events.CollectionChange)
		if !ok {
			continue
		}
		n++
		if prev, dup := byBookmark[c.Bookmark]; dup && prev != c.DocID {
			t.Fatalf("bookmark %s names two changes: %s and %s", c.Bookmark, prev, c.DocID)
		}
		byBookmark[c.Bookmark] = c.DocID
	}
	if len(byBookmark) != 15 {
		t.Fatalf("%d distinct bookmarks in %d change events, want 15", len(byBookmark), n)
	}
}
