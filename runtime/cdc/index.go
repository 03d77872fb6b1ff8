package cdc

import (
	"context"
	"fmt"
	"hash/fnv"
)

// createIndexes creates an expression index per field. The index expression
// is the field's own, so the planner uses it for filters and orders on it.
func createIndexes(ctx context.Context, x execer, collection string, fields []Order) error {
	for _, f := range fields {
		if f.err != nil {
			return f.err
		}
		expr := f.expr
		if expr == "" {
			return fmt.Errorf("%w: index on %s: a zero field", ErrInvalidOptions, collection)
		}
		if expr == "id" {
			continue // the primary key already is one
		}
		h := fnv.New64a()
		h.Write([]byte(expr))
		name := fmt.Sprintf(`"ix_%s_%016x"`, collection, h.Sum64())
		stmt := `CREATE INDEX IF NOT EXISTS ` + name + ` ON ` + tableName(collection) + ` (` + expr + `)`
		if _, err := x.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("cdc: index %s: %w", collection, err)
		}
	}
	return nil
}
