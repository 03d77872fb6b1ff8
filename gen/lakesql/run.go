package lakesql

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dotdo/events/runtime/cdc"
)

// Querier runs queries: a *sql.DB (or *sql.Conn, *sql.Tx) of a DuckDB driver.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// noFiles is how DuckDB words the error of a glob that matches no file.
const noFiles = "No files found that match the pattern"

// QueryChanges runs a History or Changes query (query, built with err) and
// decodes its rows into typed changes. An empty lake gives no changes.
func QueryChanges[T any](ctx context.Context, db Querier, collection, query string, err error) ([]cdc.Change[T], error) {
	if err != nil {
		return nil, err
	}
	var out []cdc.Change[T]
	err = scan(ctx, db, query, func(r row) error {
		raw := cdc.RawChange{Op: cdc.Op(r.op), Collection: collection, DocID: r.docID, Bookmark: cdc.Bookmark(r.bookmark.String), TS: r.ts}
		if r.doc.Valid {
			raw.Doc = json.RawMessage(r.doc.String)
		}
		if r.prev.Valid {
			raw.Prev = json.RawMessage(r.prev.String)
		}
		ch, err := cdc.DecodeChange[T](raw)
		if err != nil {
			return err
		}
		out = append(out, ch)
		return nil
	})
	return out, err
}

// QueryState runs a StateAt or StateAtBookmark query (query, built with err)
// and decodes its rows into documents with their ids. An empty lake gives no
// documents.
func QueryState[T any](ctx context.Context, db Querier, query string, err error) ([]cdc.Entry[T], error) {
	if err != nil {
		return nil, err
	}
	var out []cdc.Entry[T]
	err = scan(ctx, db, query, func(r row) error {
		e := cdc.Entry[T]{ID: r.docID}
		if err := json.Unmarshal([]byte(r.doc.String), &e.Doc); err != nil {
			return fmt.Errorf("%w: %s: %v", cdc.ErrDecode, r.docID, err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// row is the meta columns of a result row.
type row struct {
	op, docID       string
	ts              time.Time
	bookmark, store sql.NullString
	doc, prev       sql.NullString
}

// scan runs query and calls fn with the meta columns of each row.
func scan(ctx context.Context, db Querier, query string, fn func(row) error) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		if strings.Contains(err.Error(), noFiles) {
			return nil
		}
		return fmt.Errorf("lakesql: query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("lakesql: query: %w", err)
	}
	dest := make([]any, len(cols))
	var skip any
	for i := range dest {
		dest[i] = &skip
	}
	var r row
	dest[0], dest[1], dest[2], dest[3], dest[4], dest[5], dest[6] = &r.op, &r.ts, &r.bookmark, &r.docID, &r.store, &r.doc, &r.prev
	for rows.Next() {
		r = row{}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("lakesql: scan: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		if strings.Contains(err.Error(), noFiles) {
			return nil
		}
		return fmt.Errorf("lakesql: query: %w", err)
	}
	return nil
}
