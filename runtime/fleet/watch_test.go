package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
)

// fleetWatch runs a fleet watch loop in a goroutine and hands over what it
// yields.
func fleetWatch(ctx context.Context, f *fleet.Fleet, id string, after cdc.Bookmark) (<-chan cdc.RawChange, <-chan error) {
	changes, end := make(chan cdc.RawChange, 1024), make(chan error, 1)
	go func() {
		defer close(end)
		for c, err := range f.Watch(ctx, id, after) {
			if err != nil {
				end <- err
				return
			}
			changes <- c
		}
	}()
	return changes, end
}

// takeChanges receives n changes (failing the test after 10 s).
func takeChanges(t *testing.T, changes <-chan cdc.RawChange, end <-chan error, n int) []cdc.RawChange {
	t.Helper()
	var got []cdc.RawChange
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case c := <-changes:
			got = append(got, c)
		case err := <-end:
			t.Fatalf("watch ended after %d of %d changes: %v", len(got), n, err)
		case <-timeout:
			t.Fatalf("watch: %d of %d changes after 10 s", len(got), n)
		}
	}
	return got
}

// TestWatchSurvivesEviction: a watcher of a store that does not exist yet
// sees its first changes; the fleet closes the store to make room (the
// watcher holds nothing open) and the watcher sees the changes made after
// it is opened again; every change once, in bookmark order, as the store's
// log has them.
func TestWatchSurvivesEviction(t *testing.T) {
	ctx := context.Background()
	f := openFleet(t, fleet.Options{Dir: t.TempDir(), MaxOpen: 2, IdleTimeout: -1,
		Emitter: emitter.Options{Bucket: lake.Dir(t.TempDir())}})
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changes, end := fleetWatch(wctx, f, "tenant-a", "")

	put := func(id string, n int) {
		t.Helper()
		if err := f.Do(ctx, id, func(s *cdc.Store) error {
			for i := range n {
				if err := users(t, s).Put(ctx, fmt.Sprintf("%s-u%d", id, i), user{N: i}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	put("tenant-a", 3)
	got := takeChanges(t, changes, end, 3)
	evictions := f.Stats().Evictions
	for _, other := range []string{"tenant-b", "tenant-c", "tenant-d"} {
		put(other, 1)
	}
	if f.Stats().Evictions < evictions+2 {
		t.Fatalf("evictions %d → %d: tenant-a was not closed", evictions, f.Stats().Evictions)
	}
	put("tenant-a", 5) // updates u0-u2, inserts u3, u4
	got = append(got, takeChanges(t, changes, end, 5)...)

	var want []cdc.RawChange
	if err := f.Do(ctx, "tenant-a", func(s *cdc.Store) error {
		var err error
		want, err = s.ChangesAfter(ctx, "", 100)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("watched %d changes, the log has %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Bookmark != want[i].Bookmark || got[i].DocID != want[i].DocID || got[i].Op != want[i].Op || string(got[i].Doc) != string(want[i].Doc) {
			t.Fatalf("change %d: watched %+v, log %+v", i, got[i], want[i])
		}
	}
	select {
	case c := <-changes:
		t.Fatalf("an extra change: %+v", c)
	default:
	}
	cancel()
	select {
	case err := <-end:
		if err != nil {
			t.Errorf("watch ended with %v after ctx ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end with ctx")
	}
}

// TestWatchEndsWithTheFleet: Close ends a waiting watcher with ErrClosed;
// a bad store id or bookmark is a matchable error.
func TestWatchEndsWithTheFleet(t *testing.T) {
	ctx := context.Background()
	f, err := fleet.Open(ctx, fleet.Options{Dir: t.TempDir(), Emitter: emitter.Options{Bucket: lake.Dir(t.TempDir())}})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range f.Watch(ctx, "../x", "") {
		if !errors.Is(err, events.ErrInvalidStoreID) {
			t.Errorf("bad id: %v, want ErrInvalidStoreID", err)
		}
	}
	for _, err := range f.Watch(ctx, "ok", "x") {
		if !errors.Is(err, cdc.ErrInvalidBookmark) {
			t.Errorf("bad bookmark: %v, want ErrInvalidBookmark", err)
		}
	}
	changes, end := fleetWatch(ctx, f, "nobody-yet", "")
	_, _ = changes, end
	time.Sleep(20 * time.Millisecond) // let it wait; the outcome does not depend on it
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-end:
		if !errors.Is(err, fleet.ErrClosed) {
			t.Errorf("watch ended with %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end with the fleet")
	}
}

// TestWatchAsAcrossFleets: a named watcher of a fleet's store resumes,
// in the next fleet, after the last change its loop consumed; its
// position holds the store's log against the fleet's delivery with no
// retention; a second loop of the same name fails with cdc.ErrHeld.
func TestWatchAsAcrossFleets(t *testing.T) {
	ctx := context.Background()
	dir, lakeDir := t.TempDir(), t.TempDir()
	opts := fleet.Options{Dir: dir, Emitter: emitter.Options{Bucket: lake.Dir(lakeDir)}, Store: []cdc.Option{cdc.WithRetention(0, 0)}}
	put := func(f *fleet.Fleet, from, to int) {
		t.Helper()
		if err := f.Do(ctx, "shop", func(s *cdc.Store) error {
			for i := from; i < to; i++ {
				if err := users(t, s).Put(ctx, fmt.Sprintf("u%d", i), user{N: i}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	f1, err := fleet.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	put(f1, 0, 10)
	var seen []string
	for c, err := range f1.WatchAs(ctx, "shop", "mailer") {
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range f1.WatchAs(ctx, "shop", "mailer") {
			if !errors.Is(err, cdc.ErrHeld) {
				t.Errorf("a second loop of one name: %v, want cdc.ErrHeld", err)
			}
		}
		if seen = append(seen, c.DocID); len(seen) == 4 {
			break
		}
	}
	if err := f1.Flush(ctx); err != nil { // delivers all 10: only the watcher holds the log
		t.Fatal(err)
	}
	if err := f1.Close(ctx); err != nil {
		t.Fatal(err)
	}

	f2 := openFleet(t, opts)
	if err := f2.Do(ctx, "shop", func(s *cdc.Store) error {
		if _, err := s.ChangesAfter(ctx, "", 100); !errors.Is(err, cdc.ErrPruned) {
			t.Errorf("the whole log after delivery with no retention: %v, want cdc.ErrPruned (pruned up to the watcher)", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var resumed []string
	for c, err := range f2.WatchAs(wctx, "shop", "mailer") {
		if err != nil {
			t.Fatal(err)
		}
		if resumed = append(resumed, c.DocID); len(resumed) == 6 {
			break
		}
	}
	if fmt.Sprint(seen, resumed) != "[u0 u1 u2 u3] [u4 u5 u6 u7 u8 u9]" {
		t.Errorf("first loop %v, second %v; want u0-u3 then u4-u9", seen, resumed)
	}
	for _, err := range f2.WatchAs(ctx, "shop", "Bad Name") {
		if !errors.Is(err, cdc.ErrInvalidOptions) {
			t.Errorf("bad name: %v, want cdc.ErrInvalidOptions", err)
		}
	}
}
