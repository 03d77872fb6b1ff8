package cdc

import (
	"context"
	"fmt"
)

// storeMigrations is the store's own schema, one step per version. Steps are
// only ever appended: a released step never changes.
var storeMigrations = []string{
	// 1: the collection registry and the change log. seq is the rowid: a
	// new change gets max(seq)+1, and pruning always keeps the newest row, so
	// change numbers (and so bookmarks) are never reused. (AUTOINCREMENT would
	// do the same at the cost of one more page written per commit; the
	// collection index was dropped for the same reason: see BENCHMARKS.md.)
	`CREATE TABLE cdc_collections (
		name TEXT PRIMARY KEY NOT NULL,
		created_ms INTEGER NOT NULL
	);
	CREATE TABLE cdc_changes (
		seq INTEGER PRIMARY KEY,
		ts INTEGER NOT NULL,
		collection TEXT NOT NULL,
		doc_id TEXT NOT NULL,
		op TEXT NOT NULL,
		doc TEXT,
		prev TEXT
	);`,
	// 2: the log's consumers' saved positions (pruning stays below the
	// lowest) and its bookkeeping (how far it was pruned, ...).
	`CREATE TABLE cdc_positions (
		consumer TEXT PRIMARY KEY NOT NULL,
		seq INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE cdc_meta (
		key TEXT PRIMARY KEY NOT NULL,
		value INTEGER NOT NULL
	) WITHOUT ROWID;`,
}

func (s *Store) migrate(ctx context.Context, component string, steps []string) error {
	return s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS cdc_migrations (
			component TEXT NOT NULL,
			version INTEGER NOT NULL,
			PRIMARY KEY (component, version)
		)`); err != nil {
			return fmt.Errorf("cdc: migrate: %w", err)
		}
		var current int
		if err := tx.tx.QueryRowContext(ctx,
			`SELECT COALESCE(MAX(version), 0) FROM cdc_migrations WHERE component = ?`, component).Scan(&current); err != nil {
			return fmt.Errorf("cdc: migrate %s: %w", component, err)
		}
		if current > len(steps) {
			return fmt.Errorf("cdc: migrate %s: the database is at version %d, newer than this program knows (%d)", component, current, len(steps))
		}
		for v := current; v < len(steps); v++ {
			if _, err := tx.tx.ExecContext(ctx, steps[v]); err != nil {
				return fmt.Errorf("cdc: migrate %s to version %d: %w", component, v+1, err)
			}
			if _, err := tx.tx.ExecContext(ctx,
				`INSERT INTO cdc_migrations (component, version) VALUES (?, ?)`, component, v+1); err != nil {
				return fmt.Errorf("cdc: migrate %s: %w", component, err)
			}
		}
		return nil
	})
}
