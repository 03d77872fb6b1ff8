package query

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// isOption reports whether err is an *OptionError for option that matches
// ErrInvalidOption.
func isOption(err error, option string) bool {
	var oe *OptionError
	return errors.Is(err, ErrInvalidOption) && errors.As(err, &oe) && oe.Option == option
}

// TestInvalidOptions: every bad option is an error naming it, never a query.
func TestInvalidOptions(t *testing.T) {
	long := strings.Repeat("x", 1001)
	ok := "r2-bucket"
	t0 := at("2024-01-01T00:00:00.000Z")
	for _, c := range []struct {
		option string
		build  func() (string, error)
	}{
		{"Bucket", func() (string, error) { return Build(Options{}) }},
		{"Bucket", func() (string, error) { return Build(Options{Bucket: "My-Bucket"}) }},
		{"Bucket", func() (string, error) { return Build(Options{Bucket: "ab"}) }},
		{"Bucket", func() (string, error) { return Build(Options{Bucket: strings.Repeat("a", 64)}) }},
		{"Bucket", func() (string, error) { return Build(Options{Bucket: "-bucket"}) }},
		{"Bucket", func() (string, error) { return Build(Options{Bucket: "bucket."}) }},
		{"Bucket", func() (string, error) { return Build(Options{Bucket: "a..b"}) }},
		{"Bucket", func() (string, error) { return Build(Options{Bucket: "192.168.1.1"}) }},
		{"Bucket", func() (string, error) { return Build(Options{Bucket: "b'); DROP TABLE x; --"}) }},
		{"Root", func() (string, error) { return Build(Options{Bucket: ok, Root: "/lake"}) }},
		{"Root", func() (string, error) { return Build(Options{Root: "/lake/*"}) }},
		{"Root", func() (string, error) { return Build(Options{Root: "/lake/[a]"}) }},
		{"Root", func() (string, error) { return Build(Options{Root: `C:\lake`}) }},
		{"Root", func() (string, error) { return Build(Options{Root: "http://example.com/lake"}) }},
		{"Root", func() (string, error) { return Build(Options{Root: "md:lake"}) }},
		{"Root", func() (string, error) { return Build(Options{Root: "s3://Bad_Bucket/x"}) }},
		{"Root", func() (string, error) { return Build(Options{Root: "s3://bucket/a//b"}) }},
		{"Root", func() (string, error) { return Build(Options{Root: "s3://bucket/../b"}) }},
		{"Root", func() (string, error) { return Build(Options{Root: "/lake\n"}) }},
		{"Root", func() (string, error) { return Build(Options{Root: "/" + long}) }},
		{"DOID", func() (string, error) { return Build(Options{Bucket: ok, DOID: long}) }},
		{"DOID", func() (string, error) { return Build(Options{Bucket: ok, DOID: "a\x00b"}) }},
		{"DOClass", func() (string, error) { return Build(Options{Bucket: ok, DOClass: "a\tb"}) }},
		{"Colo", func() (string, error) { return Build(Options{Bucket: ok, Colo: "\u0085"}) }},
		{"Collection", func() (string, error) { return Build(Options{Bucket: ok, Collection: "\xff"}) }},
		{"DocID", func() (string, error) { return Build(Options{Bucket: ok, DocID: "\x7f"}) }},
		{"Method", func() (string, error) { return Build(Options{Bucket: ok, Method: long}) }},
		{"EventTypes[1]", func() (string, error) { return Build(Options{Bucket: ok, EventTypes: []string{"a", ""}}) }},
		{"EventTypes[0]", func() (string, error) { return Build(Options{Bucket: ok, EventTypes: []string{"\r"}}) }},
		{"Limit", func() (string, error) { return Build(Options{Bucket: ok, Limit: -1}) }},
		{"OrderBy", func() (string, error) { return Build(Options{Bucket: ok, OrderBy: "ts; DROP TABLE x"}) }},
		{"OrderBy", func() (string, error) { return Build(Options{Bucket: ok, OrderBy: "do_id"[:2]}) }},
		{"OrderBy", func() (string, error) { return Build(Options{Bucket: ok, OrderBy: "ts  DESC"}) }},
		{"OrderBy", func() (string, error) { return Build(Options{Bucket: ok, OrderBy: "ts DESC NULLS FIRST"}) }},
		{"OrderBy", func() (string, error) { return Build(Options{Bucket: ok, OrderBy: "TS"}) }},
		{"OrderBy", func() (string, error) { return Build(Options{Bucket: ok, OrderBy: "random()"}) }},
		{"DateRange.Start", func() (string, error) { return Build(Options{Bucket: ok, DateRange: &DateRange{End: t0}}) }},
		{"DateRange.End", func() (string, error) { return Build(Options{Bucket: ok, DateRange: &DateRange{Start: t0}}) }},
		{"DateRange.End", func() (string, error) {
			return Build(Options{Bucket: ok, DateRange: &DateRange{Start: t0, End: t0.Add(-time.Nanosecond)}})
		}},
		{"DateRange.Start", func() (string, error) {
			return Build(Options{Bucket: ok, DateRange: &DateRange{Start: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), End: t0}})
		}},
		{"Columns[0].Name", func() (string, error) { return Build(Options{Bucket: ok, Columns: []Column{{Type: "VARCHAR"}}}) }},
		{"Columns[0].Name", func() (string, error) { return Build(Options{Bucket: ok, Columns: []Column{{"filename", "VARCHAR"}}}) }},
		{"Columns[0].Name", func() (string, error) { return Build(Options{Bucket: ok, Columns: []Column{{"ts", "VARCHAR"}}}) }},
		{"Columns[0].Name", func() (string, error) { return Build(Options{Bucket: ok, Columns: []Column{{"do", "VARCHAR"}}}) }},
		{"Columns[0].Name", func() (string, error) { return Build(Options{Bucket: ok, Columns: []Column{{"DocId", "VARCHAR"}}}) }},
		{"Columns[1].Name", func() (string, error) {
			return Build(Options{Bucket: ok, Columns: []Column{{"a", "VARCHAR"}, {"A", "VARCHAR"}}})
		}},
		{"Columns[0].Type", func() (string, error) { return Build(Options{Bucket: ok, Columns: []Column{{"a", ""}}}) }},
		{"Columns[0].Type", func() (string, error) { return Build(Options{Bucket: ok, Columns: []Column{{"a", "FOO"}}}) }},
		{"Columns[0].Type", func() (string, error) {
			return Build(Options{Bucket: ok, Columns: []Column{{"a", "VARCHAR'); SELECT 1; --"}}})
		}},
		{"Columns[0].Type", func() (string, error) {
			return Build(Options{Bucket: ok, Columns: []Column{{"a", "STRUCT(a INT, A INT)"}}})
		}},
		{"Columns[0].Type", func() (string, error) { return Build(Options{Bucket: ok, Columns: []Column{{"a", "DECIMAL(40, 2)"}}}) }},
		{"Columns[0].Type", func() (string, error) {
			return Build(Options{Bucket: ok, Columns: []Column{{"a", strings.Repeat("STRUCT(a ", 20) + "INT" + strings.Repeat(")", 20)}}})
		}},
		{"Collection", func() (string, error) { return History(HistoryOptions{Bucket: ok, DocID: "d"}) }},
		{"DocID", func() (string, error) { return History(HistoryOptions{Bucket: ok, Collection: "c"}) }},
		{"DOID", func() (string, error) {
			return History(HistoryOptions{Bucket: ok, Collection: "c", DocID: "d", DOID: "\n"})
		}},
		{"Bucket", func() (string, error) { return History(HistoryOptions{Collection: "c", DocID: "d"}) }},
		{"Method", func() (string, error) { return Latency(LatencyOptions{Bucket: ok, Method: "\x1b[31m"}) }},
		{"DateRange.End", func() (string, error) {
			return Latency(LatencyOptions{Bucket: ok, DateRange: &DateRange{Start: t0, End: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}})
		}},
		{"DOID", func() (string, error) { return PITRRange(PITROptions{Bucket: ok, EndBookmark: "1"}) }},
		{"EndBookmark", func() (string, error) { return PITRRange(PITROptions{Bucket: ok, DOID: "s"}) }},
		{"StartBookmark", func() (string, error) {
			return PITRRange(PITROptions{Bucket: ok, DOID: "s", StartBookmark: bm(5), EndBookmark: bm(4)})
		}},
		{"StartBookmark", func() (string, error) {
			return PITRRange(PITROptions{Bucket: ok, DOID: "s", StartBookmark: long, EndBookmark: "z"})
		}},
		{"Collection", func() (string, error) {
			return PITRRange(PITROptions{Bucket: ok, DOID: "s", EndBookmark: "1", Collection: "\x00"})
		}},
	} {
		q, err := c.build()
		if !isOption(err, c.option) {
			t.Errorf("want an error for %s, got %v (query %q)", c.option, err, q)
		}
		if q != "" {
			t.Errorf("%s: a query came with the error", c.option)
		}
	}
}

// TestValidInputs are accepted at the limits of the rules.
func TestValidInputs(t *testing.T) {
	max1000 := strings.Repeat("é", 1000) // 1000 characters, 2000 bytes
	for name, build := range map[string]func() (string, error){
		"1000 characters":     func() (string, error) { return Build(Options{Bucket: "abc", DocID: max1000}) },
		"63-character bucket": func() (string, error) { return Build(Options{Bucket: strings.Repeat("a", 63)}) },
		"dotted bucket":       func() (string, error) { return Build(Options{Bucket: "my.events-2024"}) },
		"s3 root":             func() (string, error) { return Build(Options{Root: "s3://my-events/prod/lake/"}) },
		"gs root":             func() (string, error) { return Build(Options{Root: "gs://my-events"}) },
		"relative root":       func() (string, error) { return Build(Options{Root: "./lake"}) },
		"root with quote":     func() (string, error) { return Build(Options{Root: "/tmp/o'neil lake"}) },
		"order lower dir":     func() (string, error) { return Build(Options{Bucket: "abc", OrderBy: "docId desc"}) },
		"decimal column": func() (string, error) {
			return Build(Options{Bucket: "abc", Columns: []Column{{"amount", "decimal(18,2)"}, {"tags", "VARCHAR[]"}, {"m", "MAP(VARCHAR, DOUBLE)"}}})
		},
	} {
		if _, err := build(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSQLShape pins what the README examples produce for an R2 bucket: the
// glob narrowed to the month, the ts filter and the hour filter on the path.
func TestSQLShape(t *testing.T) {
	q, err := Build(Options{
		Bucket:     "my-events",
		DateRange:  &DateRange{Start: at("2024-01-01T00:00:00.000Z"), End: at("2024-01-31T00:00:00.000Z")},
		EventTypes: []string{"rpc.call"},
		DOClass:    "ChatRoom",
		Limit:      1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"read_json('r2://my-events/[e_][ve][em][np]t[sy]/[20]0[20][40]/0[10]/*/*/*.jsonl', format='newline_delimited', union_by_name=true, ignore_errors=true, filename=true,",
		"'docId': 'VARCHAR'", "'bookmark': 'VARCHAR'", "'do': 'STRUCT(id VARCHAR, name VARCHAR, class VARCHAR, colo VARCHAR, worker VARCHAR)'",
		"right(parse_dirpath(filename), 13) BETWEEN '2024/01/01/00' AND '2024/01/31/00'",
		"ts >= TIMESTAMPTZ '2024-01-01 00:00:00.000000+00' AND ts <= TIMESTAMPTZ '2024-01-31 00:00:00.000000+00'",
		`"do".class = 'ChatRoom'`,
		"type IN ('rpc.call')",
		"ORDER BY ts DESC NULLS LAST",
		"LIMIT 1000",
	} {
		if !strings.Contains(q, want) {
			t.Errorf("missing %q in\n%s", want, q)
		}
	}
	for _, c := range []struct {
		dr   *DateRange
		glob string
	}{
		{nil, "/[e_][ve][em][np]t[sy]/*/*/*/*/*.jsonl"},
		{&DateRange{Start: at("2024-01-15T14:00:00.000Z"), End: at("2024-01-15T14:59:59.999Z")}, "/[e_][ve][em][np]t[sy]/[20]0[20][40]/0[10]/[10][50]/[10][40]/*.jsonl"},
		{&DateRange{Start: at("2024-01-15T14:00:00.000Z"), End: at("2024-01-15T15:00:00.000Z")}, "/[e_][ve][em][np]t[sy]/[20]0[20][40]/0[10]/[10][50]/*/*.jsonl"},
		{&DateRange{Start: at("2024-01-15T00:00:00.000Z"), End: at("2024-01-16T23:59:59.999Z")}, "/[e_][ve][em][np]t[sy]/[20]0[20][40]/0[10]/*/*/*.jsonl"},
		{&DateRange{Start: at("2024-01-31T00:00:00.000Z"), End: at("2024-02-01T23:59:59.999Z")}, "/[e_][ve][em][np]t[sy]/[20]0[20][40]/*/*/*/*.jsonl"},
		{&DateRange{Start: at("2024-12-31T00:00:00.000Z"), End: at("2025-01-01T23:59:59.999Z")}, "/[e_][ve][em][np]t[sy]/*/*/*/*/*.jsonl"},
		// Local midnight in Tokyo is 15:00 UTC the day before.
		{&DateRange{Start: time.Date(2024, 3, 10, 0, 0, 0, 0, time.FixedZone("JST", 9*3600)), End: time.Date(2024, 3, 10, 0, 59, 0, 0, time.FixedZone("JST", 9*3600))}, "/[e_][ve][em][np]t[sy]/[20]0[20][40]/0[30]/0[90]/[10][50]/*.jsonl"},
	} {
		q, err := Build(Options{Root: "s3://b-1/p", DateRange: c.dr})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(q, "'s3://b-1/p"+c.glob+"'") {
			t.Errorf("range %v: want glob %s in\n%s", c.dr, c.glob, q)
		}
	}
	q, _ = PITRRange(PITROptions{Bucket: "abc", DOID: "odd_id/ü'", EndBookmark: "9"})
	if !strings.Contains(q, "starts_with(parse_filename(filename), 'odd%5Fid%2F%C3%BC%27_')") || !strings.Contains(q, `"do".id = 'odd_id/ü''')`) {
		t.Errorf("store filters:\n%s", q)
	}
}

// TestSubMillisecondBounds: bounds are rounded inwards to DuckDB's
// microseconds, so an event exactly at a bound is included and rounding
// never includes one outside.
func TestSubMillisecondBounds(t *testing.T) {
	b, err := (&DateRange{Start: at("2024-01-01T00:00:00.000Z").Add(500), End: at("2024-01-01T00:00:01.000Z").Add(999)}).check("DateRange")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.tsCondition(); got != "ts >= TIMESTAMPTZ '2024-01-01 00:00:00.000001+00' AND ts <= TIMESTAMPTZ '2024-01-01 00:00:01.000000+00'" {
		t.Errorf("condition = %s", got)
	}
}
