package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dotdo/events/runtime/changelog"
)

// Querier runs queries: a *sql.DB (or *sql.Conn, *sql.Tx) of a DuckDB
// driver (github.com/duckdb/duckdb-go/v2). The package imports no driver.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// History runs HistorySQL on db: every change of the document docID,
// oldest first.
func (c Collection[T, S]) History(ctx context.Context, db Querier, docID string) ([]changelog.Change[T], error) {
	stmt, err := c.HistorySQL(docID)
	if err != nil {
		return nil, err
	}
	name, _ := c.schema()
	return queryChanges[T](ctx, db, name, stmt)
}

// StateAt runs StateAtSQL on db: the documents as they were at the time
// at, with their ids.
func (c Collection[T, S]) StateAt(ctx context.Context, db Querier, at time.Time) ([]changelog.Entry[T], error) {
	stmt, err := c.StateAtSQL(at)
	if err != nil {
		return nil, err
	}
	return queryState[T](ctx, db, stmt)
}

// StateAtBookmark runs StateAtBookmarkSQL on db: the documents of the
// store Lake.DOID as they were at the bookmark b, with their ids.
func (c Collection[T, S]) StateAtBookmark(ctx context.Context, db Querier, b changelog.Bookmark) ([]changelog.Entry[T], error) {
	stmt, err := c.StateAtBookmarkSQL(b)
	if err != nil {
		return nil, err
	}
	return queryState[T](ctx, db, stmt)
}

// Changes runs ChangesSQL on db: the changes with start <= ts < end,
// oldest first.
func (c Collection[T, S]) Changes(ctx context.Context, db Querier, start, end time.Time) ([]changelog.Change[T], error) {
	stmt, err := c.ChangesSQL(start, end)
	if err != nil {
		return nil, err
	}
	name, _ := c.schema()
	return queryChanges[T](ctx, db, name, stmt)
}

// queryChanges runs query, a historySQL or changesSQL query, and decodes
// its rows into typed changes of collection. A lake without objects in the folders read
// gives no changes rather than DuckDB's "No files found" error.
func queryChanges[T any](ctx context.Context, db Querier, collection, query string) ([]changelog.Change[T], error) {
	var out []changelog.Change[T]
	err := scanChanges(ctx, db, query, func(r changeRow) error {
		raw := changelog.RawChange{Op: changelog.Op(r.op), Collection: collection, DocID: r.docID, Bookmark: changelog.Bookmark(r.bookmark.String), TS: r.ts}
		if r.doc.Valid {
			raw.Doc = json.RawMessage(r.doc.String)
		}
		if r.prev.Valid {
			raw.Prev = json.RawMessage(r.prev.String)
		}
		ch, err := changelog.DecodeChange[T](raw)
		if err != nil {
			return err
		}
		out = append(out, ch)
		return nil
	})
	return out, err
}

// queryState runs query, a stateAtSQL or stateAtBookmarkSQL query, and
// decodes its rows into documents with their ids. A lake without objects
// in the folders read gives no documents.
func queryState[T any](ctx context.Context, db Querier, query string) ([]changelog.Entry[T], error) {
	var out []changelog.Entry[T]
	err := scanChanges(ctx, db, query, func(r changeRow) error {
		e := changelog.Entry[T]{ID: r.docID}
		if err := json.Unmarshal([]byte(r.doc.String), &e.Doc); err != nil {
			return fmt.Errorf("%w: %s: %w", changelog.ErrDecode, r.docID, err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// changeRow is the meta columns (collectionMeta) of a result row.
type changeRow struct {
	op, docID       string
	ts              time.Time
	bookmark, store sql.NullString
	doc, prev       sql.NullString
}

// scanChanges runs query and calls fn with the meta columns of each row;
// the typed columns after them are skipped.
func scanChanges(ctx context.Context, db Querier, query string, fn func(changeRow) error) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		if IsNoFiles(err) {
			return nil
		}
		return fmt.Errorf("query: run: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("query: run: %w", err)
	}
	var r changeRow
	meta := []any{&r.op, &r.ts, &r.bookmark, &r.docID, &r.store, &r.doc, &r.prev}
	if len(cols) < len(meta) {
		return fmt.Errorf("query: run: %d columns, not the %d of a collection query", len(cols), len(meta))
	}
	dest := make([]any, len(cols))
	var skip any
	for i := range dest {
		dest[i] = &skip
	}
	copy(dest, meta)
	for rows.Next() {
		r = changeRow{}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("query: scan: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		// DuckDB may report a glob without files only when rows are read.
		if IsNoFiles(err) {
			return nil
		}
		return fmt.Errorf("query: run: %w", err)
	}
	return nil
}
