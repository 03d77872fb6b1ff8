package fleet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/internal/watchpos"
	"github.com/dotdo/events/runtime/cdc"
)

// watchPage is the most changes a watcher reads per step.
const watchPage = 256

// Watch yields every change of store id after the bookmark after, then
// each new one as it commits, like cdc.Store.Watch. It does not keep the
// store open: when the fleet closes the store (idle, or to make room) the
// watcher waits, holding nothing, until the store is opened again (nothing
// can commit to it meanwhile) and goes on. A store that does not exist yet
// is waited for. The loop ends when ctx ends, with ErrClosed when the fleet
// closes, and with cdc.ErrPruned first when changes after after were
// pruned.
func (f *Fleet) Watch(ctx context.Context, id string, after cdc.Bookmark) iter.Seq2[cdc.RawChange, error] {
	return f.watch(ctx, id, after, "")
}

// WatchAs is Watch for a named, durable watcher of store id, like
// cdc.Store.WatchAs: it resumes after what its loop consumed, and its
// position, saved in the store, holds the store's change log (drop it
// with the store's DropWatcher, in Do). One loop per store and name at a
// time (cdc.ErrHeld); a bad name matches cdc.ErrInvalidOptions.
func (f *Fleet) WatchAs(ctx context.Context, id, name string) iter.Seq2[cdc.RawChange, error] {
	return f.watch(ctx, id, "", name)
}

// watch is Watch and WatchAs.
func (f *Fleet) watch(ctx context.Context, id string, after cdc.Bookmark, name string) iter.Seq2[cdc.RawChange, error] {
	return func(yield func(cdc.RawChange, error) bool) {
		pos, err := after.Seq()
		if err == nil {
			if err = events.ValidateStoreID(id); err != nil {
				err = fmt.Errorf("fleet: %w", err)
			}
		}
		if err == nil && name != "" {
			if problem := watchpos.CheckName(name); problem != "" {
				err = fmt.Errorf("fleet: %w: watcher name %q %s", cdc.ErrInvalidOptions, name, problem)
			}
		}
		if err != nil {
			yield(cdc.RawChange{}, err)
			return
		}
		var wp *watchpos.Position
		if name != "" {
			if wp, err = f.claimWatcher(ctx, id, name); err != nil {
				if ctx.Err() == nil {
					yield(cdc.RawChange{}, err)
				}
				return
			}
			defer f.unclaimWatcher(id, name)
			defer wp.Close(ctx)
			pos = wp.Start()
		}
		mustRead := true // what the store holds is not known yet
		// The loop's registration with the store object it last read.
		var (
			cur   *cdc.Store
			step  func(context.Context, int64, int) ([]cdc.RawChange, int64, <-chan struct{}, bool, error)
			leave = func() {}
		)
		defer func() { leave() }()
		for {
			st, opened, err := f.watchStore(ctx, id, pos, mustRead)
			if err != nil {
				if ctx.Err() == nil {
					yield(cdc.RawChange{}, err)
				}
				return
			}
			if st == nil {
				select {
				case <-opened:
					mustRead = true
					continue
				case <-ctx.Done():
					return
				}
			}
			if st.db != cur {
				leave()
				cur = st.db
				step, leave = cdcx.Store(st.db).Watcher()
			}
			page, through, wake, closed, err := step(ctx, pos, watchPage)
			f.releaseStore(st, false)
			switch {
			case closed:
				mustRead = true // closed while we took it: look again
				continue
			case err != nil && ctx.Err() != nil:
				return
			case err != nil:
				yield(cdc.RawChange{}, fmt.Errorf("fleet: watch %s: %w", id, err))
				return
			}
			for _, c := range page {
				if ctx.Err() != nil {
					return
				}
				seq, _ := c.Bookmark.Seq()
				more := yield(c, nil)
				if err := wp.Consumed(ctx, seq); err != nil && more {
					yield(cdc.RawChange{}, err)
					return
				}
				if !more {
					return
				}
			}
			pos = max(pos, through)
			if err := wp.Consumed(ctx, pos); err != nil {
				yield(cdc.RawChange{}, err)
				return
			}
			mustRead = len(page) == watchPage // a shorter page read all there was, and wake was taken before it
			if mustRead {
				continue
			}
			if err := wp.Idle(ctx); err != nil {
				yield(cdc.RawChange{}, err)
				return
			}
			select {
			case <-wake: // a commit, or the store closed
			case <-ctx.Done():
				return
			}
		}
	}
}

// watchStore returns store id with a reference when it is open, or when it
// must be opened to be read: mustRead, or it was closed holding changes
// after pos. Otherwise it returns a channel closed when the store is next
// opened.
func (f *Fleet) watchStore(ctx context.Context, id string, pos int64, mustRead bool) (*store, <-chan struct{}, error) {
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return nil, nil, ErrClosed
		}
		st := f.stores[id]
		switch {
		case st != nil && st.busy != nil: // opening or closing: wait for the outcome
			busy := st.busy
			f.mu.Unlock()
			select {
			case <-busy:
				continue
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		case st != nil && st.db != nil:
			st.refs++
			f.mu.Unlock()
			return st, nil, nil
		case mustRead || st != nil && pos < st.closedThrough:
			f.mu.Unlock()
			st, err := f.acquire(ctx, id, false, false)
			if errors.Is(err, fs.ErrNotExist) {
				mustRead = false // nothing to read until someone creates it
				continue
			}
			return st, nil, err
		}
		ch := f.openedLocked(id)
		f.mu.Unlock()
		return nil, ch, nil
	}
}

// openedLocked returns a channel closed when store id is next opened (or
// the fleet closes). f.mu is held.
func (f *Fleet) openedLocked(id string) <-chan struct{} {
	ch := f.opened[id]
	if ch == nil {
		ch = make(chan struct{})
		f.opened[id] = ch
	}
	return ch
}

// storeOpened wakes the watchers waiting for store id. f.mu is held.
func (f *Fleet) storeOpened(id string) {
	if ch := f.opened[id]; ch != nil {
		close(ch)
		delete(f.opened, id)
	}
}

// claimWatcher makes this loop the one watching store id under name and
// returns where it starts, from the store (waiting for a store that does
// not exist yet).
func (f *Fleet) claimWatcher(ctx context.Context, id, name string) (*watchpos.Position, error) {
	key := id + "\x00" + name
	f.mu.Lock()
	if f.named[key] {
		f.mu.Unlock()
		return nil, fmt.Errorf("fleet: %w: watcher %q of %s is watching already", cdc.ErrHeld, name, id)
	}
	f.named[key] = true
	f.mu.Unlock()
	var saved int64
	err := f.withStore(ctx, id, func(db *cdc.Store) (err error) {
		saved, err = cdcx.Store(db).WatcherStart(ctx, name)
		return err
	})
	if err != nil {
		f.unclaimWatcher(id, name)
		return nil, err
	}
	return watchpos.New(saved, func(ctx context.Context, seq int64) error {
		return f.withStore(ctx, id, func(db *cdc.Store) error {
			return cdcx.Store(db).SaveWatcher(ctx, name, seq)
		})
	}), nil
}

func (f *Fleet) unclaimWatcher(id, name string) {
	f.mu.Lock()
	delete(f.named, id+"\x00"+name)
	f.mu.Unlock()
}

// withStore runs fn with store id open, waiting for a store that does not
// exist yet to be created.
func (f *Fleet) withStore(ctx context.Context, id string, fn func(db *cdc.Store) error) error {
	for {
		st, err := f.acquire(ctx, id, false, false)
		if errors.Is(err, fs.ErrNotExist) {
			f.mu.Lock()
			if f.closed {
				f.mu.Unlock()
				return ErrClosed
			}
			ch := f.openedLocked(id)
			f.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err != nil {
			return err
		}
		defer f.releaseStore(st, false)
		return fn(st.db)
	}
}
