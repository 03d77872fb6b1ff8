package query

import (
	"fmt"
	"strings"

	"github.com/dotdo/events/runtime/changelog"
)

// cdcTypes are the types of change events, as the runtime writes them.
var cdcTypes = []string{changelog.OpInsert.EventType(), changelog.OpUpdate.EventType(), changelog.OpDelete.EventType()}

// Build returns a DuckDB query for the events of the lake that match opts:
// one row per event with the columns of EventColumns (plus opts.Columns),
// "ts" a UTC TIMESTAMP, sorted by opts.OrderBy (default "ts DESC").
//
// Errors match ErrInvalidOption and name the option.
func Build(opts Options) (string, error) {
	src, err := newSource(opts.Bucket, opts.Root, opts.DateRange, opts.DOID, "Columns", opts.Columns)
	if err != nil {
		return "", err
	}
	var w where
	w.eq("DOClass", `"do".class`, opts.DOClass)
	w.eq("Colo", `"do".colo`, opts.Colo)
	if len(opts.EventTypes) > 0 {
		w.in("EventTypes", "type", opts.EventTypes)
	}
	w.eq("Collection", "collection", opts.Collection)
	w.eq("DocID", `"docId"`, opts.DocID)
	w.eq("Method", "method", opts.Method)
	if w.err != nil {
		return "", w.err
	}
	order, err := orderClause(opts.OrderBy)
	if err != nil {
		return "", err
	}
	if opts.Limit < 0 {
		return "", invalid("Limit", "%d is negative (0 means no limit)", opts.Limit)
	}
	q := "SELECT *\nFROM " + src.sql() + " AS e" + w.sql() + "\nORDER BY " + order
	if opts.Limit > 0 {
		q += fmt.Sprintf("\nLIMIT %d", opts.Limit)
	}
	return q, nil
}

// where collects the conditions of a query, checking each value; the first
// bad value's error is kept in err.
type where struct {
	conds []string
	err   error
}

// add appends a condition built only from trusted SQL.
func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// eq adds "expr = 'v'" when v is set.
func (w *where) eq(option, expr, v string) {
	if w.err != nil || v == "" {
		return
	}
	if w.err = optional(option, v); w.err == nil {
		w.add(expr + " = " + literal(v))
	}
}

// in adds "expr IN ('a', 'b')"; every value is required.
func (w *where) in(option, expr string, vs []string) {
	if w.err != nil {
		return
	}
	lits := make([]string, len(vs))
	for i, v := range vs {
		if w.err = required(fmt.Sprintf("%s[%d]", option, i), v); w.err != nil {
			return
		}
		lits[i] = literal(v)
	}
	w.add(expr + " IN (" + strings.Join(lits, ", ") + ")")
}

// sql renders the WHERE clause, or "" without conditions.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return "\nWHERE " + strings.Join(w.conds, "\n  AND ")
}

// cdcColumns are the columns History and PITRRange return: the fields of
// change events. Selecting them rather than every column also spares DuckDB
// extracting the others from every line it reads (a quarter of the time of
// a History over 1M events, see BENCHMARKS.md).
const cdcColumns = `type, ts, "do", id, collection, "docId", doc, prev, bookmark`

// cdcTypeList is the SQL list of cdcTypes.
func cdcTypeList() string {
	lits := make([]string, len(cdcTypes))
	for i, t := range cdcTypes {
		lits[i] = literal(t)
	}
	return "(" + strings.Join(lits, ", ") + ")"
}
