package query

import (
	"database/sql"
	"slices"
	"testing"
	"time"
)

// queryCase is a query over the fixture lake and the ids of the rows it
// must return, in order.
type queryCase struct {
	name  string
	build func(root string, dr func(start, end string) *DateRange) (string, error)
	want  []string
}

// rangeIn returns a DateRange maker whose values are in loc: the rows must
// not depend on it.
func rangeIn(loc *time.Location) func(start, end string) *DateRange {
	return func(start, end string) *DateRange {
		return &DateRange{Start: at(start).In(loc), End: at(end).In(loc)}
	}
}

// cases are the row-returning queries (Build, History, PITRRange) over the
// fixture, with their exact results.
var cases = []queryCase{
	{"README Build", func(root string, dr func(string, string) *DateRange) (string, error) {
		// buildQuery({bucket, dateRange: {start: new Date('2024-01-01'), end: new Date('2024-01-31')},
		//   eventTypes: ['rpc.call'], doClass: 'ChatRoom', limit: 1000})
		return Build(Options{Root: root, DateRange: dr("2024-01-01T00:00:00.000Z", "2024-01-31T00:00:00.000Z"),
			EventTypes: []string{"rpc.call"}, DOClass: "ChatRoom", Limit: 1000})
	}, []string{"e04", "e03", "e02", "e01", "e09"}},
	{"README History", func(root string, dr func(string, string) *DateRange) (string, error) {
		// buildHistoryQuery({bucket, collection: 'users', docId: 'user-123'})
		return History(HistoryOptions{Root: root, Collection: "users", DocID: "user-123"})
	}, []string{"e11", "e12", "e13", "e14", "e18", "e16"}},
	{"README PITR", func(root string, dr func(string, string) *DateRange) (string, error) {
		// buildPITRRangeQuery({bucket, startBookmark, endBookmark, collection: 'users'}), for one store
		return PITRRange(PITROptions{Root: root, DOID: "users-1", StartBookmark: bm(2), EndBookmark: bm(5), Collection: "users"})
	}, []string{"e13", "e14", "e15"}},

	{"Build everything, ts DESC with ties broken by store id", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root})
	}, []string{"e25", "e23", "e24", "e22", "e21", "e19", "e20", "e17", "e16", "e15", "e18", "e13", "e14", "e12",
		"e11", "e10", "e05", "e04", "e06", "e03", "e02", "e07", "e01", "e09", "e08"}},
	{"Build across the year boundary", func(root string, dr func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DateRange: dr("2024-12-31T23:00:00.000Z", "2025-01-01T00:59:59.999Z")})
	}, []string{"e15", "e18", "e13", "e14", "e12"}},
	{"Build across a month boundary, both ends included", func(root string, dr func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DateRange: dr("2024-01-31T00:00:00.001Z", "2024-02-01T00:00:00.000Z")})
	}, []string{"e10", "e05"}},
	{"Build across an hour boundary", func(root string, dr func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DateRange: dr("2024-01-15T14:59:59.999Z", "2024-01-15T15:00:00.000Z")})
	}, []string{"e03", "e02"}},
	{"Build one hour (the glob is the hour folder)", func(root string, dr func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DateRange: dr("2024-01-15T14:00:00.000Z", "2024-01-15T14:59:59.999Z")})
	}, []string{"e02", "e07", "e01"}},
	{"Build two days across a month", func(root string, dr func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DateRange: dr("2024-01-31T00:00:00.000Z", "2024-02-01T23:59:59.999Z")})
	}, []string{"e10", "e05", "e04"}},
	{"Build a range whose folder has files, none in range", func(root string, dr func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DateRange: dr("2025-01-01T05:00:00.000Z", "2025-01-01T06:00:00.000Z")})
	}, []string{}},
	{"Build DOID ts ASC", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DOID: "users-1", OrderBy: "ts ASC"})
	}, []string{"e06", "e11", "e12", "e13", "e14", "e15", "e16", "e17", "e24"}},
	{"Build DOID needing escapes", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DOID: "odd_id/ü'"})
	}, []string{"e22", "e21"}},
	{"Build DOID that looks like a date, by type", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DOID: "2025-01-01", OrderBy: "type"})
	}, []string{"e19", "e20"}},
	{"Build Colo", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, Colo: "SJC"})
	}, []string{"e23", "e10", "e04", "e03"}},
	{"Build EventTypes", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, EventTypes: []string{"ws.connect", "do.create"}})
	}, []string{"e23", "e20"}},
	{"Build Collection and DocID", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, Collection: "users", DocID: "user-123"})
	}, []string{"e16", "e18", "e13", "e14", "e12", "e11"}},
	{"Build Method", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, Method: "join"})
	}, []string{"e05", "e04"}},
	{"Build date-like DocID", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DocID: "2025-01-01"})
	}, []string{"e19"}},
	{"Build OrderBy do_id DESC, Limit", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, OrderBy: "do_id DESC", Limit: 3})
	}, []string{"e06", "e11", "e12"}},
	{"Build OrderBy durationMs", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, OrderBy: "durationMs", Limit: 3})
	}, []string{"e10", "e06", "e04"}},
	{"Build OrderBy bookmark desc (NULLs last)", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, OrderBy: "bookmark desc", Limit: 2})
	}, []string{"e17", "e16"}},
	{"Build OrderBy colo", func(root string, _ func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, OrderBy: "colo", Limit: 2})
	}, []string{"e08", "e09"}},
	{"Build ChatRoom in a day range", func(root string, dr func(string, string) *DateRange) (string, error) {
		return Build(Options{Root: root, DOClass: "ChatRoom", DateRange: dr("2025-01-02T00:00:00.000Z", "2025-01-02T23:59:59.999Z")})
	}, []string{"e25", "e23"}},

	{"History of one store", func(root string, _ func(string, string) *DateRange) (string, error) {
		return History(HistoryOptions{Root: root, DOID: "users-1", Collection: "users", DocID: "user-123"})
	}, []string{"e11", "e12", "e13", "e14", "e16"}},
	{"History across the year boundary", func(root string, dr func(string, string) *DateRange) (string, error) {
		return History(HistoryOptions{Root: root, Collection: "users", DocID: "user-123",
			DateRange: dr("2024-12-31T23:59:59.999Z", "2025-01-01T00:00:00.000Z")})
	}, []string{"e12", "e13", "e14"}},
	{"History of a date-like id", func(root string, _ func(string, string) *DateRange) (string, error) {
		return History(HistoryOptions{Root: root, Collection: "users", DocID: "2025-01-01"})
	}, []string{"e19"}},
	{"History of an unknown document", func(root string, _ func(string, string) *DateRange) (string, error) {
		return History(HistoryOptions{Root: root, Collection: "users", DocID: "nobody"})
	}, []string{}},

	{"PITR from the start", func(root string, _ func(string, string) *DateRange) (string, error) {
		return PITRRange(PITROptions{Root: root, DOID: "users-1", EndBookmark: bm(3)})
	}, []string{"e11", "e12", "e13"}},
	{"PITR every collection", func(root string, _ func(string, string) *DateRange) (string, error) {
		return PITRRange(PITROptions{Root: root, DOID: "users-1", StartBookmark: bm(4), EndBookmark: bm(99)})
	}, []string{"e15", "e16", "e17"}},
	{"PITR of another store with the same bookmarks", func(root string, _ func(string, string) *DateRange) (string, error) {
		return PITRRange(PITROptions{Root: root, DOID: "room-1", EndBookmark: bm(2)})
	}, []string{"e07", "e18"}},
	{"PITR with a date range", func(root string, dr func(string, string) *DateRange) (string, error) {
		return PITRRange(PITROptions{Root: root, DOID: "users-1", EndBookmark: bm(99),
			DateRange: dr("2025-01-01T00:00:00.000Z", "2025-01-01T00:59:59.999Z")})
	}, []string{"e13", "e14", "e15"}},
	{"PITR empty range", func(root string, _ func(string, string) *DateRange) (string, error) {
		return PITRRange(PITROptions{Root: root, DOID: "users-1", StartBookmark: bm(3), EndBookmark: bm(3)})
	}, []string{}},
}

// runCases runs every case with DateRange values in loc on db and checks the
// rows: their ids in order, and every column against the written event.
func runCases(t *testing.T, db *sql.DB, root string, wire map[string]map[string]any, loc *time.Location) {
	t.Helper()
	for _, c := range cases {
		q, err := c.build(root, rangeIn(loc))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		rows := mustQuery(t, db, q)
		if got := ids(rows); !slices.Equal(got, c.want) {
			t.Errorf("%s: ids = %q\nwant        %q\n%s", c.name, got, c.want, q)
		}
		checkWire(t, rows, wire)
	}
}

func TestQueriesOnRuntimeLake(t *testing.T) {
	zone, loc := childZone(t)
	root, wire := writeFixture(t)
	runCases(t, openDuckDB(t, zone), root, wire, loc)
}
