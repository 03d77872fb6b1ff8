package emitter_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// TestDeliveryKeepsHistory: with the default retention, changes the emitter
// delivered stay readable with Collection.Changes; with WithRetention(0, 0)
// they are pruned and reading them is cdc.ErrPruned, not a silent skip.
func TestDeliveryKeepsHistory(t *testing.T) {
	ctx := context.Background()
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprint("default retention=", keep), func(t *testing.T) {
			var opts []cdc.Option
			if !keep {
				opts = append(opts, cdc.WithRetention(0, 0))
			}
			s := openStore(t, opts...)
			users, err := cdc.NewCollection[map[string]int](s, "users")
			if err != nil {
				t.Fatal(err)
			}
			em, err := emitter.New(s, emitter.Options{Bucket: lake.Dir(filepath.Join(t.TempDir(), "lake")), CDC: true})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if err := users.Put(ctx, fmt.Sprint("u", i), map[string]int{"n": i}); err != nil {
					t.Fatal(err)
				}
			}
			if err := em.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := em.Close(ctx); err != nil {
				t.Fatal(err)
			}
			ch, err := users.Changes(ctx, "", 100)
			if keep && (err != nil || len(ch) != 10) {
				t.Fatalf("history after delivery: %d changes, %v; want 10", len(ch), err)
			}
			if !keep && !errors.Is(err, cdc.ErrPruned) {
				t.Fatalf("history after delivery with no retention: %d changes, %v; want cdc.ErrPruned", len(ch), err)
			}
		})
	}
}

// TestNamedWatcherHoldsTheLog: with no retention, an emitter that
// delivered every change prunes none a named watcher has not consumed
// (rule 4); once the watcher is dropped, the next delivery prunes them.
func TestNamedWatcherHoldsTheLog(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, cdc.WithRetention(0, 0))
	users, err := cdc.NewCollection[map[string]int](s, "users")
	if err != nil {
		t.Fatal(err)
	}
	put := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := users.Put(ctx, fmt.Sprint("u", i), map[string]int{"n": i}); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(0, 10)
	var seen []string
	for c, err := range users.WatchAs(ctx, "mailer") {
		if err != nil {
			t.Fatal(err)
		}
		if seen = append(seen, c.DocID); len(seen) == 3 {
			break
		}
	}
	em, err := emitter.New(s, emitter.Options{Bucket: lake.Dir(filepath.Join(t.TempDir(), "lake")), CDC: true})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rest, err := users.Changes(ctx, changelog.BookmarkFromSeq(3), 100)
	if err != nil || len(rest) != 7 {
		t.Fatalf("after delivery, the changes the watcher has not seen: %d, %v; want 7", len(rest), err)
	}
	if err := s.DropWatcher(ctx, "mailer"); err != nil {
		t.Fatal(err)
	}
	put(10, 12)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Changes(ctx, changelog.BookmarkFromSeq(3), 100); !errors.Is(err, cdc.ErrPruned) {
		t.Fatalf("after DropWatcher and another delivery: %v; want cdc.ErrPruned", err)
	}
}
