package cdc

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestHubHoldsOnlyWhatWatchersNeed: the tail lets go of what every watcher
// has consumed (a caught-up watcher leaves it small however many changes
// pass), keeps what a slow watcher has not read, and is dropped, its
// refresher stopped, when the last watcher leaves.
func TestHubHoldsOnlyWhatWatchersNeed(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type doc struct{ N int }
	c, err := NewCollection[doc](s, "docs")
	if err != nil {
		t.Fatal(err)
	}
	state := func() (int, bool) {
		s.hub.mu.Lock()
		defer s.hub.mu.Unlock()
		return len(s.hub.tail), s.hub.quit != nil
	}
	wctx, cancel := context.WithCancel(ctx)
	var seen atomic.Int64
	fastDone := make(chan struct{})
	go func() {
		defer close(fastDone)
		for _, err := range s.Watch(wctx, "") {
			if err != nil {
				return
			}
			seen.Add(1)
		}
	}()
	// A slow watcher: it takes one change and then holds the loop.
	slowHeld, slowGo := make(chan struct{}), make(chan struct{})
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		for _, err := range s.Watch(wctx, "") {
			if err != nil {
				return
			}
			close(slowHeld)
			<-slowGo
			return
		}
	}()
	for i := range 2000 {
		if err := c.Put(ctx, fmt.Sprintf("d%d", i), doc{i}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-slowHeld
		}
	}
	waitUntil(t, "the tail to hold what the slow watcher has not read", func() bool {
		n, _ := state()
		return n >= 1999
	})
	close(slowGo)
	<-slowDone
	// Only the fast watcher is left: once it has caught up, the next commit
	// lets go of what it has read.
	for i := range 200 {
		if err := c.Put(ctx, fmt.Sprintf("e%d", i), doc{i}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the fast watcher to see every change", func() bool { return seen.Load() == 2200 })
	if err := c.Put(ctx, "last", doc{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a caught-up watcher to leave the tail small", func() bool {
		n, running := state()
		return n < 2*minTrim && running
	})
	waitUntil(t, "the fast watcher to see the last change", func() bool { return seen.Load() == 2201 })
	cancel()
	<-fastDone
	waitUntil(t, "the tail to be dropped and the refresher stopped", func() bool {
		n, running := state()
		return n == 0 && !running
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
