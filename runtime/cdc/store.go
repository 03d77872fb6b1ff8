// Package cdc stores documents in collections in an embedded SQLite database
// and captures every change to them, in the same transaction, in a change
// log ordered by bookmarks.
//
// A Store is one SQLite file. Collections are typed views of it: a
// Collection[T] keeps documents of type T as JSON, one table per collection,
// and SQLite triggers write a change row (with the document before and after)
// for every insert, update and delete, so no write path can forget one.
//
// The change log keeps history: an emitter (package emitter, one per store
// at a time) ships it and prunes only what all its sinks delivered and the
// store's retention (WithRetention, 7 days by default) lets go; reading
// below what is kept fails with ErrPruned.
package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"

	"github.com/dotdo/events/runtime/changelog"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is an SQLite database holding collections and their change log. It is
// safe for concurrent use by many goroutines: writes are serialised on one
// connection (so bookmarks follow commit order), reads run on a pool.
type Store struct {
	path   string
	writer *sql.DB // one connection: every write goes through it
	reader *sql.DB // a pool of read-only connections (the writer for :memory:)
	lean   bool    // a mostly idle store (cdchook.Hooks.Lean)

	mu          sync.Mutex
	collections map[string]*tables // prepared statements per collection
	closed      bool
	held        bool            // a :memory: store's holder (see cdchook.Store.Hold)
	retention   retention       // how much delivered history pruning keeps
	named       map[string]bool // named watchers watching (WatchAs)

	hub *hub // wakes watchers at each commit (Watch)

	shipMu  sync.Mutex
	shipped int64 // the durable shipped mark (see shipping)
}

// Open opens (creating it if needed) the store at path, a file name, or
// ":memory:" for a private in-memory store (tests). The database runs in WAL
// mode with synchronous=NORMAL: a crash of the process loses no committed
// write. Options: WithRetention. When the process is out of file
// descriptors the error says so and matches syscall.EMFILE (ENFILE for the
// system's limit).
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("cdc: open: empty path")
	}
	cfg, err := apply(false, opts)
	if err != nil {
		return nil, err
	}
	keep := retention{age: defaultRetention}
	if cfg.retention != nil {
		keep = *cfg.retention
	}
	memory := path == ":memory:"
	writer, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("cdc: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	s := &Store{path: path, writer: writer, reader: writer, collections: map[string]*tables{}, retention: keep, hub: newHub()}
	if err := s.migrate(ctx, "cdc", storeMigrations); err != nil {
		writer.Close()
		return nil, fmt.Errorf("cdc: open %s: %w", path, explainCantOpen(err))
	}
	if !memory {
		if err := s.recoverShipped(ctx); err != nil {
			writer.Close()
			return nil, fmt.Errorf("cdc: open %s: %w", path, explainCantOpen(err))
		}
	}
	s.lean = cfg.lean
	if !memory && !s.lean {
		reader, err := sql.Open("sqlite", dsn(path, true))
		if err != nil {
			writer.Close()
			return nil, fmt.Errorf("cdc: open %s: %w", path, err)
		}
		reader.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
		reader.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
		s.reader = reader
	}
	return s, nil
}

// dsn builds the modernc DSN with the pragmas every connection needs.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if path != ":memory:" {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	q.Set("_txlock", "immediate")
	if path == ":memory:" {
		return "file::memory:?" + q.Encode()
	}
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// escapePath escapes the characters that would end the file part of a URI.
func escapePath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(p)
}

// Close closes the store. Collections made from it stop working.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, t := range s.collections {
		t.close()
	}
	s.mu.Unlock()
	s.hub.close()
	var errs []error
	if s.reader != s.writer {
		errs = append(errs, s.reader.Close())
	}
	if err := s.closeShipped(context.Background()); err != nil {
		errs = append(errs, fmt.Errorf("shipped mark: %w", err))
	}
	if s.path != ":memory:" {
		// Fold the WAL back into the database so the file stands alone.
		if _, err := s.writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.writer.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cdc: close: %w", err)
	}
	return nil
}

// Update runs fn in one write transaction: every collection bound to tx with
// With(tx), and every statement run through tx, commits together or not at
// all. An error returned by fn, or a panic in it, rolls everything back (the
// panic then continues). Transactions are serialised: keep them short.
func (s *Store) Update(ctx context.Context, fn func(tx *Tx) error) error {
	return s.update(ctx, fn, true)
}

// update is Update; notify false keeps watchers asleep for a transaction
// that writes no change (bookkeeping).
func (s *Store) update(ctx context.Context, fn func(tx *Tx) error, notify bool) error {
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cdc: begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, store: s}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("cdc: rollback: %w", rbErr))
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("cdc: commit: %w", err)
	}
	if notify {
		s.hub.notify()
	}
	return nil
}

// View runs fn in a read-only transaction on the read pool: every read
// through tx (collections bound with With(tx), tx.QueryContext) sees one
// consistent state of the store, and writers are not held up meanwhile
// (WAL). Writes through tx fail with ErrReadOnly.
func (s *Store) View(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("cdc: begin view: %w", err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // nothing to undo: it only read
	return fn(&Tx{tx: sqlTx, store: s, readOnly: true})
}

// Bookmark returns the bookmark of the last change ever written to the store
// (or the number Tx.AdvanceBookmark moved it to, if that is later), or the
// zero Bookmark when there is none. Pruning the log does not move it.
func (s *Store) Bookmark(ctx context.Context) (Bookmark, error) {
	return currentBookmark(ctx, s.reader)
}

// queryer is what reads need: a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// execer is what writes need: a *sql.DB or a *sql.Tx.
type execer interface {
	queryer
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func currentBookmark(ctx context.Context, q queryer) (Bookmark, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM cdc_changes`).Scan(&seq)
	if err != nil {
		return "", fmt.Errorf("cdc: bookmark: %w", err)
	}
	return changelog.BookmarkFromSeq(seq), nil
}
