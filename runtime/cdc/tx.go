package cdc

import (
	"context"
	"database/sql"
)

// Tx is a transaction of a Store, handed to the function given to
// Store.Update (read-write) or Store.View (read-only). Bind collections to it
// with their With method.
type Tx struct {
	tx       *sql.Tx
	store    *Store
	readOnly bool                    // a View: writes are refused
	stmts    map[*sql.Stmt]*sql.Stmt // the store's statements, bound to this tx
}

// writable returns ErrReadOnly for a View's transaction.
func (t *Tx) writable() error {
	if t.readOnly {
		return ErrReadOnly
	}
	return nil
}

// stmt returns s bound to the transaction, preparing it once per transaction.
func (t *Tx) stmt(ctx context.Context, s *sql.Stmt) *sql.Stmt {
	if bound, ok := t.stmts[s]; ok {
		return bound
	}
	if t.stmts == nil {
		t.stmts = map[*sql.Stmt]*sql.Stmt{}
	}
	bound := t.tx.StmtContext(ctx, s)
	t.stmts[s] = bound
	return bound
}

// ExecContext runs a statement in the transaction: an escape hatch for tables
// of your own that must change atomically with collections.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.writable(); err != nil {
		return nil, err
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction; it sees the transaction's writes.
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext is QueryContext for one row.
func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, query, args...)
}

// Bookmark returns the bookmark of the last change written (or the number
// AdvanceBookmark moved the store to, if that is later), including this
// transaction's own writes so far.
func (t *Tx) Bookmark(ctx context.Context) (Bookmark, error) {
	return currentBookmark(ctx, t.tx)
}
