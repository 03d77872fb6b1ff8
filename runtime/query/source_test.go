package query

import (
	"fmt"
	"slices"
	"testing"
)

// TestEveryOrderColumnRuns: each allowed OrderBy column exists in the
// pinned schema, in both directions.
func TestEveryOrderColumnRuns(t *testing.T) {
	root, _ := writeFixture(t)
	db := openDuckDB(t, "")
	for _, col := range OrderColumns() {
		for _, dir := range []string{"", " ASC", " desc"} {
			q, err := Build(Options{Root: root, OrderBy: col + dir, Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if rows := mustQuery(t, db, q); len(rows) != 5 {
				t.Errorf("OrderBy %q: %d rows", col+dir, len(rows))
			}
		}
	}
}

// TestSourceTypedDoc builds a typed query of one's own on Source, as the
// generator does: "doc" read as a STRUCT, one store, a date range.
func TestSourceTypedDoc(t *testing.T) {
	root, _ := writeFixture(t)
	db := openDuckDB(t, "")
	src, err := Source(SourceOptions{
		Root:      root,
		DOID:      "users-1",
		DateRange: &DateRange{Start: at("2024-01-01T00:00:00.000Z"), End: at("2025-01-01T00:00:00.000Z")},
		Columns:   []Column{{Name: "doc", Type: "STRUCT(name VARCHAR, role VARCHAR)"}, {Name: "prev", Type: "STRUCT(name VARCHAR, role VARCHAR)"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	q := `SELECT "docId", doc.name AS name, doc.role AS role, prev.role AS was, bookmark
FROM ` + src + ` AS e
WHERE collection = 'users'
ORDER BY bookmark`
	var got []string
	for _, r := range mustQuery(t, db, q) {
		got = append(got, fmt.Sprintf("%v %v %v %v %v", r["docId"], r["name"], r["role"], r["was"], r["bookmark"]))
	}
	want := []string{
		"user-123 Ann user <nil> " + bm(1),
		"user-123 Ann admin user " + bm(2),
		"user-123 Ann B admin admin " + bm(3),
		"user-123 Ann C admin admin " + bm(4),
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%q\nwant\n%q", got, want)
	}
}
