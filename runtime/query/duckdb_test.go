package query

import (
	"database/sql"
	"encoding/json"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/dotdo/events/internal/wire"
	_ "github.com/duckdb/duckdb-go/v2"
)

// openDuckDB opens an in-memory DuckDB with one connection (so a SET holds
// for every query), its session TimeZone set to zone when not empty.
func openDuckDB(tb testing.TB, zone string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	if zone != "" {
		if _, err := db.Exec("SET TimeZone = " + literal(zone)); err != nil {
			tb.Fatal(err)
		}
		var got string
		if err := db.QueryRow("SELECT current_setting('TimeZone')").Scan(&got); err != nil || got != zone {
			tb.Fatalf("session TimeZone = %q, %v; want %q", got, err, zone)
		}
	}
	return db
}

// row is one result row by column name, values as the driver returns them.
type row map[string]any

// runQuery runs q and returns its rows and column names.
func runQuery(db *sql.DB, q string) ([]row, []string, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	var out []row
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		r := row{}
		for i, c := range cols {
			r[c] = vals[i]
		}
		out = append(out, r)
	}
	return out, cols, rows.Err()
}

// mustQuery runs q or fails the test, showing the SQL.
func mustQuery(tb testing.TB, db *sql.DB, q string) []row {
	tb.Helper()
	rows, _, err := runQuery(db, q)
	if err != nil {
		tb.Fatalf("query failed: %v\n%s", err, q)
	}
	return rows
}

// ids returns the "id" column of rows.
func ids(rows []row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i], _ = r["id"].(string)
	}
	return out
}

// normalize turns a driver value into what encoding/json would decode from
// its wire form: times as wire strings, numbers as float64, maps without the
// NULL members a pinned STRUCT adds.
func normalize(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		return wire.FormatTime(x)
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			if e != nil {
				m[k] = normalize(e)
			}
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = normalize(e)
		}
		return s
	}
	// Numbers, strings, bools: through JSON, as the wire decodes them.
	js, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(js, &out); err != nil {
		return v
	}
	return out
}

// checkWire asserts that every row carries exactly the fields its event was
// written with: each pinned column equals the wire value, or is NULL when the
// event has no such field (or, for "code", one of another type).
func checkWire(tb testing.TB, rows []row, wire map[string]map[string]any) {
	tb.Helper()
	for _, r := range rows {
		id, _ := r["id"].(string)
		want, ok := wire[id]
		if !ok {
			tb.Errorf("row with unknown id %q", id)
			continue
		}
		for col, v := range r {
			got := normalize(v)
			exp, has := want[col]
			if col == "code" {
				if _, isNum := exp.(float64); !isNum {
					exp, has = nil, false
				}
			}
			if !has {
				if got != nil {
					tb.Errorf("%s: column %s = %#v, but the event has no such field", id, col, got)
				}
				continue
			}
			if !reflect.DeepEqual(got, exp) {
				tb.Errorf("%s: column %s = %#v, want %#v", id, col, got, exp)
			}
		}
	}
}
