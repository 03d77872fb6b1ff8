package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dotdo/events/runtime/changelog"
)

// defaultRetention is how long delivered changes stay in a store's log
// unless WithRetention says otherwise: a week, so Collection.Changes keeps
// the recent history an application looks back on (yesterday's edits, last
// week's incident) while a busy store's log stays bounded.
const defaultRetention = 7 * 24 * time.Hour

// retention is how much of the change log pruning keeps.
type retention struct {
	age   time.Duration // changes younger than this are kept
	count int64         // the newest count changes are kept
}

// WithRetention sets, for Open, how much delivered history the store's
// change log keeps for Collection.Changes and Store.ChangesAfter: changes
// younger than keep, and the newest keepCount changes, stay, whichever
// keeps more. The default is 7 days and no count. WithRetention(0, 0) keeps
// nothing once delivered. A change is pruned only once every consumer of the
// log (each sink of the store's emitter) has delivered it, so retention
// never loses an undelivered change. Negative values are ErrInvalidOptions.
func WithRetention(keep time.Duration, keepCount int) Option {
	return func(o *options) error {
		if keep < 0 || keepCount < 0 {
			return fmt.Errorf("%w: retention %s, %d changes: must not be negative", ErrInvalidOptions, keep, keepCount)
		}
		if o.collection {
			return fmt.Errorf("%w: WithRetention is an option of Open, not NewCollection", ErrInvalidOptions)
		}
		o.retention = &retention{age: keep, count: int64(keepCount)}
		return nil
	}
}

// The change log's bookkeeping: consumers' positions, and how far the log
// was pruned (every row at or below "pruned" is gone).
const metaPruned = "pruned"

// prunedThrough returns the number every change at or below which has been
// pruned (0: nothing was).
func prunedThrough(ctx context.Context, q queryer) (int64, error) {
	var p int64
	err := q.QueryRowContext(ctx, `SELECT value FROM cdc_meta WHERE key = ?`, metaPruned).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cdc: changes: %w", err)
	}
	return p, nil
}

// retainedChanges is readChanges that fails with ErrPruned when changes
// after after were pruned. The pruned mark is read after the rows: it only
// grows, so if after is at or above it then, no row after after was gone
// when the rows were read.
func retainedChanges(ctx context.Context, q queryer, collection string, after Bookmark, limit int) ([]RawChange, error) {
	out, err := readChanges(ctx, q, collection, after, limit)
	if err != nil {
		return nil, err
	}
	seq, _ := after.Seq() // readChanges checked it
	p, err := prunedThrough(ctx, q)
	if err != nil {
		return nil, err
	}
	if seq < p {
		return nil, fmt.Errorf("%w: changes after %s were asked for, but the log keeps only those after %s",
			ErrPruned, bookmarkOrStart(after), changelog.BookmarkFromSeq(p))
	}
	return out, nil
}

func bookmarkOrStart(b Bookmark) string {
	if b == "" {
		return `"" (the start)`
	}
	return string(b)
}

// prunePrefix deletes every row of the log at or below through, keeping
// the newest row (it keeps bookmarks increasing), and records how far the
// log is pruned. newest is the log's newest seq, read in the same
// transaction. It returns how many rows it deleted.
func prunePrefix(ctx context.Context, x execer, through, newest int64) (int64, error) {
	through = min(through, newest-1)
	if through <= 0 {
		return 0, nil
	}
	res, err := x.ExecContext(ctx, `DELETE FROM cdc_changes WHERE seq <= ?`, through)
	if err != nil {
		return 0, fmt.Errorf("cdc: prune: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("cdc: prune: %w", err)
	}
	if n == 0 {
		return 0, nil // nothing was there to prune: the mark stays where it is
	}
	if _, err := x.ExecContext(ctx, `INSERT INTO cdc_meta (key, value) VALUES (?1, ?2)
		ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`, metaPruned, through); err != nil {
		return 0, fmt.Errorf("cdc: prune: %w", err)
	}
	return n, nil
}

// pruneChanges deletes the rows at or below through, whatever the retention
// and the consumers' positions (tests and maintenance).
func (s *Store) pruneChanges(ctx context.Context, through Bookmark) (int64, error) {
	seq, err := through.Seq()
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.Update(ctx, func(tx *Tx) error {
		var newest int64
		if err := tx.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM cdc_changes`).Scan(&newest); err != nil {
			return fmt.Errorf("cdc: prune: %w", err)
		}
		n, err = prunePrefix(ctx, tx.tx, seq, newest)
		return err
	})
	return n, err
}

// release saves that consumer has consumed the log through, then prunes
// what no consumer still needs and the retention does not keep: rows at or
// below the lowest saved position, older than the retention's age and
// outside its newest count, as one prefix of the log (a newer row stamped
// earlier stops it, so "pruned through" stays exact).
func (s *Store) release(ctx context.Context, consumer string, through Bookmark) (int64, error) {
	seq, err := through.Seq()
	if err != nil {
		return 0, err
	}
	if consumer == "" {
		return 0, fmt.Errorf("%w: empty consumer name", ErrInvalidOptions)
	}
	var n int64
	err = s.update(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO cdc_positions (consumer, seq) VALUES (?1, ?2)
			ON CONFLICT (consumer) DO UPDATE SET seq = max(seq, excluded.seq)`, consumer, seq); err != nil {
			return fmt.Errorf("cdc: save position of %s: %w", consumer, err)
		}
		var lowest, newest int64
		if err := tx.tx.QueryRowContext(ctx, `SELECT (SELECT MIN(seq) FROM cdc_positions), (SELECT COALESCE(MAX(seq), 0) FROM cdc_changes)`).Scan(&lowest, &newest); err != nil {
			return fmt.Errorf("cdc: prune: %w", err)
		}
		limit := min(lowest, newest-s.retention.count)
		if limit <= 0 {
			return nil // nothing is outside what is kept
		}
		if s.retention.age > 0 {
			// The first row young enough to keep ends the prefix. The scan
			// runs over the rows about to go, in seq order, and stops there.
			cutoff := time.Now().Add(-s.retention.age).UnixMilli()
			var young int64
			err := tx.tx.QueryRowContext(ctx, `SELECT seq FROM cdc_changes WHERE seq <= ? AND ts >= ? ORDER BY seq LIMIT 1`, limit, cutoff).Scan(&young)
			switch {
			case err == nil:
				limit = young - 1
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("cdc: prune: %w", err)
			}
		}
		n, err = prunePrefix(ctx, tx.tx, limit, newest)
		return err
	}, false)
	return n, err
}
