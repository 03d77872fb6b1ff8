package cdc

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/dotdo/events/runtime/changelog"
)

// watchPage is the most changes a watcher takes from the log or the tail
// at once.
const watchPage = 256

// A named watcher saves its position every saveEvery changes and, once it
// has caught up, at most every saveInterval: after a crash it sees again at
// most that much.
const (
	saveEvery    = 256
	saveInterval = time.Second
)

// watcherPrefix starts a named watcher's consumer name in cdc_positions,
// where sinks' names (which cannot hold ':') are the others.
const watcherPrefix = "watch:"

// Watch yields every change of the store after the bookmark after (the
// zero Bookmark: from the oldest change kept), in bookmark order, then each
// new change as it commits, until ctx ends (the loop then just ends) or the
// store is closed (ErrClosed). A rolled-back change is never yielded. When
// changes after after have been pruned it yields ErrPruned first and ends.
//
// A commit wakes every watcher of the store, which read the new changes
// once between them; a watcher that falls far behind reads the log itself.
// The Doc and Prev bytes of a change are the caller's to keep.
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
	active := s.watchers[name]
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
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: watcher name %q must be 1-64 bytes", ErrInvalidOptions, name)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: watcher name %q may hold only a-z, 0-9, '.', '_' and '-'", ErrInvalidOptions, name)
		}
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
		var pos *position
		if name != "" {
			if pos, err = s.openPosition(ctx, name); err != nil {
				yield(RawChange{}, err)
				return
			}
			defer pos.close(ctx)
			after = pos.saved
		}
		for {
			wake, closed := s.hub.waiter()
			if closed {
				yield(RawChange{}, ErrClosed)
				return
			}
			page, err := s.hub.next(ctx, s.reader, after, watchPage)
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
						pos.consumed(ctx, seq)
						return
					}
				}
				after = seq
				if err := pos.consumed(ctx, seq); err != nil {
					yield(RawChange{}, err)
					return
				}
			}
			if len(page) > 0 {
				continue
			}
			if err := pos.idle(ctx); err != nil {
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

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// position is a named watcher's saved position while it watches.
type position struct {
	s       *Store
	name    string
	saved   int64 // the position the store has
	done    int64 // the position the loop has reached
	savedAt time.Time
}

// openPosition claims name for this loop and reads its saved position,
// saving one at the oldest change kept for a new name (so nothing is
// pruned from under it from now on).
func (s *Store) openPosition(ctx context.Context, name string) (*position, error) {
	s.mu.Lock()
	if s.watchers[name] {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: watcher %q is watching already", ErrHeld, name)
	}
	if s.watchers == nil {
		s.watchers = map[string]bool{}
	}
	s.watchers[name] = true
	s.mu.Unlock()
	p := &position{s: s, name: name, savedAt: time.Now()}
	err := s.update(ctx, func(tx *Tx) error {
		pruned, err := prunedThrough(ctx, tx.tx)
		if err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO cdc_positions (consumer, seq) VALUES (?, ?) ON CONFLICT (consumer) DO NOTHING`,
			watcherPrefix+name, pruned); err != nil {
			return err
		}
		return tx.tx.QueryRowContext(ctx, `SELECT seq FROM cdc_positions WHERE consumer = ?`, watcherPrefix+name).Scan(&p.saved)
	}, false)
	if err != nil {
		s.mu.Lock()
		delete(s.watchers, name)
		s.mu.Unlock()
		if s.isClosed() {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("cdc: watcher %s: %w", name, err)
	}
	p.done = p.saved
	return p, nil
}

// consumed notes that the watcher is done with every change through seq,
// saving it every saveEvery changes. A nil position (an unnamed watcher)
// does nothing.
func (p *position) consumed(ctx context.Context, seq int64) error {
	if p == nil {
		return nil
	}
	p.done = seq
	if seq-p.saved >= saveEvery {
		return p.save(ctx)
	}
	return nil
}

// idle saves the position of a watcher that has caught up, at most every
// saveInterval.
func (p *position) idle(ctx context.Context) error {
	if p == nil || p.done == p.saved || time.Since(p.savedAt) < saveInterval {
		return nil
	}
	return p.save(ctx)
}

func (p *position) save(ctx context.Context) error {
	seq := p.done
	err := p.s.update(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `UPDATE cdc_positions SET seq = max(seq, ?) WHERE consumer = ?`, seq, watcherPrefix+p.name)
		return err
	}, false)
	if err != nil {
		return fmt.Errorf("cdc: watcher %s: save position: %w", p.name, err)
	}
	p.saved, p.savedAt = seq, time.Now()
	return nil
}

// close saves what the loop consumed (even when ctx has ended: the body
// did consume it) and frees the name.
func (p *position) close(ctx context.Context) {
	if p.done != p.saved && !p.s.isClosed() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		// A failed save only means these changes are seen again.
		_ = p.save(sctx)
		cancel()
	}
	p.s.mu.Lock()
	delete(p.s.watchers, p.name)
	p.s.mu.Unlock()
}
