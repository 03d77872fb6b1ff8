package cdc

import (
	"context"
	"fmt"
	"iter"

	"github.com/dotdo/events/internal/watchpos"
	"github.com/dotdo/events/runtime/changelog"
)

// watchPage is the most changes a watcher takes from the log or the tail
// at once.
const watchPage = 256

// watcherPrefix starts a named watcher's consumer name in cdc_positions,
// where sinks' names (which cannot hold ':') are the others.
const watcherPrefix = "watch:"

// Watch yields every change of the store after the bookmark after (the
// zero Bookmark: from the oldest change kept), in bookmark order, then each
// new change as it commits, until ctx ends (the loop then just ends) or the
// store is closed (ErrClosed). A rolled-back change is never yielded. When
// changes after after have been pruned it yields ErrPruned first and ends.
//
// Commits through this Store wake its watchers: one goroutine per watched
// store reads what each commit added, once for all of them (a watcher far
// behind reads the log itself). Another process writing the same file does
// not wake them. The Doc and Prev bytes of a change are the caller's.
func (s *Store) Watch(ctx context.Context, after Bookmark) iter.Seq2[RawChange, error] {
	return s.watch(ctx, after, "", "")
}

// WatchAs is Watch for a named, durable watcher: it starts after the
// position saved under name, or at the oldest change kept for a name not
// seen before, and saves its position as the loop goes on. A change counts
// as consumed once the loop body has returned for it (also by breaking out
// of the loop). The saved position holds the change log: changes the
// watcher has not consumed are never pruned (DropWatcher releases it).
// Positions are saved every 256 changes and, once caught up, at most every
// second, so after a crash the watcher sees again at most that much.
//
// A name is 1-64 bytes of a-z, 0-9, '.', '_' and '-'; one loop per name
// at a time (a second one fails with ErrHeld).
func (s *Store) WatchAs(ctx context.Context, name string) iter.Seq2[RawChange, error] {
	if err := validWatcherName(name); err != nil {
		return failed[RawChange](err)
	}
	return s.watch(ctx, "", "", name)
}

// failed is a loop that yields err alone.
func failed[V any](err error) iter.Seq2[V, error] {
	return func(yield func(V, error) bool) {
		var zero V
		yield(zero, err)
	}
}

// DropWatcher deletes the saved position of the named watcher (see
// WatchAs), so the change log no longer waits for it. Dropping a name that
// has none does nothing; dropping one that is watching fails with ErrHeld.
func (s *Store) DropWatcher(ctx context.Context, name string) error {
	if err := validWatcherName(name); err != nil {
		return err
	}
	s.mu.Lock()
	active := s.named[name]
	s.mu.Unlock()
	if active {
		return fmt.Errorf("%w: watcher %q is watching", ErrHeld, name)
	}
	return s.update(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM cdc_positions WHERE consumer = ?`, watcherPrefix+name); err != nil {
			return fmt.Errorf("cdc: drop watcher %s: %w", name, err)
		}
		return nil
	}, false)
}

// Watch is Store.Watch for this collection's changes, decoded: every
// change after after, then each new one as it commits.
func (c *Collection[T]) Watch(ctx context.Context, after Bookmark) iter.Seq2[Change[T], error] {
	return decoded[T](c.store.watch(ctx, after, c.t.name, ""))
}

// WatchAs is Store.WatchAs for this collection's changes, decoded. The
// saved position covers the whole log: changes of other collections count
// as consumed as the watcher passes them.
func (c *Collection[T]) WatchAs(ctx context.Context, name string) iter.Seq2[Change[T], error] {
	if err := validWatcherName(name); err != nil {
		return failed[Change[T]](err)
	}
	return decoded[T](c.store.watch(ctx, "", c.t.name, name))
}

func decoded[T any](raws iter.Seq2[RawChange, error]) iter.Seq2[Change[T], error] {
	return func(yield func(Change[T], error) bool) {
		for r, err := range raws {
			if err != nil {
				yield(Change[T]{}, err)
				return
			}
			ch, err := changelog.DecodeChange[T](r)
			if !yield(ch, err) || err != nil {
				return
			}
		}
	}
}

func validWatcherName(name string) error {
	if problem := watchpos.CheckName(name); problem != "" {
		return fmt.Errorf("%w: watcher name %q %s", ErrInvalidOptions, name, problem)
	}
	return nil
}

// watch is every Watch: of the store or one collection, named or not.
func (s *Store) watch(ctx context.Context, afterBM Bookmark, collection, name string) iter.Seq2[RawChange, error] {
	return func(yield func(RawChange, error) bool) {
		after, err := afterBM.Seq()
		if err != nil {
			yield(RawChange{}, err)
			return
		}
		var pos *watchpos.Position
		if name != "" {
			if pos, err = s.claimWatcher(ctx, name); err != nil {
				yield(RawChange{}, err)
				return
			}
			defer s.unclaimWatcher(name)
			defer pos.Close(ctx)
			after = pos.Start()
		}
		w := s.hub.join(s.reader, collection != "") // a collection's loop decodes each change
		defer s.hub.leave(w)
		for {
			page, through, wake, closed, err := s.watchStep(ctx, w, after, watchPage)
			if closed {
				yield(RawChange{}, ErrClosed)
				return
			}
			if err != nil {
				switch {
				case ctx.Err() != nil:
				case s.isClosed():
					yield(RawChange{}, ErrClosed)
				default:
					yield(RawChange{}, err)
				}
				return
			}
			for _, c := range page {
				if ctx.Err() != nil {
					return
				}
				seq, _ := c.Bookmark.Seq()
				if collection == "" || c.Collection == collection {
					if !yield(c, nil) {
						pos.Consumed(ctx, seq)
						return
					}
				}
				after = seq
				if err := pos.Consumed(ctx, seq); err != nil {
					yield(RawChange{}, err)
					return
				}
			}
			after = max(after, through)
			if err := pos.Consumed(ctx, after); err != nil {
				yield(RawChange{}, err)
				return
			}
			if len(page) == watchPage {
				continue // maybe more; a shorter page read all there was, and wake was taken before it
			}
			if err := pos.Idle(ctx); err != nil {
				yield(RawChange{}, err)
				return
			}
			select {
			case <-wake:
			case <-ctx.Done():
				return
			}
		}
	}
}

// watchStep takes the channel closed when the watchers' tail next grows or
// the store closes (closed: it is closed already), then reads what follows
// after for w: the step of every watch loop, also the fleet's.
func (s *Store) watchStep(ctx context.Context, w *watcher, after int64, limit int) (page []RawChange, through int64, wake <-chan struct{}, closed bool, err error) {
	wake, closed = s.hub.waiter()
	if closed {
		return nil, after, nil, true, nil
	}
	page, through, err = s.hub.next(ctx, s.reader, w, after, limit)
	return page, through, wake, false, err
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// claimWatcher makes this loop the one watching under name, and returns
// where it starts.
func (s *Store) claimWatcher(ctx context.Context, name string) (*watchpos.Position, error) {
	s.mu.Lock()
	if s.named[name] {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: watcher %q is watching already", ErrHeld, name)
	}
	if s.named == nil {
		s.named = map[string]bool{}
	}
	s.named[name] = true
	s.mu.Unlock()
	saved, err := s.watcherStart(ctx, name)
	if err != nil {
		s.unclaimWatcher(name)
		return nil, err
	}
	return watchpos.New(saved, func(ctx context.Context, seq int64) error {
		if s.isClosed() {
			return ErrClosed
		}
		return s.saveWatcher(ctx, name, seq)
	}), nil
}

func (s *Store) unclaimWatcher(name string) {
	s.mu.Lock()
	delete(s.named, name)
	s.mu.Unlock()
}

// watcherStart returns the saved position of the named watcher, saving
// one at the oldest change kept for a new name (so nothing is pruned from
// under it from now on).
func (s *Store) watcherStart(ctx context.Context, name string) (int64, error) {
	var saved int64
	err := s.update(ctx, func(tx *Tx) error {
		pruned, err := prunedThrough(ctx, tx.tx)
		if err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO cdc_positions (consumer, seq) VALUES (?, ?) ON CONFLICT (consumer) DO NOTHING`,
			watcherPrefix+name, pruned); err != nil {
			return err
		}
		return tx.tx.QueryRowContext(ctx, `SELECT seq FROM cdc_positions WHERE consumer = ?`, watcherPrefix+name).Scan(&saved)
	}, false)
	if err != nil {
		if s.isClosed() {
			return 0, ErrClosed
		}
		return 0, fmt.Errorf("cdc: watcher %s: %w", name, err)
	}
	return saved, nil
}

// saveWatcher saves the named watcher's position (never backwards).
func (s *Store) saveWatcher(ctx context.Context, name string, seq int64) error {
	err := s.update(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `UPDATE cdc_positions SET seq = max(seq, ?) WHERE consumer = ?`, seq, watcherPrefix+name)
		return err
	}, false)
	if err != nil {
		return fmt.Errorf("cdc: watcher %s: save position: %w", name, err)
	}
	return nil
}
