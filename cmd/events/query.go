package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/query"
)

const queryUsage = `Usage: events query [events|history|latency|pitr] -lake DIR [flags]

Runs one of the query builders of package runtime/query on DuckDB over a
local lake folder and prints the rows as an aligned table, CSV or JSON:

  events   (default) the events matching the filters (query.Build)
  history  every change of one document: -collection and -doc required (query.History)
  latency  rpc.call latency percentiles per method (query.Latency)
  pitr     a store's changes between two bookmarks: -store and -end-bookmark
           required (query.PITRRange)

Times (-from, -to) are RFC 3339 or YYYY-MM-DD, in UTC. With -sql the SQL is
printed instead of run. DuckDB here cannot read S3 or R2 (no httpfs): with
-lake s3://BUCKET or r2://BUCKET the command prints the SQL and how to run it
in a DuckDB that has httpfs.
`

func cmdQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	kind := "events"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		kind, args = args[0], args[1:]
	}
	fs := newFlags("query", queryUsage, stderr)
	lakeSpec := fs.String("lake", "", "the lake folder (or s3://BUCKET, r2://BUCKET to print the SQL)")
	from := fs.String("from", "", "earliest event time included (RFC 3339 or YYYY-MM-DD)")
	to := fs.String("to", "", "latest event time included (RFC 3339 or YYYY-MM-DD: the whole day)")
	store := fs.String("store", "", "keep the events of one store (do.id)")
	class := fs.String("class", "", "keep the events of one class of store (do.class)")
	colo := fs.String("colo", "", "keep the events of one colo (do.colo)")
	types := fs.String("type", "", "keep the events of these types (comma-separated)")
	collection := fs.String("collection", "", "keep the changes of one collection")
	doc := fs.String("doc", "", "keep the changes of one document id")
	method := fs.String("method", "", "keep the rpc.call events of one method")
	limit := fs.Int("limit", 0, "most rows (0: all)")
	order := fs.String("order", "", `order: "COLUMN" or "COLUMN ASC|DESC" (default "ts DESC")`)
	startBM := fs.String("start-bookmark", "", "pitr: exclude this bookmark and every earlier change")
	endBM := fs.String("end-bookmark", "", "pitr: the last change included")
	var columns []query.Column
	fs.Func("column", "events: a custom field to return too, as NAME or NAME:TYPE (a DuckDB type; default VARCHAR); repeatable", func(v string) error {
		name, typ, ok := strings.Cut(v, ":")
		if !ok {
			typ = "VARCHAR"
		}
		if name == "" {
			return fmt.Errorf("%q: no name", v)
		}
		columns = append(columns, query.Column{Name: name, Type: typ})
		return nil
	})
	format := fs.String("format", "table", "output: table, csv or json")
	printSQL := fs.Bool("sql", false, "print the SQL instead of running it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q (the kind of query comes first)", fs.Arg(0))
	}
	if *format != "table" && *format != "csv" && *format != "json" {
		return usageErr("-format %q: use table, csv or json", *format)
	}
	if *lakeSpec == "" {
		return usageErr("-lake is required")
	}
	dr, err := dateRange(*from, *to)
	if err != nil {
		return err
	}
	root := *lakeSpec
	if strings.HasPrefix(root, "r2://") {
		root = "s3://" + strings.TrimPrefix(root, "r2://")
	}
	var q string
	switch kind {
	case "events":
		var typs []string
		if *types != "" {
			typs = strings.Split(*types, ",")
		}
		q, err = query.Build(query.Options{Root: root, DateRange: dr, DOID: *store, DOClass: *class, Colo: *colo,
			EventTypes: typs, Collection: *collection, DocID: *doc, Method: *method, Limit: *limit, OrderBy: *order, Columns: columns})
	case "history":
		q, err = query.History(query.HistoryOptions{Root: root, DateRange: dr, DOID: *store, Collection: *collection, DocID: *doc})
	case "latency":
		q, err = query.Latency(query.LatencyOptions{Root: root, DateRange: dr, DOID: *store, DOClass: *class, Colo: *colo, Method: *method})
	case "pitr":
		q, err = query.PITRRange(query.PITROptions{Root: root, DOID: *store, StartBookmark: *startBM, EndBookmark: *endBM, Collection: *collection, DateRange: dr})
	default:
		return usageErr("unknown query %q: use events, history, latency or pitr", kind)
	}
	if err != nil {
		return usageErr("%v", err)
	}
	if *printSQL {
		_, err := fmt.Fprintln(stdout, q)
		return err
	}
	if isRemote(*lakeSpec) {
		fmt.Fprintln(stdout, q)
		fmt.Fprintf(stderr, `events query: this build's DuckDB reads local folders only. To query %s, run the SQL
above in a DuckDB with network access:
  INSTALL httpfs; LOAD httpfs;
  CREATE SECRET (TYPE s3, KEY_ID '...', SECRET '...', REGION '...'%s);
or copy the lake's hour folders to a local folder and pass -lake FOLDER.
`, *lakeSpec, map[bool]string{true: ", ENDPOINT '<account>.r2.cloudflarestorage.com', URL_STYLE 'path'", false: ""}[strings.HasPrefix(*lakeSpec, "r2://")])
		return nil
	}
	stop := startProgress(stderr, "query")
	cols, data, err := runQuery(ctx, q)
	stop()
	if err != nil {
		return err
	}
	return printRows(stdout, *format, cols, data)
}

// dateRange parses -from and -to; nil when both are empty.
func dateRange(from, to string) (*query.DateRange, error) {
	if from == "" && to == "" {
		return nil, nil
	}
	dr := &query.DateRange{Start: time.Unix(0, 0).UTC(), End: time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)}
	if from != "" {
		t, _, err := parseWhen(from)
		if err != nil {
			return nil, usageErr("-from: %v", err)
		}
		dr.Start = t
	}
	if to != "" {
		t, day, err := parseWhen(to)
		if err != nil {
			return nil, usageErr("-to: %v", err)
		}
		if day {
			t = t.Add(24*time.Hour - time.Millisecond)
		}
		dr.End = t
	}
	return dr, nil
}

// parseWhen parses an RFC 3339 time or a date (day reports which).
func parseWhen(s string) (t time.Time, day bool, err error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true, nil
	}
	t, err = time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	return t.UTC(), false, nil
}

// runQuery runs q on an in-memory DuckDB and returns the rows; a query
// over folders without objects has none.
func runQuery(ctx context.Context, q string) ([]string, [][]any, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "SET TimeZone = 'UTC'"); err != nil {
		return nil, nil, fmt.Errorf("duckdb: %w", err)
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		if query.IsNoFiles(err) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("duckdb: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	var data [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		data = append(data, vals)
	}
	if err := rows.Err(); err != nil {
		if query.IsNoFiles(err) {
			return cols, nil, nil
		}
		return nil, nil, fmt.Errorf("duckdb: %w", err)
	}
	return cols, data, nil
}

// printRows writes rows in format.
func printRows(out io.Writer, format string, cols []string, data [][]any) error {
	switch format {
	case "json":
		var b bytes.Buffer
		b.WriteString("[")
		for i, row := range data {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n  {")
			for j, c := range cols {
				if j > 0 {
					b.WriteString(",")
				}
				k, _ := json.Marshal(c)
				v, err := json.Marshal(jsonValue(row[j]))
				if err != nil {
					v, _ = json.Marshal(fmt.Sprint(row[j]))
				}
				b.Write(k)
				b.WriteString(":")
				b.Write(v)
			}
			b.WriteString("}")
		}
		if len(data) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("]\n")
		_, err := out.Write(b.Bytes())
		return err
	case "csv":
		w := csv.NewWriter(out)
		if cols != nil {
			if err := w.Write(cols); err != nil {
				return err
			}
		}
		for _, row := range data {
			rec := make([]string, len(row))
			for i, v := range row {
				rec[i] = text(v)
			}
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	default:
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		if cols != nil {
			fmt.Fprintln(tw, strings.Join(cols, "\t"))
		}
		for _, row := range data {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = clipCell(strings.NewReplacer("\t", " ", "\n", " ").Replace(text(v)))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err := fmt.Fprintf(out, "(%d rows)\n", len(data))
		return err
	}
}

// jsonValue turns a DuckDB value into one that encodes well as JSON.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return wire.FormatTime(x)
	case []byte:
		return string(x)
	case *big.Int:
		return json.Number(x.String())
	case string:
		if json.Valid([]byte(x)) && len(x) > 0 && (x[0] == '{' || x[0] == '[') {
			return json.RawMessage(x)
		}
		return x
	}
	return v
}

// text renders a DuckDB value for a table cell or CSV field.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return wire.FormatTime(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case *big.Int:
		return x.String()
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// clipCell shortens a table cell to 80 characters.
func clipCell(s string) string {
	const max = 80
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
