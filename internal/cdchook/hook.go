// Package cdchook is where package cdc hands its store plumbing to the other
// packages of this module (the emitter, snapshots, and later the fleet and
// the CLI) without making it public API. Package cdc registers its
// implementations in an init function; package cdcx gives them typed entry
// points. Nothing outside this module can import either.
package cdchook

import (
	"context"
	"database/sql"

	"github.com/dotdo/events/runtime/changelog"
)

// Store is the plumbing of a *cdc.Store.
type Store interface {
	// Memory reports whether the store is a private ":memory:" database.
	Memory() bool
	// OneConnection reports whether reads share the writer's connection
	// (":memory:" and lean stores): a write transaction cannot start while
	// a read transaction (View) holds it.
	OneConnection() bool
	// Path returns the file the store was opened on.
	Path() string
	// Migrate brings the schema of component up to date: steps[i] is
	// version i+1; the steps not applied yet run once, in one transaction.
	Migrate(ctx context.Context, component string, steps []string) error
	// QueryContext runs a read-only query on the read pool.
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	// QueryRowContext is QueryContext for one row.
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	// Collections returns the names of the store's collections, sorted.
	Collections(ctx context.Context) ([]string, error)
	// Hold makes the caller the one holder that delivers the store's change
	// log until release is called; while another holder lives (in this
	// process or another) it fails with an error matching cdc.ErrHeld.
	Hold() (release func() error, err error)
	// PruneChanges deletes the log rows up to and including through,
	// whatever the retention and the consumers' positions (tests and
	// maintenance); the newest row is always kept. It returns how many rows
	// it deleted.
	PruneChanges(ctx context.Context, through changelog.Bookmark) (int64, error)
	// Release saves that consumer (a stable name, e.g. "emitter") has
	// consumed the log through, and prunes what every consumer has consumed
	// and the store's retention does not keep. It returns how many rows it
	// deleted.
	Release(ctx context.Context, consumer string, through changelog.Bookmark) (int64, error)
	// Shipping must be called before changes up to through are handed to a
	// sink: it makes sure (durably, with a synced commit now and then) that
	// the store never numbers another change through or below, even if a
	// power loss takes the last commits.
	Shipping(ctx context.Context, through changelog.Bookmark) error
	// ReadLog reads the whole log after after from what is retained: a
	// reader that starts below it (a new sink starts at the oldest retained
	// change; a restore finds the rest in the lake) gets what is left, not
	// cdc.ErrPruned.
	ReadLog(ctx context.Context, after changelog.Bookmark, limit int) ([]changelog.RawChange, error)
	// Watcher registers a watch loop (cdc.Store.Watch) with the store until
	// leave is called. Each step takes wake, a channel closed when the
	// store has new changes or closes (closed: it is closed already), then
	// reads at most limit changes after the change numbered after
	// (cdc.ErrPruned below what is kept); through is where the next step
	// starts.
	Watcher() (step func(ctx context.Context, after int64, limit int) (changes []changelog.RawChange, through int64, wake <-chan struct{}, closed bool, err error), leave func())
	// WatcherStart checks a named watcher's name (cdc.ErrInvalidOptions)
	// and returns its saved position, saving one at the oldest change kept
	// for a new name.
	WatcherStart(ctx context.Context, name string) (int64, error)
	// SaveWatcher saves a named watcher's position (never backwards).
	SaveWatcher(ctx context.Context, name string, seq int64) error
}

// Tx is the plumbing of a *cdc.Tx.
type Tx interface {
	// ExecContext runs a statement in the transaction (ErrReadOnly in a View).
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	// QueryContext runs a query in the transaction; it sees its writes.
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	// QueryRowContext is QueryContext for one row.
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	// Bookmark is the store's bookmark as the transaction sees it.
	Bookmark(ctx context.Context) (changelog.Bookmark, error)
	// ChangesAfter reads the whole log after after, as the transaction sees it.
	ChangesAfter(ctx context.Context, after changelog.Bookmark, limit int) ([]changelog.RawChange, error)
	// Collections returns the collection names as the transaction sees them.
	Collections(ctx context.Context) ([]string, error)
	// EnsureCollection creates collection name in the transaction if needed.
	EnsureCollection(ctx context.Context, name string) error
	// AppendChange logs a change of data kept outside the collections.
	AppendChange(ctx context.Context, c changelog.RawChange) (changelog.Bookmark, error)
	// AdvanceBookmark makes the next change get a number above to.
	AdvanceBookmark(ctx context.Context, to changelog.Bookmark) error
}

// Hooks are the functions package cdc registers. Their arguments are the
// cdc types (*cdc.Store, *cdc.Tx) as any, because this package cannot name
// them; package cdcx is the typed way in.
type Hooks struct {
	Store   func(s any) Store
	Tx      func(t any) Tx
	IDField func() any // a cdc.StringField[string] over the document id
	// Lean is a cdc.Option of Open for stores that are mostly idle (a
	// fleet's): reads and writes share the writer's one connection, so an
	// open store holds 3 file descriptors (database, WAL, shared memory)
	// instead of 5 and more. As on a ":memory:" store, a read outside a
	// transaction waits while one runs: inside Store.Update, read through tx.
	Lean func() any
}

var hooks Hooks

// Register is called once, by package cdc's init.
func Register(h Hooks) { hooks = h }

// Get returns the registered hooks.
func Get() Hooks { return hooks }
