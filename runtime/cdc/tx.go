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
