package query

import (
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

// glob returns the glob of the files to read. Levels are explicit "*" (not
// "**") so only objects of the lake's key layout match.
func (s *source) glob() (string, int) {
	segs, shared := s.folders()
	return s.base + "/" + lakeformat.Root + strings.Join(segs, "/") + "/*" + lakeformat.JSONL, shared
}

// sql renders the subquery.
func (s *source) sql() string {
	glob, shared := s.glob()
	var conds []string
	if s.bounds != nil && shared < 4 {
		// The file's hour folder "yyyy/mm/dd/hh": the last HourKeyLen characters of its
		// folder, whatever the root and however DuckDB spells it. DuckDB
		// evaluates this filter on the file list and opens only the files
		// that pass (it does so only for the column named "filename").
		conds = append(conds, "right(parse_dirpath(filename), "+strconv.Itoa(lakeformat.HourKeyLen)+") BETWEEN "+
			literal(lakeformat.HourKey(s.bounds.firstHour))+" AND "+literal(lakeformat.HourKey(s.bounds.lastHour)))
	}
	if s.doID != "" {
		// Skip only the files whose names prove they hold none of the
		// store's events (lakeformat.NamePrefixes); rows are filtered below.
		var names []string
		for _, p := range lakeformat.NamePrefixes(s.doID) {
			names = append(names, "starts_with(parse_filename(filename), "+literal(p)+")")
		}
		conds = append(conds, "("+strings.Join(names, " OR ")+")")
	}
	if s.bounds != nil {
		conds = append(conds, s.bounds.tsCondition())
	}
	if s.doID != "" {
		conds = append(conds, `"do".id = `+literal(s.doID))
	}
	var b strings.Builder
	b.WriteString("(SELECT * EXCLUDE (filename) REPLACE (timezone('UTC', ts) AS ts)\n  FROM read_json(")
	b.WriteString(literal(glob))
	b.WriteString(", format='newline_delimited', union_by_name=true, ignore_errors=true, filename=true,\n    ")
	b.WriteString(columnsArg(s.columns))
	b.WriteString(")")
	for i, c := range conds {
		if i == 0 {
			b.WriteString("\n  WHERE ")
		} else {
			b.WriteString("\n    AND ")
		}
		b.WriteString(c)
	}
	b.WriteString(")")
	return b.String()
}
