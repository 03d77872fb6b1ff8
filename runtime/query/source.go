package query

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/dotdo/events/internal/lakeformat"
)

// SourceOptions say which part of the lake Source reads and how.
type SourceOptions struct {
	// Bucket is the R2 bucket; the lake is at "r2://{Bucket}". Set Bucket or
	// Root.
	Bucket string
	// Root is where the lake is when it is not r2://{Bucket}: "s3://bucket",
	// "s3://bucket/prefix", "r2://bucket/prefix", "gs://bucket" or a local
	// folder path. The events are under {Root}/events/.
	Root string
	// DateRange, when set, reads only the events with Start <= ts <= End.
	DateRange *DateRange
	// DOID, when set, reads only the events of this store ("do".id), from
	// the objects that may hold them: those named after it (this module's
	// percent-encoded names and upstream's raw {DOID}_{ms}.jsonl) and those
	// that may hold many stores' events (names starting with '_').
	DOID string
	// Columns are read in addition to EventColumns; a column named like an
	// event column replaces that column's type, e.g. "doc" as a STRUCT of a
	// collection's fields. The columns the builders filter, group or sort on
	// (ts, do, type, id, collection, docId, method, bookmark, durationMs,
	// success) keep their types.
	Columns []Column
}

// Source returns a parenthesised subquery to use as a FROM item, e.g.
//
//	"SELECT docId, doc FROM " + src + " AS e WHERE e.collection = 'users'"
//
// It reads the events objects of the lake with DuckDB's read_json
// (newline-delimited, union_by_name, columns pinned to EventColumns plus
// opts.Columns) and yields one row per event with a column per pinned
// field, "ts" a TIMESTAMP in UTC. A field no event has is NULL; a value that does not fit its
// column's type is NULL too, so one odd event never breaks a query.
//
// With a DateRange it reads only the files of the hours the range covers
// and keeps Start <= ts <= End; with a DOID only the store's own files and
// events (see the package documentation for how, and for the "No files
// found" error of a folder without objects). The result is stable across
// releases: new event fields may add columns, existing ones keep their
// names and types.
//
// The errors match ErrInvalidOption and name the option.
func Source(opts SourceOptions) (string, error) {
	s, err := newSource(opts.Bucket, opts.Root, opts.DateRange, opts.DOID, "Columns", opts.Columns)
	if err != nil {
		return "", err
	}
	return s.sql(), nil
}

// source is a checked SourceOptions.
type source struct {
	base    string
	bounds  *bounds
	doID    string
	columns []Column
}

// newSource checks the options that every builder shares.
func newSource(bucket, root string, dr *DateRange, doID, columnsOption string, extra []Column) (*source, error) {
	base, err := lakeBase(bucket, root)
	if err != nil {
		return nil, err
	}
	b, err := dr.check("DateRange")
	if err != nil {
		return nil, err
	}
	if err := optional("DOID", doID); err != nil {
		return nil, err
	}
	cols, err := mergeColumns(columnsOption, extra)
	if err != nil {
		return nil, err
	}
	return &source{base: base, bounds: b, doID: doID, columns: cols}, nil
}

// folders returns the four folder levels (yyyy, mm, dd, hh) of the narrowest
// glob holding every file of the range: the levels both ends share, then
// "*" for each remaining one, and how many are shared.
func (s *source) folders() ([]string, int) {
	segs := make([]string, 0, 4)
	if s.bounds != nil {
		a := strings.Split(lakeformat.HourKey(s.bounds.firstHour), "/")
		b := strings.Split(lakeformat.HourKey(s.bounds.lastHour), "/")
		for i := range a {
			if a[i] != b[i] {
				break
			}
			segs = append(segs, a[i])
		}
	}
	shared := len(segs)
	for len(segs) < 4 {
		segs = append(segs, "*")
	}
	return segs, shared
}

// globFolders returns the folder levels of folders() (the first n of them)
// as a glob that also matches the placeholder folders (see lakeformat): each
// character of a shared level becomes a class of it and the placeholder's
// ("2024" → "[20]0[20][40]"), so the glob always matches a file and
// DuckDB never fails with "No files found"; the file-name filter skips the
// placeholder when a range is set (an empty object adds no row anyway).
func (s *source) globFolders(n int) string {
	segs, shared := s.folders()
	ph := strings.Split(lakeformat.PlaceholderHour, "/")
	out := []string{lakeformat.GlobClass(strings.TrimSuffix(lakeformat.Root, "/"), strings.TrimSuffix(lakeformat.PlaceholderRoot, "/"))}
	for i := range n {
		if i >= shared {
			out = append(out, "*")
		} else {
			out = append(out, lakeformat.GlobClass(segs[i], ph[i]))
		}
	}
	return s.base + "/" + strings.Join(out, "/")
}

// glob returns the glob of the JSON Lines objects to read. Levels are
// explicit "*" (not "**") so only objects of the lake's key layout match.
func (s *source) glob() string {
	return s.globFolders(4) + "/*" + lakeformat.JSONL
}

// fileConds are the conditions on the "filename" column of a read of
// objects at level folder levels (4: hour folders, 3: day folders) that
// skip files outside the range and, with a DOID, files whose names prove
// they hold none of the store's events (lakeformat.NamePrefixes). DuckDB
// evaluates them on the file list and opens only the files that pass (it
// does so only for the column named "filename").
func (s *source) fileConds(level int) []string {
	var conds []string
	if s.bounds != nil {
		// The file's folder "yyyy/mm/dd/hh" (or "yyyy/mm/dd"): the last
		// characters of its folder, whatever the root and however DuckDB
		// spells it.
		first, last := lakeformat.HourKey(s.bounds.firstHour), lakeformat.HourKey(s.bounds.lastHour)
		n := lakeformat.HourKeyLen
		if level == 3 {
			n = len("2006/01/02")
			first, last = first[:n], last[:n]
		}
		conds = append(conds, "right(parse_dirpath(filename), "+strconv.Itoa(n)+") BETWEEN "+literal(first)+" AND "+literal(last))
	}
	if s.doID != "" && level == 4 {
		var names []string
		for _, p := range lakeformat.NamePrefixes(s.doID) {
			names = append(names, "starts_with(parse_filename(filename), "+literal(p)+")")
		}
		conds = append(conds, "("+strings.Join(names, " OR ")+")")
	}
	return conds
}

// sql renders the subquery with no further conditions.
func (s *source) sql() string { return s.sqlWhere(nil) }

// sqlWhere renders the subquery, keeping only the rows that pass conds
// (conditions over its columns, ts a UTC TIMESTAMP, that use only the
// columns compacted objects keep flat: parquetFlat).
//
// It reads the JSON Lines objects of hour folders and the Parquet objects
// of compacted hour and day folders (package internal/lakeparquet) and
// counts each event once (DESIGN rule 1): by its store and id (a sender
// chooses ids, so one store's event never hides another's), and an event without
// an id (upstream's) by the object and line it was first stored at — a
// compacted copy of such an event (its src and line columns) is dropped
// while the JSON Lines object it came from is still there. conds are
// applied before that, in each branch, so DuckDB can push them into the
// scans (the duplicates of one id are the same event and pass or fail
// alike).
func (s *source) sqlWhere(conds []string) string {
	var b strings.Builder
	// The members a compacted row keeps in its json column are read from
	// it after the de-duplication, and only when a query uses them.
	var rest []Column
	var cols []string
	for _, c := range s.columns {
		q := quoteIdent(c.Name)
		if _, ok := parquetFlat[c.Name]; ok {
			cols = append(cols, q)
		} else {
			rest = append(rest, c)
			cols = append(cols, `CASE WHEN "__events_json" IS NULL THEN `+q+` ELSE "__events_x".`+q+" END AS "+q)
		}
	}
	b.WriteString("(SELECT " + strings.Join(cols, ", ") + "\nFROM (SELECT *, from_json(\"__events_json\", " + structure(rest) + ") AS \"__events_x\" FROM (\n")
	b.WriteString(s.jsonlSQL(conds))
	for _, level := range []int{4, 3} {
		b.WriteString("\n  UNION ALL BY NAME\n")
		b.WriteString(s.parquetSQL(level, conds, false))
		b.WriteString("\n  UNION ALL BY NAME\n")
		b.WriteString(s.parquetSQL(level, conds, true))
	}
	// One window: an id's rows, or the rows of one object an event without
	// id was first stored in (its JSON Lines lines, "__events_line" NULL, sort
	// first; its compacted copies follow by line).
	b.WriteString(")\n  WINDOW w AS (PARTITION BY \"do\".id, coalesce(id, '~' || \"__events_src\") ORDER BY \"__events_line\" NULLS FIRST)\n" +
		"  QUALIFY CASE WHEN id IS NOT NULL THEN row_number() OVER w = 1\n" +
		"    WHEN \"__events_line\" IS NULL THEN TRUE\n" +
		"    ELSE first_value(\"__events_line\") OVER w IS NOT NULL AND \"__events_line\" IS DISTINCT FROM lag(\"__events_line\") OVER w END))")
	return b.String()
}

// where renders conds as a WHERE clause ("" for none).
func whereSQL(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return "\n  WHERE " + strings.Join(conds, "\n    AND ")
}

// srcExpr is an object's "yyyy/mm/dd/hh/name" from its path, as
// lakeparquet's src column holds it.
var srcExpr = "right(parse_dirpath(filename), " + strconv.Itoa(lakeformat.HourKeyLen) + ") || '/' || parse_filename(filename)"

// jsonlSQL reads the JSON Lines objects: one row per line, "__events_src" the
// object of an event without an id.
func (s *source) jsonlSQL(conds []string) string {
	inner := s.fileConds(4)
	if s.bounds != nil {
		inner = append(inner, s.bounds.tsCondition())
	}
	if s.doID != "" {
		inner = append(inner, `"do".id = `+literal(s.doID))
	}
	var b strings.Builder
	b.WriteString("  SELECT * FROM (SELECT * EXCLUDE (filename) REPLACE (timezone('UTC', ts) AS ts),\n")
	b.WriteString("    CASE WHEN id IS NULL THEN " + srcExpr + " END AS \"__events_src\", CAST(NULL AS BIGINT) AS \"__events_line\", CAST(NULL AS VARCHAR) AS \"__events_json\"\n")
	b.WriteString("  FROM read_json(")
	b.WriteString(literal(s.glob()))
	b.WriteString(", format='newline_delimited', union_by_name=true, ignore_errors=true, filename=true,\n    ")
	b.WriteString(columnsArg(s.columns))
	b.WriteString(")")
	b.WriteString(whereSQL(inner))
	b.WriteString(")")
	b.WriteString(whereSQL(conds))
	return b.String()
}

// parquetFlat are the event columns lakeparquet keeps in columns of their
// own, as the SQL that reads them from a normal (not odd) row.
var parquetFlat = map[string]string{
	"type":       "type",
	"ts":         "timezone('UTC', ts)",
	"do":         "{'id': do_id, 'name': do_name, 'class': do_class, 'colo': do_colo, 'worker': do_worker}",
	"id":         "id",
	"collection": "collection",
	"docId":      `"docId"`,
	"bookmark":   "bookmark",
	"method":     "method",
	"durationMs": `"durationMs"`,
	"success":    "success",
}

// structure renders cols as from_json's structure argument: a JSON object
// of member names and DuckDB types, which DuckDB fills as read_json fills
// the same columns.
func structure(cols []Column) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c.Name)
		v, _ := json.Marshal(c.Type)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return literal(b.String())
}

// parquetSQL reads the compacted objects of hour (level 4) or day (level 3)
// folders: their normal rows from the flat columns, the other members from
// the json column (from_json with the pinned types, as read_json reads
// them); or, with odd, the odd rows wholly from the json column.
func (s *source) parquetSQL(level int, conds []string, odd bool) string {
	glob := s.globFolders(level) + "/" + lakeformat.MultiPrefix + "*" + lakeformat.Parquet
	scan := "read_parquet(" + literal(glob) + ", union_by_name=true, filename=true)"
	inner := s.fileConds(level)
	if odd {
		inner = append(inner, "odd")
		var outer []string
		if s.bounds != nil {
			outer = append(outer, s.bounds.tsCondition())
		}
		if s.doID != "" {
			outer = append(outer, `"do".id = `+literal(s.doID))
		}
		return "  SELECT * FROM (SELECT * REPLACE (timezone('UTC', ts) AS ts) FROM (SELECT unnest(from_json(json, " + structure(s.columns) + ")),\n" +
			"    src AS \"__events_src\", line AS \"__events_line\", CAST(NULL AS VARCHAR) AS \"__events_json\"\n  FROM " + scan + whereSQL(inner) + ")" + whereSQL(outer) + ")" + whereSQL(conds)
	}
	inner = append(inner, "NOT odd")
	if s.bounds != nil {
		inner = append(inner, s.bounds.tsCondition())
	}
	if s.doID != "" {
		inner = append(inner, "do_id = "+literal(s.doID))
	}
	var sel []string
	for _, c := range s.columns {
		if e, ok := parquetFlat[c.Name]; ok {
			sel = append(sel, e+" AS "+quoteIdent(c.Name))
		} else {
			sel = append(sel, "CAST(NULL AS "+c.Type+") AS "+quoteIdent(c.Name))
		}
	}
	return "  SELECT * FROM (SELECT " + strings.Join(sel, ", ") + `, src AS "__events_src", line AS "__events_line", json AS "__events_json"` +
		"\n  FROM " + scan + whereSQL(inner) + ")" + whereSQL(conds)
}

// quoteIdent quotes a column name for SQL.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
