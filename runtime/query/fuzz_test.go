package query

import (
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/lake"
)

// fuzzSeeds are the seed corpus: quotes, backslashes, comment and statement
// markers, unicode, control characters, glob characters, over-long values,
// and values that are valid for one option or another.
var fuzzSeeds = []string{
	"'", `\`, `"`, "--", ";", "'; DROP TABLE t; --", `\'`, "''", "x'||(SELECT 42)||'", "$$", "/*", "*/",
	"ü日本語🎉", "\u2028", "\ufeff", "Ω'--", strings.Repeat("a", 1001), strings.Repeat("é", 1000), strings.Repeat("'", 1000),
	"", "a\x00b", "line\nbreak", "tab\t", "\x7f", "%_*?[]{}", "odd_id/ü'", "2025-01-01", "00000000000000000042",
	"ts", "ts DESC", "docId desc", "do_id ASC", "colo", "ts DESC; SELECT 1",
	"users", "my-events", "my.events", "ab", "192.168.0.1",
	"s3://b", "../..", ".", "method", "Method", "filename", "_x", "a b",
	"VARCHAR", "STRUCT(\"na'me\" VARCHAR, n BIGINT)", "MAP(VARCHAR, DOUBLE[])", "DECIMAL(18, 2)", "FOO", "VARCHAR); SELECT 1; --",
}

// fuzzLake writes a lake in which the event "match" carries s in every
// string field of a change event, "mtype" has type s, "mrpc" is an rpc.call
// of store s with method, class and colo s, and decoys carry values next to
// s (s with a quote appended, s prefixed, s with its quotes doubled). It
// returns the lake's folder, or "" when s cannot be a store id.
func fuzzLake(t *testing.T, s string, extraKey string) string {
	if s == "" {
		return ""
	}
	root := t.TempDir()
	write := func(store string, seq uint64, fields ...any) {
		js := []byte{'{'}
		for i := 0; i < len(fields); i += 2 {
			if i > 0 {
				js = append(js, ',')
			}
			js = wire.AppendString(js, fields[i].(string))
			js = append(js, ':')
			v, err := json.Marshal(fields[i+1])
			if str, ok := fields[i+1].(string); ok {
				v, err = wire.AppendString(nil, str), nil
			}
			if err != nil {
				t.Fatal(err)
			}
			js = append(js, v...)
		}
		js = append(js, '}')
		ts := at("2024-06-01T12:00:00.000Z")
		if _, err := lakewrite.WriteEvents(t.Context(), lake.Dir(root), events.Identity{ID: store},
			[]lakewrite.EncodedEvent{{TS: ts, Seq: seq, JSON: js}}); err != nil {
			t.Fatal(err)
		}
	}
	do := func(v string) map[string]string { return map[string]string{"id": v, "class": v, "colo": v} }
	change := func(id, v string) []any {
		f := []any{"type", "collection.update", "ts", "2024-06-01T12:00:00.000Z", "do", do(v), "id", id,
			"collection", v, "docId", v, "bookmark", v, "method", v}
		if extraKey != "" {
			f = append(f, extraKey, "v-"+id)
		}
		return f
	}
	rpc := func(id, v string) []any {
		return []any{"type", "rpc.call", "ts", "2024-06-01T12:00:00.000Z", "do", do(v), "id", id,
			"method", v, "durationMs", 1.5, "success", true}
	}
	write(s, 1, change("match", s)...)
	write(s, 2, rpc("mrpc", s)...)
	write("decoy", 3, "type", s, "ts", "2024-06-01T12:00:00.000Z", "do", do("decoy"), "id", "mtype")
	for i, d := range slices.Compact([]string{s + "'", "x" + s, strings.ReplaceAll(s, "'", "''")}) {
		if d == s {
			continue
		}
		write(d, uint64(10+i), change("decoy"+d, d)...)
		write(d, uint64(20+i), rpc("decoyrpc"+d, d)...)
		write("decoy", uint64(30+i), "type", d, "ts", "2024-06-01T12:00:00.000Z", "do", do("decoy"), "id", "decoytype"+d)
	}
	return root
}

// parses reports whether DuckDB parses q (for queries over remote roots,
// which cannot run here), and returns its parse tree as JSON.
func parses(t *testing.T, db *sql.DB, q string) (bool, string) {
	var tree string
	if err := db.QueryRow("SELECT CAST(json_serialize_sql(?::VARCHAR) AS VARCHAR)", q).Scan(&tree); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Error bool `json:"error"`
	}
	if err := json.Unmarshal([]byte(tree), &res); err != nil {
		t.Fatal(err)
	}
	return !res.Error, tree
}

// treeHas reports whether the JSON parse tree holds the string value want.
func treeHas(tree, want string) bool {
	var v any
	if err := json.Unmarshal([]byte(tree), &v); err != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case string:
			return x == want
		case []any:
			return slices.ContainsFunc(x, walk)
		case map[string]any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// FuzzOptions feeds one arbitrary string into each option of each builder.
// Every result is an error naming that option, given only for a value the
// rules refuse, or SQL that DuckDB runs and in which the value arrives
// intact: filtering on it finds exactly the events written with it.
func FuzzOptions(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		db := openDuckDB(t, "")
		valueOK := s != "" && checkValue(s) == ""
		// refused checks that err refuses option, and only for a bad value.
		refused := func(what, option string, err error, allowed bool) bool {
			t.Helper()
			if err == nil {
				return false
			}
			if !errors.Is(err, ErrInvalidOption) || !isOption(err, option) {
				t.Fatalf("%s: error %v does not name %s", what, err, option)
			}
			if allowed {
				t.Fatalf("%s: valid value %q refused: %v", what, s, err)
			}
			return true
		}
		var extraKey string
		_, colErr := mergeColumns("Columns", []Column{{Name: s, Type: "VARCHAR"}})
		if colErr == nil && !slices.Contains([]string{"type", "ts", "do", "id", "collection", "docId", "bookmark", "method"}, s) {
			extraKey = s
		}
		root := ""
		if valueOK {
			root = fuzzLake(t, s, extraKey)
		}
		expect := func(what, q string, want ...string) {
			t.Helper()
			rows, _, err := runQuery(db, q)
			if err != nil {
				t.Fatalf("%s: DuckDB refused the query: %v\n%s", what, err, q)
			}
			if got := ids(rows); !slices.Equal(got, want) {
				t.Fatalf("%s: ids %q, want %q\n%s", what, got, want, q)
			}
		}
		lakeRoot := root
		if lakeRoot == "" {
			lakeRoot = t.TempDir() // for refused values: any valid root
		}

		// Build, one filter at a time.
		for _, c := range []struct {
			option string
			opts   Options
			want   string
		}{
			{"DOID", Options{Root: lakeRoot, DOID: s, EventTypes: []string{"collection.update"}}, "match"},
			{"DOClass", Options{Root: lakeRoot, DOClass: s, EventTypes: []string{"collection.update"}}, "match"},
			{"Colo", Options{Root: lakeRoot, Colo: s, EventTypes: []string{"collection.update"}}, "match"},
			{"Collection", Options{Root: lakeRoot, Collection: s}, "match"},
			{"DocID", Options{Root: lakeRoot, DocID: s}, "match"},
			{"Method", Options{Root: lakeRoot, Method: s, EventTypes: []string{"collection.update"}}, "match"},
			{"EventTypes[0]", Options{Root: lakeRoot, EventTypes: []string{s}}, "mtype"},
		} {
			if s == "" {
				continue // empty means "not set" for these options
			}
			q, err := Build(c.opts)
			if refused("Build "+c.option, c.option, err, valueOK) {
				continue
			}
			if err != nil || !valueOK {
				t.Fatalf("Build %s accepted the bad value %q", c.option, s)
			}
			expect("Build "+c.option, q, c.want)
		}

		// History, with and without the store.
		for _, doID := range []string{"", s} {
			q, err := History(HistoryOptions{Root: lakeRoot, Collection: s, DocID: s, DOID: doID})
			if refused("History", "Collection", err, valueOK) {
				continue
			}
			expect("History", q, "match")
		}

		// PITRRange: bookmark s is in (”, s] and not in (s, s].
		q, err := PITRRange(PITROptions{Root: lakeRoot, DOID: s, EndBookmark: s, Collection: s})
		if !refused("PITRRange", "DOID", err, valueOK) {
			expect("PITRRange", q, "match")
			q, err = PITRRange(PITROptions{Root: lakeRoot, DOID: s, StartBookmark: s, EndBookmark: s})
			if err != nil {
				t.Fatal(err)
			}
			expect("PITRRange empty", q)
		}

		// Latency by each filter: one row, for the call of store s.
		for _, c := range []struct {
			option string
			opts   LatencyOptions
		}{
			{"Method", LatencyOptions{Root: lakeRoot, Method: s}},
			{"DOClass", LatencyOptions{Root: lakeRoot, DOClass: s}},
			{"Colo", LatencyOptions{Root: lakeRoot, Colo: s}},
			{"DOID", LatencyOptions{Root: lakeRoot, DOID: s}},
		} {
			if s == "" {
				continue
			}
			q, err := Latency(c.opts)
			if refused("Latency "+c.option, c.option, err, valueOK) {
				continue
			}
			rows, _, err := runQuery(db, q)
			if err != nil {
				t.Fatalf("Latency %s: %v\n%s", c.option, err, q)
			}
			// The change event "match" has method s too, but is no call.
			if len(rows) != 1 || rows[0]["method"] != s || rows[0]["class"] != s || rows[0]["call_count"] != int64(1) {
				t.Fatalf("Latency %s: rows %v, want one for %q\n%s", c.option, rows, s, q)
			}
		}

		// OrderBy: an allowed column, or an error.
		if q, err := Build(Options{Root: lakeRoot, OrderBy: s}); err == nil {
			col, _, _ := strings.Cut(s, " ")
			if _, ok := orderColumns[col]; !ok && s != "" {
				t.Fatalf("OrderBy %q accepted", s)
			}
			if root != "" {
				if _, _, err := runQuery(db, q); err != nil {
					t.Fatalf("OrderBy %q: %v\n%s", s, err, q)
				}
			}
		} else {
			refused("OrderBy", "OrderBy", err, false)
		}

		// Bucket: valid names only, and the glob arrives intact.
		if q, err := Build(Options{Bucket: s}); err == nil {
			if bucketProblem(s) != "" {
				t.Fatalf("bucket %q accepted", s)
			}
			if ok, tree := parses(t, db, q); !ok || !treeHas(tree, "r2://"+s+"/[e_][ve][em][np]t[sy]/*/*/*/*/*.jsonl") {
				t.Fatalf("bucket %q: parse %v %.300s", s, ok, tree)
			}
		} else {
			refused("Bucket", "Bucket", err, bucketProblem(s) == "")
		}

		// Root, remote: the path reaches DuckDB's parser intact.
		if q, err := Build(Options{Root: "s3://bucket/" + s}); err == nil {
			ok, tree := parses(t, db, q)
			want := strings.TrimRight("s3://bucket/"+s, "/") + "/[e_][ve][em][np]t[sy]/*/*/*/*/*.jsonl"
			if !ok || !treeHas(tree, want) {
				t.Fatalf("root %q: parse %v, want %s in the parse tree\n%s", s, ok, want, q)
			}
		} else {
			refused("Root", "Root", err, false)
		}

		// Root, local: DuckDB finds the lake written at that path.
		fuzzLocalRoot(t, db, s)

		// Columns: a custom field named s, read intact.
		if q, err := Build(Options{Root: lakeRoot, DocID: s, Columns: []Column{{Name: s, Type: "VARCHAR"}}}); err == nil && root != "" {
			rows, cols, err := runQuery(db, q)
			if err != nil {
				t.Fatalf("column %q: %v\n%s", s, err, q)
			}
			if !slices.Contains(cols, s) || len(rows) != 1 || (extraKey != "" && rows[0][s] != "v-match") {
				t.Fatalf("column %q: columns %q rows %v", s, cols, rows)
			}
		} else if err != nil {
			refused("Columns", "Columns[0].Name", err, colErr == nil && valueOK)
		}
		// Columns: a type s, accepted only if DuckDB accepts it.
		if q, err := Build(Options{Root: lakeRoot, Columns: []Column{{Name: "x", Type: s}}}); err == nil && root != "" {
			if _, _, err := runQuery(db, q); err != nil {
				t.Fatalf("type %q accepted but DuckDB refuses it: %v\n%s", s, err, q)
			}
		} else if err != nil {
			refused("Columns type", "Columns[0].Type", err, false)
		}
	})
}

// fuzzLocalRoot builds a query with a local Root ending in s and, when the
// folder can be made inside the test's temp dir, writes a lake there and
// checks DuckDB reads exactly it.
func fuzzLocalRoot(t *testing.T, db *sql.DB, s string) {
	base := t.TempDir()
	root := base + "/r" + s
	q, err := Build(Options{Root: root, DocID: "d"})
	if err != nil {
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != "Root" {
			t.Fatalf("root %q: %v", root, err)
		}
		return
	}
	clean := filepath.Clean(root)
	if !strings.HasPrefix(clean, base+"/") || strings.HasPrefix(s, "~") {
		return // outside the temp dir: parsing was checked above
	}
	if err := os.MkdirAll(clean, 0o755); err != nil {
		return // not a path this file system can hold
	}
	writeBatch(t, root, events.Identity{ID: "s"}, 1, events.CollectionChange{Type: events.TypeCollectionInsert,
		TS: at("2024-06-01T12:00:00.000Z"), ID: "local", Collection: "c", DocID: "d", Bookmark: bm(1)})
	rows, _, err := runQuery(db, q)
	if err != nil {
		t.Fatalf("root %q: %v\n%s", root, err, q)
	}
	if got := ids(rows); !slices.Equal(got, []string{"local"}) {
		t.Fatalf("root %q: ids %q", root, got)
	}
}
