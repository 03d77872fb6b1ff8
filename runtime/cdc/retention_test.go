package cdc_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

func openWith(t *testing.T, opts ...cdc.Option) *cdc.Store {
	t.Helper()
	s, err := cdc.Open(context.Background(), filepath.Join(t.TempDir(), "store.db"), opts...)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func putN(t *testing.T, users *cdc.Collection[User], n int) {
	t.Helper()
	for i := range n {
		must(t, users.Put(context.Background(), fmt.Sprintf("u%d", i), User{Age: i}))
	}
}

func release(t *testing.T, s *cdc.Store, consumer string, through int64) int64 {
	t.Helper()
	n, err := cdcx.Store(s).Release(context.Background(), consumer, changelog.BookmarkFromSeq(through))
	must(t, err)
	return n
}

// TestDefaultRetentionKeepsRecentHistory: with the default retention (7
// days) a consumer that delivered everything prunes nothing recent, and
// Changes still reads the whole history.
func TestDefaultRetentionKeepsRecentHistory(t *testing.T) {
	s := openStore(t)
	users := newUsers(t, s)
	putN(t, users, 10)
	if n := release(t, s, "emitter", 10); n != 0 {
		t.Fatalf("pruned %d recent changes", n)
	}
	ch, err := users.Changes(context.Background(), "", 100)
	if err != nil || len(ch) != 10 {
		t.Fatalf("Changes = %d, %v; want 10", len(ch), err)
	}
}

// TestPrunedChangesAreAnError: once delivered changes are pruned
// (retention 0), asking for them is ErrPruned, never a silent skip; from
// where the log was pruned on, reading works.
func TestPrunedChangesAreAnError(t *testing.T) {
	ctx := context.Background()
	s := openWith(t, cdc.WithRetention(0, 0))
	users := newUsers(t, s)
	putN(t, users, 10)
	if n := release(t, s, "emitter", 6); n != 6 {
		t.Fatalf("pruned %d, want 6", n)
	}
	for _, after := range []cdc.Bookmark{"", changelog.BookmarkFromSeq(5)} {
		if _, err := users.Changes(ctx, after, 100); !errors.Is(err, cdc.ErrPruned) {
			t.Fatalf("Changes(%q) = %v, want ErrPruned", after, err)
		}
		if _, err := s.ChangesAfter(ctx, after, 100); !errors.Is(err, cdc.ErrPruned) {
			t.Fatalf("ChangesAfter(%q) = %v, want ErrPruned", after, err)
		}
	}
	ch, err := users.Changes(ctx, changelog.BookmarkFromSeq(6), 100)
	if err != nil || len(ch) != 4 || ch[0].Bookmark != changelog.BookmarkFromSeq(7) {
		t.Fatalf("Changes after the pruned part = %d, %v", len(ch), err)
	}
	// Everything delivered: the newest row stays (bookmarks go on).
	if n := release(t, s, "emitter", 10); n != 3 {
		t.Fatalf("pruned %d, want 3", n)
	}
	must(t, users.Put(ctx, "x", User{}))
	if bm, _ := s.Bookmark(ctx); bm != changelog.BookmarkFromSeq(11) {
		t.Fatalf("bookmark %s after prune, want 11", bm)
	}
}

// TestPruneStaysBelowEveryConsumer: the log is pruned only below the lowest
// saved position of all its consumers.
func TestPruneStaysBelowEveryConsumer(t *testing.T) {
	s := openWith(t, cdc.WithRetention(0, 0))
	users := newUsers(t, s)
	putN(t, users, 10)
	if n := release(t, s, "lake", 3); n != 3 {
		t.Fatalf("pruned %d, want 3", n)
	}
	if n := release(t, s, "http", 8); n != 0 {
		t.Fatalf("pruned %d past the lake's position, want 0", n)
	}
	if n := release(t, s, "lake", 9); n != 5 { // now up to http's 8
		t.Fatalf("pruned %d, want 5", n)
	}
	// A position never goes back.
	if n := release(t, s, "lake", 1); n != 0 {
		t.Fatalf("pruned %d, want 0", n)
	}
	if _, err := users.Changes(context.Background(), changelog.BookmarkFromSeq(8), 10); err != nil {
		t.Fatal(err)
	}
}

// TestRetentionByCountAndAge: the newest keepCount changes stay, and so do
// changes younger than keep: pruning stops at the first one.
func TestRetentionByCountAndAge(t *testing.T) {
	ctx := context.Background()
	byCount := openWith(t, cdc.WithRetention(0, 3))
	putN(t, newUsers(t, byCount), 10)
	if n := release(t, byCount, "emitter", 10); n != 7 {
		t.Fatalf("count 3: pruned %d, want 7", n)
	}

	byAge := openWith(t, cdc.WithRetention(time.Hour, 0))
	old := time.Now().Add(-2 * time.Hour)
	must(t, byAge.Update(ctx, func(tx *cdc.Tx) error {
		for i := range 10 {
			ts := old
			if i >= 4 {
				ts = time.Now() // changes 5.. are young
			}
			if _, err := cdcx.Tx(tx).AppendChange(ctx, cdc.RawChange{Op: cdc.OpInsert, Collection: "ext", DocID: fmt.Sprint(i), TS: ts}); err != nil {
				return err
			}
		}
		return nil
	}))
	if n := release(t, byAge, "emitter", 10); n != 4 {
		t.Fatalf("age 1h: pruned %d, want the 4 old ones", n)
	}
	if _, err := byAge.ChangesAfter(ctx, changelog.BookmarkFromSeq(3), 10); !errors.Is(err, cdc.ErrPruned) {
		t.Fatalf("ChangesAfter(3) = %v, want ErrPruned", err)
	}
	if ch, err := byAge.ChangesAfter(ctx, changelog.BookmarkFromSeq(4), 10); err != nil || len(ch) != 6 {
		t.Fatalf("ChangesAfter(4) = %d, %v", len(ch), err)
	}
}

// TestOptionsGoWhereTheyBelong: each option is refused, matchably, by the
// constructor it does not belong to, and bad values are refused.
func TestOptionsGoWhereTheyBelong(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := cdc.Open(ctx, filepath.Join(dir, "a.db"), cdc.WithIndex(fEmail)); !errors.Is(err, cdc.ErrInvalidOptions) {
		t.Fatalf("Open(WithIndex) = %v", err)
	}
	if _, err := cdc.Open(ctx, filepath.Join(dir, "b.db"), cdc.WithRetention(-time.Second, 0)); !errors.Is(err, cdc.ErrInvalidOptions) {
		t.Fatalf("Open(WithRetention(-1s)) = %v", err)
	}
	s := openStore(t)
	if _, err := cdc.NewCollection[User](s, "users", cdc.WithRetention(time.Hour, 0)); !errors.Is(err, cdc.ErrInvalidOptions) {
		t.Fatalf("NewCollection(WithRetention) = %v", err)
	}
}
