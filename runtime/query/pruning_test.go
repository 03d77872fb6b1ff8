package query

import (
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// filesRead matches the count of files DuckDB opened in a box of EXPLAIN
// ANALYZE output.
var filesRead = regexp.MustCompile(`Total Files Read:\s*([\d,]+)`)

// jsonFilesRead returns the "Total Files Read" of the JSON Lines scan's box
// in an EXPLAIN ANALYZE plan (boxes stand side by side: the one in the same
// columns as "Function: READ_JSON").
func jsonFilesRead(plan string) []string {
	lines := strings.Split(plan, "\n")
	for i, l := range lines {
		col := strings.Index(l, "Function: READ_JSON")
		if col < 0 {
			continue
		}
		start := strings.LastIndex(l[:col], "│")
		for _, next := range lines[i+1:] {
			if len(next) <= start {
				continue
			}
			end := strings.Index(next[start+len("│"):], "│")
			if end < 0 {
				continue
			}
			if m := filesRead.FindStringSubmatch(next[start : start+len("│")+end]); m != nil {
				return m
			}
		}
	}
	return nil
}

// TestFolderSelection checks, without timing anything, that a query opens
// only the files of the hours (and store) it covers even when its glob is
// wider: DuckDB applies the file path filter to the file list.
func TestFolderSelection(t *testing.T) {
	root, _ := writeFixture(t)
	db := openDuckDB(t, "")
	count := func(patterns ...string) int {
		n := 0
		for _, p := range patterns {
			m, err := filepath.Glob(filepath.Join(root, "events", p))
			if err != nil {
				t.Fatal(err)
			}
			n += len(m)
		}
		return n
	}
	newYear := &DateRange{Start: at("2024-12-31T23:00:00.000Z"), End: at("2025-01-01T00:59:59.999Z")}
	for _, c := range []struct {
		name  string
		opts  Options
		files int
	}{
		{"across a new year (whole-lake glob)", Options{Root: root, DateRange: newYear},
			count("2024/12/31/23/*.jsonl", "2025/01/01/00/*.jsonl")},
		{"one store across a new year", Options{Root: root, DateRange: newYear, DOID: "users-1"},
			count("2024/12/31/23/users-1_*.jsonl", "2025/01/01/00/users-1_*.jsonl")},
		{"one store, no range", Options{Root: root, DOID: "odd_id/ü'"},
			count("*/*/*/*/odd%5Fid%2F%C3%BC%27_*.jsonl") + 1}, // + the empty placeholder
		{"a month", Options{Root: root, DateRange: &DateRange{Start: at("2024-01-01T00:00:00.000Z"), End: at("2024-01-31T23:59:59.999Z")}}, 0},
	} {
		if c.files == 0 {
			c.files = count("2024/01/*/*/*.jsonl")
		}
		q, err := Build(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		rows := mustQuery(t, db, "EXPLAIN ANALYZE "+q)
		plan, _ := rows[0]["explain_value"].(string)
		m := jsonFilesRead(plan)
		if m == nil {
			t.Fatalf("%s: no file count in the plan:\n%s", c.name, plan)
		}
		got, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		all := count("*/*/*/*/*.jsonl")
		if got != c.files || c.files == 0 || c.files == all {
			t.Errorf("%s: DuckDB read %d files, want %d (of %d in the lake)", c.name, got, c.files, all)
		}
	}
}

// TestCDCColumns pins the columns of History and PITRRange.
func TestCDCColumns(t *testing.T) {
	root, _ := writeFixture(t)
	db := openDuckDB(t, "")
	want := []string{"type", "ts", "do", "id", "collection", "docId", "doc", "prev", "bookmark"}
	h, _ := History(HistoryOptions{Root: root, Collection: "users", DocID: "user-123"})
	p, _ := PITRRange(PITROptions{Root: root, DOID: "users-1", EndBookmark: bm(9)})
	for _, q := range []string{h, p} {
		_, cols, err := runQuery(db, q)
		if err != nil || !slices.Equal(cols, want) {
			t.Errorf("columns %q, %v; want %q", cols, err, want)
		}
	}
}
