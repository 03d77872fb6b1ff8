package query

import (
	"database/sql"
	"fmt"
	"math"
	"testing"
	"time"
)

// latencyRow is one row of a Latency query.
type latencyRow struct {
	class, method           any
	calls                   int64
	avg, p50, p95, p99, max float64
	errors                  int64
}

// latencyCases are Latency queries over the fixture with their exact rows.
// Percentiles interpolate: p = x[k] + f*(x[k+1]-x[k]) at position q*(n-1).
var latencyCases = []struct {
	name string
	opts func(root string, dr func(string, string) *DateRange) LatencyOptions
	want []latencyRow
}{
	{"README: ChatRoom sendMessage", func(root string, _ func(string, string) *DateRange) LatencyOptions {
		// buildLatencyQuery({bucket, doClass: 'ChatRoom', method: 'sendMessage'})
		return LatencyOptions{Root: root, DOClass: "ChatRoom", Method: "sendMessage"}
	}, []latencyRow{
		// 10, 20, 30(failed), 40, 60, 100: the failed call counts everywhere.
		{"ChatRoom", "sendMessage", 6, 260.0 / 6, 35, 90, 98, 100, 1},
	}},
	{"all calls", func(root string, _ func(string, string) *DateRange) LatencyOptions {
		return LatencyOptions{Root: root}
	}, []latencyRow{
		{"ChatRoom", "sendMessage", 6, 260.0 / 6, 35, 90, 98, 100, 1},
		{"ChatRoom", "join", 2, 6, 6, 6.9, 6.98, 7, 0},
		{"UserService", "getUser", 2, 6, 6, 8.7, 8.94, 9, 0},
		{"ChatRoom", "leave", 1, 1, 1, 1, 1, 1, 0},
		{"Odd's", "sendMessage", 1, 50, 50, 50, 50, 50, 1},
	}},
	{"2025 only", func(root string, dr func(string, string) *DateRange) LatencyOptions {
		return LatencyOptions{Root: root, DateRange: dr("2025-01-01T00:00:00.000Z", "2025-12-31T23:59:59.999Z")}
	}, []latencyRow{
		{"ChatRoom", "sendMessage", 1, 60, 60, 60, 60, 60, 0},
		{"Odd's", "sendMessage", 1, 50, 50, 50, 50, 50, 1},
		{"UserService", "getUser", 1, 9, 9, 9, 9, 9, 0},
	}},
	{"one store, one colo", func(root string, _ func(string, string) *DateRange) LatencyOptions {
		return LatencyOptions{Root: root, DOID: "room-2", Colo: "SJC"}
	}, []latencyRow{
		{"ChatRoom", "join", 1, 5, 5, 5, 5, 5, 0},
		{"ChatRoom", "leave", 1, 1, 1, 1, 1, 1, 0},
		{"ChatRoom", "sendMessage", 1, 20, 20, 20, 20, 20, 0},
	}},
	{"a colo with no calls", func(root string, _ func(string, string) *DateRange) LatencyOptions {
		return LatencyOptions{Root: root, Colo: "LHR"}
	}, nil},
}

// latencyColumns are Latency's columns, in order.
var latencyColumns = []string{"class", "method", "call_count", "avg_duration_ms", "p50_ms", "p95_ms", "p99_ms", "max_duration_ms", "error_count"}

// runLatencyCases runs every Latency case and compares rows exactly (floats
// to 1e-9).
func runLatencyCases(t *testing.T, db *sql.DB, root string, loc *time.Location) {
	t.Helper()
	for _, c := range latencyCases {
		q, err := Latency(c.opts(root, rangeIn(loc)))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		rows, cols, err := runQuery(db, q)
		if err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, q)
			continue
		}
		if fmt.Sprint(cols) != fmt.Sprint(latencyColumns) {
			t.Errorf("%s: columns %q, want %q", c.name, cols, latencyColumns)
		}
		if len(rows) != len(c.want) {
			t.Errorf("%s: %d rows, want %d: %v", c.name, len(rows), len(c.want), rows)
			continue
		}
		for i, r := range rows {
			w := c.want[i]
			calls, ok1 := r["call_count"].(int64)
			errs, ok2 := r["error_count"].(int64)
			if !ok1 || !ok2 {
				t.Errorf("%s row %d: counts are %T and %T, want int64 (BIGINT)", c.name, i, r["call_count"], r["error_count"])
			}
			if r["class"] != w.class || r["method"] != w.method || calls != w.calls || errs != w.errors {
				t.Errorf("%s row %d: %v, want %+v", c.name, i, r, w)
			}
			for name, want := range map[string]float64{"avg_duration_ms": w.avg, "p50_ms": w.p50, "p95_ms": w.p95, "p99_ms": w.p99, "max_duration_ms": w.max} {
				got, ok := r[name].(float64)
				if !ok || math.Abs(got-want) > 1e-9 {
					t.Errorf("%s row %d: %s = %v, want %v", c.name, i, name, r[name], want)
				}
			}
		}
	}
}

func TestLatencyOnRuntimeLake(t *testing.T) {
	zone, loc := childZone(t)
	root, _ := writeFixture(t)
	runLatencyCases(t, openDuckDB(t, zone), root, loc)
}
