package cdc_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

// watched collects what a Watch loop yields, in a goroutine.
type watched struct {
	mu      sync.Mutex
	changes []cdc.RawChange
	err     error
	grew    chan struct{} // signalled at each change
	done    chan struct{} // closed when the loop ends
}

func watch(seq func(yield func(cdc.RawChange, error) bool)) *watched {
	w := &watched{grew: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for c, err := range seq {
			w.mu.Lock()
			if err != nil {
				w.err = err
			} else {
				w.changes = append(w.changes, c)
			}
			w.mu.Unlock()
			select {
			case w.grew <- struct{}{}:
			default:
			}
		}
	}()
	return w
}

// waitFor waits until the loop has yielded n changes (or fails the test
// after 10 s) and returns them.
func (w *watched) waitFor(t *testing.T, n int) []cdc.RawChange {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		w.mu.Lock()
		got, err := append([]cdc.RawChange(nil), w.changes...), w.err
		w.mu.Unlock()
		if err != nil {
			t.Fatalf("watch: %v (after %d changes)", err, len(got))
		}
		if len(got) >= n {
			return got
		}
		select {
		case <-w.grew:
		case <-w.done:
			t.Fatalf("watch ended after %d of %d changes", len(got), n)
		case <-deadline:
			t.Fatalf("watch: %d of %d changes after 10 s", len(got), n)
		}
	}
}

// ended waits for the loop to end (or fails the test after 10 s).
func (w *watched) ended(t *testing.T) error {
	t.Helper()
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// sameAsLog checks that got is the store's change log after after, change
// for change.
func sameAsLog(t *testing.T, s *cdc.Store, after cdc.Bookmark, got []cdc.RawChange) {
	t.Helper()
	want, err := s.ChangesAfter(context.Background(), after, 1<<30)
	must(t, err)
	if len(got) != len(want) {
		t.Fatalf("watch yielded %d changes, the log has %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Bookmark != w.Bookmark || g.Op != w.Op || g.Collection != w.Collection || g.DocID != w.DocID ||
			string(g.Doc) != string(w.Doc) || string(g.Prev) != string(w.Prev) || !g.TS.Equal(w.TS) {
			t.Fatalf("change %d: watch %+v, log %+v", i, g, w)
		}
	}
}

// TestWatchExistingThenLive: Watch yields the changes after its bookmark,
// then each new one as it commits (autocommit puts and deletes, Update,
// PutMany), in bookmark order, and ends when ctx ends.
func TestWatchExistingThenLive(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	for i := range 3 {
		must(t, users.Put(ctx, fmt.Sprintf("u%d", i), User{Name: "old", Age: i}))
	}
	first, err := s.ChangesAfter(ctx, "", 1)
	must(t, err)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := watch(s.Watch(wctx, first[0].Bookmark))
	w.waitFor(t, 2)

	must(t, users.Put(ctx, "u1", User{Name: "new"}))
	_, err = users.Delete(ctx, "u0")
	must(t, err)
	must(t, s.Update(ctx, func(tx *cdc.Tx) error {
		return users.With(tx).Put(ctx, "u9", User{Name: "in tx"})
	}))
	must(t, users.PutMany(ctx, []cdc.Entry[User]{{ID: "m1"}, {ID: "m2"}}))
	_, err = users.Clear(ctx)
	must(t, err)
	got := w.waitFor(t, 2+5+5)
	sameAsLog(t, s, first[0].Bookmark, got)
	if got[2].Op != cdc.OpUpdate || string(got[2].Prev) == "" {
		t.Errorf("live update: %+v, want an update with its previous document", got[2])
	}
	cancel()
	if err := w.ended(t); err != nil {
		t.Errorf("watch ended with %v, want nothing after ctx ended", err)
	}
}

// TestWatchNeverYieldsRolledBack: changes of a transaction that rolled
// back are never yielded, also when the next commit reuses their numbers.
func TestWatchNeverYieldsRolledBack(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := watch(s.Watch(wctx, ""))
	boom := errors.New("boom")
	for i := range 20 {
		err := s.Update(ctx, func(tx *cdc.Tx) error {
			must(t, users.With(tx).Put(ctx, fmt.Sprintf("gone%d", i), User{Name: "rolled back"}))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("update: %v", err)
		}
		must(t, users.Put(ctx, fmt.Sprintf("kept%d", i), User{Name: "kept"}))
	}
	got := w.waitFor(t, 20)
	for _, c := range got {
		if c.DocID[:4] != "kept" {
			t.Errorf("watch yielded %s, which rolled back", c.DocID)
		}
	}
	sameAsLog(t, s, "", got)
}

// TestWatchersSeeEveryCommit: 16 watchers of a store written by two
// goroutines at once each see the whole log, in order, with nothing
// missing; so does a collection's typed watcher, for its own changes.
func TestWatchersSeeEveryCommit(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	notes, err := cdc.NewCollection[User](s, "notes")
	must(t, err)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ws []*watched
	for range 16 {
		ws = append(ws, watch(s.Watch(wctx, "")))
	}
	typed := make(chan []cdc.Change[User], 1)
	go func() {
		var got []cdc.Change[User]
		for ch, err := range notes.Watch(wctx, "") {
			if err != nil {
				t.Error(err)
				break
			}
			got = append(got, ch)
			if len(got) == 200 {
				break
			}
		}
		typed <- got
	}()
	var wg sync.WaitGroup
	for g, c := range []*cdc.Collection[User]{users, notes} {
		wg.Go(func() {
			for i := range 200 {
				if err := c.Put(ctx, fmt.Sprintf("g%d-%d", g, i), User{Age: i}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, w := range ws {
		sameAsLog(t, s, "", w.waitFor(t, 400))
	}
	select {
	case got := <-typed:
		for i, ch := range got {
			if ch.Collection != "notes" || ch.DocID != fmt.Sprintf("g1-%d", i) || ch.Doc == nil || ch.Doc.Age != i {
				t.Fatalf("typed change %d: %+v", i, ch)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the typed watcher did not see 200 changes")
	}
}

// TestWatchFarBehind: a watcher starting far behind, and one watching a
// commit bigger than the in-memory tail, read everything from the log.
func TestWatchFarBehind(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	entries := make([]cdc.Entry[User], 6000)
	for i := range entries {
		entries[i] = cdc.Entry[User]{ID: fmt.Sprintf("u%05d", i), Doc: User{Age: i}}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	live := watch(s.Watch(wctx, ""))
	must(t, users.PutMany(ctx, entries))
	must(t, users.PutMany(ctx, entries))
	late := watch(s.Watch(wctx, ""))
	sameAsLog(t, s, "", live.waitFor(t, 12000))
	sameAsLog(t, s, "", late.waitFor(t, 12000))
}

// TestWatchErrors: a bad bookmark, a pruned start and a closed store end
// the loop with a matchable error.
func TestWatchErrors(t *testing.T) {
	ctx := context.Background()
	s := openWith(t, cdc.WithRetention(0, 0))
	users := newUsers(t, s)
	putN(t, users, 10)

	for _, err := range s.Watch(ctx, "nope") {
		if !errors.Is(err, cdc.ErrInvalidBookmark) {
			t.Errorf("bad bookmark: %v, want ErrInvalidBookmark", err)
		}
		break
	}
	release(t, s, "sink", 5)
	n := 0
	for _, err := range s.Watch(ctx, "") {
		n++
		if !errors.Is(err, cdc.ErrPruned) {
			t.Errorf("pruned start: %v, want ErrPruned", err)
		}
	}
	if n != 1 {
		t.Errorf("pruned start: %d values yielded, want the error alone", n)
	}
	w := watch(s.Watch(ctx, changelog.BookmarkFromSeq(5)))
	w.waitFor(t, 5)
	must(t, s.Close())
	if err := w.ended(t); !errors.Is(err, cdc.ErrClosed) {
		t.Errorf("closed store: %v, want ErrClosed", err)
	}
}

// TestWatchAs: a named watcher resumes after what its loop consumed (a
// break counts), holds the log against pruning until dropped, and runs
// once per name at a time.
func TestWatchAs(t *testing.T) {
	ctx := context.Background()
	s := openWith(t, cdc.WithRetention(0, 0))
	users := newUsers(t, s)
	putN(t, users, 10)

	var seen []string
	for c, err := range s.WatchAs(ctx, "mailer") {
		must(t, err)
		seen = append(seen, c.DocID)
		if len(seen) == 4 {
			break
		}
	}
	// Every change was delivered elsewhere: only the watcher holds the log.
	release(t, s, "sink", 10)
	if _, err := s.ChangesAfter(ctx, changelog.BookmarkFromSeq(4), 100); err != nil {
		t.Fatalf("changes after the watcher's position: %v", err)
	}

	wctx, cancel := context.WithCancel(ctx)
	w := watch(s.WatchAs(wctx, "mailer"))
	got := w.waitFor(t, 6)
	if got[0].DocID != "u4" || len(got) != 6 {
		t.Fatalf("resumed at %s with %d changes, want u4 and 6", got[0].DocID, len(got))
	}
	for _, err := range s.WatchAs(ctx, "mailer") {
		if !errors.Is(err, cdc.ErrHeld) {
			t.Errorf("second loop of one name: %v, want ErrHeld", err)
		}
	}
	if err := s.DropWatcher(ctx, "mailer"); !errors.Is(err, cdc.ErrHeld) {
		t.Errorf("dropping a watching watcher: %v, want ErrHeld", err)
	}
	cancel()
	if err := w.ended(t); err != nil {
		t.Fatal(err)
	}
	must(t, s.DropWatcher(ctx, "mailer"))
	release(t, s, "sink", 10)
	if _, err := s.ChangesAfter(ctx, changelog.BookmarkFromSeq(4), 100); !errors.Is(err, cdc.ErrPruned) {
		t.Errorf("after DropWatcher: %v, want the log pruned (ErrPruned)", err)
	}

	for _, name := range []string{"", "Mailer", "a:b", string(make([]byte, 65))} {
		for _, err := range s.WatchAs(ctx, name) {
			if !errors.Is(err, cdc.ErrInvalidOptions) {
				t.Errorf("name %q: %v, want ErrInvalidOptions", name, err)
			}
		}
		if err := s.DropWatcher(ctx, name); !errors.Is(err, cdc.ErrInvalidOptions) {
			t.Errorf("DropWatcher(%q): %v, want ErrInvalidOptions", name, err)
		}
	}
}

// TestWatchAsNewNameStartsAtOldestKept: a name not seen before starts at
// the oldest change the log keeps, not with ErrPruned.
func TestWatchAsNewNameStartsAtOldestKept(t *testing.T) {
	ctx := context.Background()
	s := openWith(t, cdc.WithRetention(0, 0))
	users := newUsers(t, s)
	putN(t, users, 10)
	release(t, s, "sink", 6)
	var ids []string
	for c, err := range users.WatchAs(ctx, "late") {
		must(t, err)
		ids = append(ids, c.DocID)
		if len(ids) == 4 {
			break
		}
	}
	if fmt.Sprint(ids) != "[u6 u7 u8 u9]" {
		t.Errorf("a new watcher saw %v, want [u6 u7 u8 u9]", ids)
	}
}
