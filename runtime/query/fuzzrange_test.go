package query

import (
	"slices"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/lake"
)

// FuzzDateRange queries the fixture lake with arbitrary ranges (as epoch
// milliseconds plus a sub-millisecond part, in an arbitrary zone) and
// compares the rows with the events whose ts is in range, computed in Go.
// A range whose folder holds no object must be DuckDB's no-files error,
// predicted by HasFiles, and only then.
func FuzzDateRange(f *testing.F) {
	for _, s := range [][2]string{
		{"2024-01-01T00:00:00.000Z", "2024-01-31T00:00:00.000Z"},
		{"2024-12-31T23:59:59.999Z", "2025-01-01T00:00:00.000Z"},
		{"2024-01-15T14:59:59.999Z", "2024-01-15T15:00:00.000Z"},
		{"2024-01-31T00:00:00.001Z", "2024-02-29T12:00:00.000Z"},
		{"2023-12-31T23:59:59.999Z", "2023-12-31T23:59:59.999Z"},
		{"2023-06-01T00:00:00.000Z", "2023-06-30T00:00:00.000Z"},
		{"2025-01-01T05:00:00.000Z", "2025-01-01T06:00:00.000Z"},
		{"1970-01-01T00:00:00.000Z", "2030-01-01T00:00:00.000Z"},
	} {
		f.Add(at(s[0]).UnixMilli(), at(s[1]).UnixMilli(), int32(0), int32(0))
		f.Add(at(s[0]).UnixMilli(), at(s[1]).UnixMilli(), int32(999_999), int32(9*3600))
		f.Add(at(s[0]).UnixMilli(), at(s[1]).UnixMilli(), int32(1), int32(-8*3600))
	}
	root, _ := writeFixture(f)
	db := openDuckDB(f, "")
	fixture := fixtureEvents()
	f.Fuzz(func(t *testing.T, startMs, endMs int64, subMs int32, offset int32) {
		if subMs < 0 || subMs >= 1_000_000 || offset <= -24*3600 || offset >= 24*3600 {
			return
		}
		zone := time.FixedZone("Z", int(offset))
		start := time.UnixMilli(startMs).Add(time.Duration(subMs)).In(zone)
		end := time.UnixMilli(endMs).In(zone)
		dr := &DateRange{Start: start, End: end}
		q, err := Build(Options{Root: root, DateRange: dr, OrderBy: "ts"})
		if err != nil {
			if !isOption(err, "DateRange.Start") && !isOption(err, "DateRange.End") {
				t.Fatalf("%v", err)
			}
			valid := start.UTC().Year() >= 1970 && end.UTC().Year() <= 9999 && !end.Before(start)
			if valid {
				t.Fatalf("valid range %v..%v refused: %v", start, end, err)
			}
			return
		}
		var want []string
		for _, fe := range fixture {
			ts := fe.ev.EventTime()
			if !ts.Before(start) && !ts.After(end) {
				want = append(want, idOf(fe))
			}
		}
		rows, _, err := runQuery(db, q)
		has, herr := HasFiles(t.Context(), lake.Dir(root), dr)
		if herr != nil {
			t.Fatal(herr)
		}
		if err != nil {
			// DESIGN rule 3: a range without objects is empty, not an error.
			t.Fatalf("range %v..%v: %v (HasFiles %v, want %q)\n%s", start, end, err, has, want, q)
		}
		got := ids(rows)
		if !has && len(got) > 0 {
			t.Fatalf("range %v..%v has rows but HasFiles says no files", start, end)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("range %v..%v: ids %q, want %q\n%s", start, end, got, want, q)
		}
	})
}

// idOf returns a fixture event's id.
func idOf(fe fixtureEvent) string {
	switch e := fe.ev.(type) {
	case events.RPCCall:
		return e.ID
	case events.CollectionChange:
		return e.ID
	case events.Lifecycle:
		return e.ID
	case events.WebSocket:
		return e.ID
	case events.Custom:
		return e.ID
	}
	panic("unknown fixture event")
}
