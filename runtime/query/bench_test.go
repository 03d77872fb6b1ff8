package query

import (
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchEvents is the size of the bench lake: BENCH_LAKE_EVENTS, default 1M.
func benchEvents(b *testing.B) int {
	if v := os.Getenv("BENCH_LAKE_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 1_000_000
}

// drain runs q and reads every row, returning the row count.
func drain(b *testing.B, db *sql.DB, q string) int {
	rows, err := db.Query(q)
	if err != nil {
		b.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkQueries runs the builders over a lake of BENCH_LAKE_EVENTS events
// (default 1M) written by the emitter's lake writer: 10 stores, one object per store
// and hour for 30 days from 2024-12-17 (so across a year boundary). The lake
// is generated once into the temp dir and reused by later runs.
func BenchmarkQueries(b *testing.B) {
	root := benchLake(b, benchEvents(b))
	db := openDuckDB(b, "")
	day := &DateRange{Start: at("2025-01-05T00:00:00.000Z"), End: at("2025-01-05T23:59:59.999Z")}
	newYear := &DateRange{Start: at("2024-12-31T00:00:00.000Z"), End: at("2025-01-01T23:59:59.999Z")}
	must := func(q string, err error) string {
		if err != nil {
			b.Fatal(err)
		}
		return q
	}
	run := func(name, q string) {
		b.Run(name, func(b *testing.B) {
			rows := 0
			for b.Loop() {
				rows = drain(b, db, q)
			}
			b.ReportMetric(float64(rows), "rows")
		})
	}

	run("History/one-document", must(History(HistoryOptions{Root: root, Collection: "users", DocID: "doc-42"})))
	run("History/one-document-one-store", must(History(HistoryOptions{Root: root, DOID: "store-03", Collection: "users", DocID: "doc-42"})))
	run("Latency/all", must(Latency(LatencyOptions{Root: root})))
	run("Build/one-day", must(Build(Options{Root: root, DateRange: day})))
	run("Build/one-day-rpc-ChatRoom-limit-1000", must(Build(Options{Root: root, DateRange: day, EventTypes: []string{"rpc.call"}, DOClass: "ChatRoom", Limit: 1000})))
	run("PITRRange/one-store-1000-changes", must(PITRRange(PITROptions{Root: root, DOID: "store-03", StartBookmark: bm(10000), EndBookmark: bm(11000)})))

	// Folder selection against reading everything, same rows, same run.
	everything := func(dr *DateRange) string {
		src := must(Source(SourceOptions{Root: root}))
		bounds, err := dr.check("DateRange")
		if err != nil {
			b.Fatal(err)
		}
		return "SELECT * FROM " + src + " AS e WHERE " + strings.ReplaceAll(bounds.tsCondition(), "ts ", "timezone('UTC', ts) ") + " ORDER BY ts DESC"
	}
	// compare times queries a and b alternately in the same run (same rows)
	// and reports each one's mean and the ratio b/a.
	compare := func(name, aName, a, bName, bq string) {
		b.Run(name, func(b *testing.B) {
			var tA, tB time.Duration
			for b.Loop() {
				start := time.Now()
				n1 := drain(b, db, a)
				tA += time.Since(start)
				start = time.Now()
				n2 := drain(b, db, bq)
				tB += time.Since(start)
				if n1 != n2 {
					b.Fatalf("%s %d rows, %s %d", aName, n1, bName, n2)
				}
			}
			b.ReportMetric(float64(tA.Milliseconds())/float64(b.N), "ms-"+aName)
			b.ReportMetric(float64(tB.Milliseconds())/float64(b.N), "ms-"+bName)
			b.ReportMetric(float64(tB)/float64(tA), bName+"/"+aName)
		})
	}
	compare("DateRange/one-day", "selected", must(Build(Options{Root: root, DateRange: day})), "everything", everything(day))
	compare("DateRange/two-days-across-new-year", "selected", must(Build(Options{Root: root, DateRange: newYear})), "everything", everything(newYear))

	// What union_by_name costs with the schema pinned.
	for name, dr := range map[string]*DateRange{"one-day": day, "two-days-across-new-year": newYear} {
		q := must(Build(Options{Root: root, DateRange: dr}))
		compare("union_by_name/"+name, "without", strings.Replace(q, "union_by_name=true, ", "", 1), "with", q)
	}
}
