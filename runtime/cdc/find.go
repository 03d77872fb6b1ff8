package cdc

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// query compiles a filter and options into SQL over the collection's table.
func (c *Collection[T]) query(columns string, filter Filter, opts FindOptions) (string, []any, error) {
	if opts.Limit < 0 || opts.Offset < 0 {
		return "", nil, fmt.Errorf("%w: limit %d and offset %d must not be negative", ErrInvalidOptions, opts.Limit, opts.Offset)
	}
	var b sqlBuilder
	b.sql.WriteString("SELECT " + columns + " FROM " + c.t.table)
	if filter != nil {
		b.sql.WriteString(" WHERE ")
		if err := filter.build(&b); err != nil {
			return "", nil, err
		}
	}
	b.sql.WriteString(" ORDER BY ")
	for _, o := range opts.OrderBy {
		if o.err != nil {
			return "", nil, o.err
		}
		if o.expr == "" {
			return "", nil, fmt.Errorf("%w: an order needs a field (use a field's Asc or Desc)", ErrInvalidOptions)
		}
		b.sql.WriteString(o.expr)
		if o.desc {
			b.sql.WriteString(" DESC, ")
		} else {
			b.sql.WriteString(" ASC, ")
		}
	}
	b.sql.WriteString("id ASC")
	if opts.Limit > 0 || opts.Offset > 0 {
		b.sql.WriteString(" LIMIT ")
		if opts.Limit > 0 {
			b.arg(opts.Limit)
		} else {
			b.sql.WriteString("-1")
		}
		b.sql.WriteString(" OFFSET ")
		b.arg(opts.Offset)
	}
	return b.sql.String(), b.args, nil
}

// run runs a read query: through the statement cache on the read pool, or
// in the bound transaction (whose connection is busy, so nothing can be
// prepared on the pool meanwhile).
func (c *Collection[T]) run(ctx context.Context, query string, args []any) (*sql.Rows, error) {
	if c.tx != nil {
		return c.tx.tx.QueryContext(ctx, query, args...)
	}
	stmt, cached, err := c.t.cachedQuery(ctx, c.store.reader, query)
	if err != nil {
		return nil, err
	}
	if !cached {
		// Closing a statement waits for its open rows, so it closes with them.
		defer stmt.Close()
	}
	return stmt.QueryContext(ctx, args...)
}

// Find returns the documents that filter matches (every document for a nil
// filter), sorted and limited by opts.
func (c *Collection[T]) Find(ctx context.Context, filter Filter, opts FindOptions) ([]T, error) {
	entries, err := c.FindEntries(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	docs := make([]T, len(entries))
	for i, e := range entries {
		docs[i] = e.Doc
	}
	return docs, nil
}

// FindEntries is Find returning each document with its id.
func (c *Collection[T]) FindEntries(ctx context.Context, filter Filter, opts FindOptions) ([]Entry[T], error) {
	query, args, err := c.query("id, doc", filter, opts)
	if err != nil {
		return nil, err
	}
	rows, err := c.run(ctx, query, args)
	if err != nil {
		return nil, fmt.Errorf("cdc: find %s: %w", c.t.name, err)
	}
	defer rows.Close()
	var out []Entry[T]
	for rows.Next() {
		var e Entry[T]
		var raw []byte
		if err := rows.Scan(&e.ID, &raw); err != nil {
			return nil, fmt.Errorf("cdc: find %s: %w", c.t.name, err)
		}
		if err := json.Unmarshal(raw, &e.Doc); err != nil {
			return nil, fmt.Errorf("%w: %s/%s: %v", ErrDecode, c.t.name, e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cdc: find %s: %w", c.t.name, err)
	}
	return out, nil
}

// List returns every document, sorted and limited by opts.
func (c *Collection[T]) List(ctx context.Context, opts FindOptions) ([]T, error) {
	return c.Find(ctx, nil, opts)
}

// Count returns how many documents filter matches.
func (c *Collection[T]) Count(ctx context.Context, filter Filter) (int, error) {
	var b sqlBuilder
	b.sql.WriteString("SELECT count(*) FROM " + c.t.table)
	if filter != nil {
		b.sql.WriteString(" WHERE ")
		if err := filter.build(&b); err != nil {
			return 0, err
		}
	}
	rows, err := c.run(ctx, b.sql.String(), b.args)
	if err != nil {
		return 0, fmt.Errorf("cdc: count %s: %w", c.t.name, err)
	}
	defer rows.Close()
	var n int
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, fmt.Errorf("cdc: count %s: %w", c.t.name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("cdc: count %s: %w", c.t.name, err)
	}
	return n, nil
}

// Keys returns the ids of every document, sorted.
func (c *Collection[T]) Keys(ctx context.Context) ([]string, error) {
	rows, err := c.reads().QueryContext(ctx, "SELECT id FROM "+c.t.table+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("cdc: keys %s: %w", c.t.name, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("cdc: keys %s: %w", c.t.name, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cdc: keys %s: %w", c.t.name, err)
	}
	return ids, nil
}
