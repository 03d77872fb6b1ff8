package query

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// testZones are the zones every query must be indifferent to: behind and
// ahead of UTC, so a day's range in local time straddles two UTC dates.
var testZones = []string{"America/Los_Angeles", "Asia/Tokyo"}

// childZoneEnv, set by TestTimeZonesProcess in a re-executed test binary,
// names the zone of the child's TZ, DuckDB session and DateRange values.
const childZoneEnv = "QUERY_TEST_ZONE"

// childZone returns the session zone and the location for DateRange values:
// none and UTC normally, the re-executing parent's zone in a child.
func childZone(t *testing.T) (string, *time.Location) {
	zone := os.Getenv(childZoneEnv)
	if zone == "" {
		return "", time.UTC
	}
	// The child's TZ must really be in force.
	if name, offset := time.Now().Zone(); offset == 0 {
		t.Fatalf("child started with TZ=%s but time.Local is %s (%s, UTC+0)", os.Getenv("TZ"), time.Local, name)
	}
	return zone, time.Local
}

// TestTimeZonesInProcess runs every query with time.Local, the DateRange
// values and the DuckDB session in each zone: the rows equal UTC's.
func TestTimeZonesInProcess(t *testing.T) {
	root, wire := writeFixture(t)
	saved := time.Local
	t.Cleanup(func() { time.Local = saved })
	for _, zone := range testZones {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			time.Local = loc
			db := openDuckDB(t, zone)
			runCases(t, db, root, wire, loc)
			runLatencyCases(t, db, root, loc)
		})
	}
}

// TestTimeZonesProcess re-runs the query tests in a child process started
// with TZ set to each zone (so the zone is in force from process start, as
// in production), the DuckDB session and DateRange values in it too.
func TestTimeZonesProcess(t *testing.T) {
	if os.Getenv(childZoneEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("short")
	}
	for _, zone := range testZones {
		t.Run(zone, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^(TestQueriesOnRuntimeLake|TestLatencyOnRuntimeLake)$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "TZ="+zone, childZoneEnv+"="+zone)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child with TZ=%s: %v\n%s", zone, err, out)
			}
			if n := strings.Count(string(out), "--- PASS"); n != 2 {
				t.Fatalf("child with TZ=%s ran %d tests, want 2:\n%s", zone, n, out)
			}
		})
	}
}
