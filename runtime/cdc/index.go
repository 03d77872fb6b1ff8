package cdc

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
)

// index is one expression index of a collection.
type index struct {
	name string // unquoted
	ddl  string
}

// indexesOf returns the expression index of each field. The index
// expression is the field's own, so the planner uses it for filters and
// orders on it.
func indexesOf(collection string, fields []Order) ([]index, error) {
	var out []index
	for _, f := range fields {
		if f.err != nil {
			return nil, f.err
		}
		expr := f.expr
		if expr == "" {
			return nil, fmt.Errorf("%w: index on %s: a zero field", ErrInvalidOptions, collection)
		}
		if expr == "id" {
			continue // the primary key already is one
		}
		h := fnv.New64a()
		h.Write([]byte(expr))
		name := fmt.Sprintf(`ix_%s_%016x`, collection, h.Sum64())
		out = append(out, index{name, `CREATE INDEX IF NOT EXISTS "` + name + `" ON ` + tableName(collection) + ` (` + expr + `)`})
	}
	return out, nil
}

// ensureIndexes creates the indexes of fields that do not exist yet. What
// exists is read first (and remembered per store), so a collection opened
// again with its indexes writes nothing.
func (s *Store) ensureIndexes(ctx context.Context, t *tables, fields []Order) error {
	all, err := indexesOf(t.name, fields)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []index
	for _, ix := range all {
		if !t.indexed[ix.name] {
			missing = append(missing, ix)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	names := make([]any, len(missing))
	marks := make([]string, len(missing))
	for i, ix := range missing {
		names[i], marks[i] = ix.name, "?"
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'index' AND name IN (`+strings.Join(marks, ",")+`)`, names...)
	if err != nil {
		return fmt.Errorf("cdc: index %s: %w", t.name, err)
	}
	exists := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("cdc: index %s: %w", t.name, err)
		}
		exists[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cdc: index %s: %w", t.name, err)
	}
	var create []index
	for _, ix := range missing {
		if !exists[ix.name] {
			create = append(create, ix)
		}
	}
	if len(create) > 0 {
		err := s.Update(ctx, func(tx *Tx) error {
			for _, ix := range create {
				if _, err := tx.tx.ExecContext(ctx, ix.ddl); err != nil {
					return fmt.Errorf("cdc: index %s: %w", t.name, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, ix := range missing {
		t.indexed[ix.name] = true
	}
	return nil
}
