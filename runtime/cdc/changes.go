package cdc

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dotdo/events/runtime/changelog"
)

// opMark is the op of a marker row that AdvanceBookmark writes: it only
// holds a change number, so it is never a change and no reader returns it.
const opMark = "mark"

const changeColumns = `seq, ts, collection, doc_id, op, doc, prev`

// ChangesAfter returns at most limit changes of every collection written
// after the bookmark after, in bookmark order (the marks of a restore's
// renumbering are skipped: they are no changes). When changes after after
// have been pruned (see WithRetention) it fails with ErrPruned instead of
// skipping them.
func (s *Store) ChangesAfter(ctx context.Context, after Bookmark, limit int) ([]RawChange, error) {
	return retainedChanges(ctx, s.reader, "", after, limit)
}

func readChanges(ctx context.Context, q queryer, collection string, after Bookmark, limit int) ([]RawChange, error) {
	seq, err := after.Seq()
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit %d must be positive", ErrInvalidOptions, limit)
	}
	// Marks (AdvanceBookmark) are numbers, not changes: skipped here, so
	// every reader of the log (the emitter, point-in-time restore) sees only
	// real changes. A mark has an empty collection, so the per-collection
	// query never matches one.
	query := `SELECT ` + changeColumns + ` FROM cdc_changes WHERE seq > ? AND op <> '` + opMark + `' ORDER BY seq LIMIT ?`
	args := []any{seq, limit}
	if collection != "" {
		query = `SELECT ` + changeColumns + ` FROM cdc_changes WHERE collection = ? AND seq > ? ORDER BY seq LIMIT ?`
		args = []any{collection, seq, limit}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cdc: changes: %w", err)
	}
	defer rows.Close()
	var out []RawChange
	for rows.Next() {
		c, _, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("cdc: changes: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cdc: changes: %w", err)
	}
	return out, nil
}

// scanChange reads a row of changeColumns; seq is its number (a mark's
// too: its Op is then opMark).
func scanChange(rows *sql.Rows) (c RawChange, seq int64, err error) {
	var (
		ts       int64
		op       string
		doc, prv []byte
	)
	if err := rows.Scan(&seq, &ts, &c.Collection, &c.DocID, &op, &doc, &prv); err != nil {
		return c, 0, err
	}
	c.Op = Op(op)
	c.Bookmark = changelog.BookmarkFromSeq(seq)
	c.TS = time.UnixMilli(ts).UTC()
	if doc != nil {
		c.Doc = json.RawMessage(doc)
	}
	if prv != nil {
		c.Prev = json.RawMessage(prv)
	}
	return c, seq, nil
}

// Changes returns at most limit changes of this collection written after
// the bookmark after (the zero Bookmark reads from the start), oldest first.
// An emitter prunes changes every sink has delivered once they are older
// than the store's retention (WithRetention: 7 days by default); asked for
// changes after a bookmark below what is kept, Changes fails with
// ErrPruned rather than skip them.
func (c *Collection[T]) Changes(ctx context.Context, after Bookmark, limit int) ([]Change[T], error) {
	raws, err := retainedChanges(ctx, c.reads(), c.t.name, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Change[T], len(raws))
	for i, r := range raws {
		ch, err := changelog.DecodeChange[T](r)
		if err != nil {
			return nil, err
		}
		out[i] = ch
	}
	return out, nil
}

// appendChange writes a change of data kept outside the store's collections
// (manual CDC) to the change log, in the transaction, and returns its
// bookmark: it is then shipped like any collection change. Op, Collection
// and DocID are validated; Doc and Prev must be valid JSON or empty; TS
// defaults to now; Bookmark is ignored (the log assigns it).
func (t *Tx) appendChange(ctx context.Context, c RawChange) (Bookmark, error) {
	if err := t.writable(); err != nil {
		return "", err
	}
	if c.Op != OpInsert && c.Op != OpUpdate && c.Op != OpDelete {
		return "", fmt.Errorf("%w: change op %q is not insert, update or delete", ErrInvalidOptions, c.Op)
	}
	if err := ValidateCollection(c.Collection); err != nil {
		return "", err
	}
	if err := ValidateID(c.DocID); err != nil {
		return "", err
	}
	var doc, prev any
	for _, v := range []struct {
		raw json.RawMessage
		dst *any
	}{{c.Doc, &doc}, {c.Prev, &prev}} {
		if len(v.raw) == 0 {
			continue
		}
		if !json.Valid(v.raw) {
			return "", fmt.Errorf("%w: change of %s/%s is not valid JSON", ErrEncode, c.Collection, c.DocID)
		}
		if err := checkDepth(v.raw, func() string { return "change of " + c.Collection + "/" + c.DocID }); err != nil {
			return "", err
		}
		*v.dst = string(v.raw)
	}
	ts := c.TS
	if ts.IsZero() {
		ts = time.Now()
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO cdc_changes (ts, collection, doc_id, op, doc, prev) VALUES (?, ?, ?, ?, ?, ?)`,
		ts.UTC().Truncate(time.Millisecond).UnixMilli(), c.Collection, c.DocID, string(c.Op), doc, prev)
	if err != nil {
		return "", fmt.Errorf("cdc: append change: %w", err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return "", fmt.Errorf("cdc: append change: %w", err)
	}
	return changelog.BookmarkFromSeq(seq), nil
}

// advanceBookmark makes the next change of the store get a number greater
// than to, in the transaction: a store restored from another one's
// snapshots and lake (snapshot.RestoreTo into a new, empty store) continues
// the sequence of the store it replaces instead of reissuing its bookmarks.
// It does nothing when the store is already at or past to: bookmarks never
// go back. The zero Bookmark does nothing either.
//
// The number is held by a marker row at to in the change log. A mark is not
// a change: ChangesAfter and Collection.Changes skip it, so it yields no
// event, and pruning deletes it like a change once it is not the
// newest row. Store.Bookmark and Tx.Bookmark count it (they return to until
// the next change), so a consumer of ChangesAfter may find nothing up to
// the store's bookmark.
func (t *Tx) advanceBookmark(ctx context.Context, to Bookmark) error {
	if err := t.writable(); err != nil {
		return err
	}
	seq, err := to.Seq()
	if err != nil {
		return err
	}
	if seq <= 0 {
		return nil
	}
	// seq is the rowid: the next insert takes MAX(seq)+1. WHERE NOT EXISTS
	// keeps it a no-op when the log already reaches seq (as a change or a
	// mark), so the number never goes back.
	_, err = t.tx.ExecContext(ctx, `INSERT INTO cdc_changes (seq, ts, collection, doc_id, op, doc, prev)
		SELECT ?1, ?2, '', '', '`+opMark+`', NULL, NULL
		WHERE NOT EXISTS (SELECT 1 FROM cdc_changes WHERE seq >= ?1)`,
		seq, time.Now().UTC().UnixMilli())
	if err != nil {
		return fmt.Errorf("cdc: advance bookmark to %s: %w", to, err)
	}
	return nil
}
