package cdc

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Collection is a typed set of documents of type T, keyed by string ids,
// stored as JSON. Every write is captured in the store's change log in the
// same transaction. Generated collections wrap one; it is usable on its own.
//
// A Collection is safe for concurrent use. Bound to a transaction (With), it
// reads and writes inside that transaction and must not outlive it.
type Collection[T any] struct {
	store *Store
	t     *tables
	tx    *Tx // nil: each call runs on its own
}

// FindOptions shape the result of Find and List.
type FindOptions struct {
	// Limit is the most documents returned; 0 means no limit.
	Limit int
	// Offset skips that many documents first.
	Offset int
	// OrderBy sorts the result; ties (and no OrderBy) sort by id.
	OrderBy []Order
}

// Option configures Open (WithRetention) or NewCollection (WithIndex).
type Option func(*options) error

type options struct {
	collection bool       // the options are NewCollection's
	indexes    []Order    // WithIndex
	retention  *retention // WithRetention
	lean       bool       // few connections, idle ones closed (cdchook: a fleet's stores)
}

// apply runs opts on a new options value.
func apply(collection bool, opts []Option) (options, error) {
	o := options{collection: collection}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WithIndex indexes fields (one index per field) so filters and orders on
// them do not scan the collection. Every field type (Field, OrderedField,
// StringField, TimeField) can be given. It is an option of NewCollection.
func WithIndex(fields ...interface{ Asc() Order }) Option {
	return func(o *options) error {
		if !o.collection {
			return fmt.Errorf("%w: WithIndex is an option of NewCollection, not Open", ErrInvalidOptions)
		}
		for _, f := range fields {
			if f != nil {
				o.indexes = append(o.indexes, f.Asc())
			}
		}
		return nil
	}
}

// NewCollection returns the collection name of store, creating it on first
// use. Names are 1-128 ASCII letters, digits, '_' and '-', starting with a
// letter or '_', and compare without case as in SQLite: "Users" next to an
// existing "users" is refused (ErrInvalidCollection). Opening a collection
// that exists with its indexes only reads. Do not call it inside
// Store.Update (it may need the writer).
func NewCollection[T any](store *Store, name string, opts ...Option) (*Collection[T], error) {
	if store == nil {
		return nil, errors.New("cdc: new collection: nil store")
	}
	cfg, err := apply(true, opts)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	t, err := store.tablesFor(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(cfg.indexes) > 0 {
		if err := store.ensureIndexes(ctx, t, cfg.indexes); err != nil {
			return nil, err
		}
	}
	return &Collection[T]{store: store, t: t}, nil
}

// Name returns the collection's name.
func (c *Collection[T]) Name() string { return c.t.name }

// With returns the collection bound to tx: its reads see the transaction's
// writes, and its writes commit or roll back with it. Bound to a View's
// transaction, it reads one consistent state and refuses writes.
func (c *Collection[T]) With(tx *Tx) *Collection[T] {
	return &Collection[T]{store: c.store, t: c.t, tx: tx}
}

// stmt returns a writer statement bound to the collection's transaction, if any.
func (c *Collection[T]) stmt(ctx context.Context, s *sql.Stmt) *sql.Stmt {
	if c.tx != nil {
		return c.tx.stmt(ctx, s)
	}
	return s
}

// readStmt picks the read pool's statement, or the copy bound to the
// transaction: the writer's in Update (its reads must see its writes), the
// pool's in View.
func (c *Collection[T]) readStmt(ctx context.Context, pool, writer *sql.Stmt) *sql.Stmt {
	switch {
	case c.tx == nil:
		return pool
	case c.tx.readOnly:
		return c.tx.stmt(ctx, pool)
	default:
		return c.tx.stmt(ctx, writer)
	}
}

// writable refuses writes through a collection bound to a View.
func (c *Collection[T]) writable() error {
	if c.tx != nil {
		return c.tx.writable()
	}
	return nil
}

// reads returns what ad-hoc reads run on.
func (c *Collection[T]) reads() queryer {
	if c.tx != nil {
		return c.tx.tx
	}
	return c.store.reader
}

// encode validates id and encodes doc.
func encode[T any](id string, doc T) ([]byte, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrEncode, id, err)
	}
	if err := checkDepth(raw, func() string { return fmt.Sprintf("document %q", id) }); err != nil {
		return nil, err
	}
	return raw, nil
}

// Put stores doc under id, inserting or replacing it; the change log gets a
// collection.insert or a collection.update (with the previous document).
func (c *Collection[T]) Put(ctx context.Context, id string, doc T) error {
	if err := c.writable(); err != nil {
		return err
	}
	raw, err := encode(id, doc)
	if err != nil {
		return err
	}
	if _, err := c.stmt(ctx, c.t.upsert).ExecContext(ctx, id, raw); err != nil {
		return fmt.Errorf("cdc: put %s/%s: %w", c.t.name, id, err)
	}
	c.committed()
	return nil
}

// committed wakes the store's watchers after a write outside a transaction
// (it committed on its own).
func (c *Collection[T]) committed() {
	if c.tx == nil {
		c.store.hub.notify()
	}
}

// PutMany stores every entry in one transaction (the caller's, when bound).
// Bad ids or documents fail the whole call before anything is written.
func (c *Collection[T]) PutMany(ctx context.Context, entries []Entry[T]) error {
	if err := c.writable(); err != nil {
		return err
	}
	raws := make([][]byte, len(entries))
	for i, e := range entries {
		raw, err := encode(e.ID, e.Doc)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		raws[i] = raw
	}
	return c.inTx(ctx, func(tx *Tx) error {
		stmt := tx.stmt(ctx, c.t.upsert)
		for i, e := range entries {
			if _, err := stmt.ExecContext(ctx, e.ID, raws[i]); err != nil {
				return fmt.Errorf("cdc: put %s/%s: %w", c.t.name, e.ID, err)
			}
		}
		return nil
	})
}

// inTx runs fn in the bound transaction, or in a new one.
func (c *Collection[T]) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	if c.tx != nil {
		return fn(c.tx)
	}
	return c.store.Update(ctx, fn)
}

// Get returns the document stored under id; ok is false when there is none.
func (c *Collection[T]) Get(ctx context.Context, id string) (doc T, ok bool, err error) {
	if err := ValidateID(id); err != nil {
		return doc, false, err
	}
	var raw []byte
	err = c.readStmt(ctx, c.t.get, c.t.getW).QueryRowContext(ctx, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return doc, false, nil
	}
	if err != nil {
		return doc, false, fmt.Errorf("cdc: get %s/%s: %w", c.t.name, id, err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return doc, false, fmt.Errorf("%w: %s/%s: %v", ErrDecode, c.t.name, id, err)
	}
	return doc, true, nil
}

// Has reports whether a document is stored under id.
func (c *Collection[T]) Has(ctx context.Context, id string) (bool, error) {
	if err := ValidateID(id); err != nil {
		return false, err
	}
	var one int
	err := c.readStmt(ctx, c.t.has, c.t.hasW).QueryRowContext(ctx, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cdc: has %s/%s: %w", c.t.name, id, err)
	}
	return true, nil
}

// Delete removes the document under id, logging a collection.delete with
// the removed document. It reports whether there was one.
func (c *Collection[T]) Delete(ctx context.Context, id string) (bool, error) {
	if err := c.writable(); err != nil {
		return false, err
	}
	if err := ValidateID(id); err != nil {
		return false, err
	}
	res, err := c.stmt(ctx, c.t.delete).ExecContext(ctx, id)
	if err != nil {
		return false, fmt.Errorf("cdc: delete %s/%s: %w", c.t.name, id, err)
	}
	c.committed()
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("cdc: delete %s/%s: %w", c.t.name, id, err)
	}
	return n > 0, nil
}

// DeleteMany removes the documents under ids in one transaction and returns
// how many there were. Bad ids fail the call before anything is deleted.
func (c *Collection[T]) DeleteMany(ctx context.Context, ids []string) (int, error) {
	if err := c.writable(); err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := ValidateID(id); err != nil {
			return 0, fmt.Errorf("id %d: %w", i, err)
		}
	}
	var total int
	err := c.inTx(ctx, func(tx *Tx) error {
		total = 0
		stmt := tx.stmt(ctx, c.t.delete)
		for _, id := range ids {
			res, err := stmt.ExecContext(ctx, id)
			if err != nil {
				return fmt.Errorf("cdc: delete %s/%s: %w", c.t.name, id, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("cdc: delete %s/%s: %w", c.t.name, id, err)
			}
			total += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// Clear removes every document in one statement, logging a collection.delete
// (with the removed document) for each, and returns how many there were.
func (c *Collection[T]) Clear(ctx context.Context) (int, error) {
	if err := c.writable(); err != nil {
		return 0, err
	}
	var res sql.Result
	var err error
	if c.tx != nil {
		res, err = c.tx.tx.ExecContext(ctx, `DELETE FROM `+c.t.table)
	} else {
		res, err = c.store.writer.ExecContext(ctx, `DELETE FROM `+c.t.table)
	}
	if err != nil {
		return 0, fmt.Errorf("cdc: clear %s: %w", c.t.name, err)
	}
	c.committed()
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("cdc: clear %s: %w", c.t.name, err)
	}
	c.committed()
	return int(n), nil
}
