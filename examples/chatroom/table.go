package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/big"
	"strings"
	"text/tabwriter"
	"time"
)

// table is a titled result printed with aligned columns.
type table struct {
	title  string
	header []string
	rows   [][]string
}

// print writes the table, or says it is empty.
func (t table) print(out io.Writer) {
	fmt.Fprintf(out, "\n== %s (%d rows)\n", t.title, len(t.rows))
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	w.Flush()
}

// queryTable runs query on DuckDB and keeps the named columns (all when none
// are named), formatting each value for a person.
func queryTable(ctx context.Context, db *sql.DB, title, query string, keep ...string) (table, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return table{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return table{}, err
	}
	idx := make([]int, 0, len(cols))
	if len(keep) == 0 {
		for i := range cols {
			idx = append(idx, i)
		}
	} else {
		for _, k := range keep {
			for i, c := range cols {
				if c == k {
					idx = append(idx, i)
				}
			}
		}
	}
	t := table{title: title}
	for _, i := range idx {
		t.header = append(t.header, cols[i])
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return table{}, err
		}
		row := make([]string, 0, len(idx))
		for _, i := range idx {
			row = append(row, format(vals[i]))
		}
		t.rows = append(t.rows, row)
	}
	return t, rows.Err()
}

// format renders one DuckDB value.
func format(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return fmt.Sprintf("%.2f", v)
	case time.Time:
		return v.UTC().Format("2006-01-02T15:04:05.000Z")
	case *big.Int:
		return v.String()
	case []byte:
		return string(v)
	default:
		return fmt.Sprint(v)
	}
}
