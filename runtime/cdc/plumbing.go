package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dotdo/events/internal/cdchook"
	"github.com/dotdo/events/internal/holdlock"
)

// The store's plumbing (migrations of other components' tables, raw SQL,
// bookmark hooks, pruning) is for this module's packages only: it is handed
// to them through internal/cdchook, so it is not part of this package's API.
func init() {
	cdchook.Register(cdchook.Hooks{
		Store:   func(s any) cdchook.Store { return storePlumbing{s.(*Store)} },
		Tx:      func(t any) cdchook.Tx { return txPlumbing{t.(*Tx)} },
		IDField: func() any { return StringField[string]{OrderedField[string]{Field[string]{expr: "id"}}} },
		Lean: func() any {
			return Option(func(o *options) error { o.lean = true; return nil })
		},
	})
}

// storePlumbing implements cdchook.Store.
type storePlumbing struct{ s *Store }

func (p storePlumbing) Memory() bool        { return p.s.path == ":memory:" }
func (p storePlumbing) OneConnection() bool { return p.s.reader == p.s.writer }
func (p storePlumbing) Path() string        { return p.s.path }

func (p storePlumbing) Migrate(ctx context.Context, component string, steps []string) error {
	if component == "" || component == "cdc" {
		return fmt.Errorf("cdc: migrate: component %q is reserved", component)
	}
	return p.s.migrate(ctx, component, steps)
}

func (p storePlumbing) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.s.reader.QueryContext(ctx, query, args...)
}

func (p storePlumbing) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.s.reader.QueryRowContext(ctx, query, args...)
}

func (p storePlumbing) Collections(ctx context.Context) ([]string, error) {
	return listCollections(ctx, p.s.reader)
}

func (p storePlumbing) Hold() (func() error, error) {
	s := p.s
	if s.path == ":memory:" {
		// A private database: only this handle can reach it.
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.held {
			return nil, fmt.Errorf("%w (in this process)", ErrHeld)
		}
		s.held = true
		return func() error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.held = false
			return nil
		}, nil
	}
	l, err := holdlock.Acquire(s.path)
	if errors.Is(err, holdlock.ErrBusy) {
		return nil, fmt.Errorf("%w: %s: %w", ErrHeld, s.path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("cdc: hold %s: %w", s.path, err)
	}
	return l.Release, nil
}

func (p storePlumbing) PruneChanges(ctx context.Context, through Bookmark) (int64, error) {
	return p.s.pruneChanges(ctx, through)
}

func (p storePlumbing) Release(ctx context.Context, consumer string, through Bookmark) (int64, error) {
	return p.s.release(ctx, consumer, through)
}

func (p storePlumbing) Shipping(ctx context.Context, through Bookmark) error {
	return p.s.shipping(ctx, through)
}

func (p storePlumbing) ReadLog(ctx context.Context, after Bookmark, limit int) ([]RawChange, error) {
	return readChanges(ctx, p.s.reader, "", after, limit)
}

func (p storePlumbing) Watcher() (step func(ctx context.Context, after int64, limit int) ([]RawChange, int64, <-chan struct{}, bool, error), leave func()) {
	w := p.s.hub.join(p.s.reader, false)
	return func(ctx context.Context, after int64, limit int) ([]RawChange, int64, <-chan struct{}, bool, error) {
		return p.s.watchStep(ctx, w, after, limit)
	}, func() { p.s.hub.leave(w) }
}

func (p storePlumbing) WatcherStart(ctx context.Context, name string) (int64, error) {
	if err := validWatcherName(name); err != nil {
		return 0, err
	}
	return p.s.watcherStart(ctx, name)
}

func (p storePlumbing) SaveWatcher(ctx context.Context, name string, seq int64) error {
	return p.s.saveWatcher(ctx, name, seq)
}

// txPlumbing implements cdchook.Tx.
type txPlumbing struct{ t *Tx }

func (p txPlumbing) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := p.t.writable(); err != nil {
		return nil, err
	}
	return p.t.tx.ExecContext(ctx, query, args...)
}

func (p txPlumbing) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.t.tx.QueryContext(ctx, query, args...)
}

func (p txPlumbing) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.t.tx.QueryRowContext(ctx, query, args...)
}

func (p txPlumbing) Bookmark(ctx context.Context) (Bookmark, error) {
	return currentBookmark(ctx, p.t.tx)
}

func (p txPlumbing) ChangesAfter(ctx context.Context, after Bookmark, limit int) ([]RawChange, error) {
	return readChanges(ctx, p.t.tx, "", after, limit)
}

func (p txPlumbing) Collections(ctx context.Context) ([]string, error) {
	return listCollections(ctx, p.t.tx)
}

func (p txPlumbing) EnsureCollection(ctx context.Context, name string) error {
	if err := p.t.writable(); err != nil {
		return err
	}
	return ensureCollection(ctx, p.t.tx, name)
}

func (p txPlumbing) AppendChange(ctx context.Context, c RawChange) (Bookmark, error) {
	return p.t.appendChange(ctx, c)
}

func (p txPlumbing) AdvanceBookmark(ctx context.Context, to Bookmark) error {
	return p.t.advanceBookmark(ctx, to)
}
