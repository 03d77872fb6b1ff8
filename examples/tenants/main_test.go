package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestRun serves 12 tenants with at most 4 stores open and checks that
// every event reached both sinks; a second run on the same folder goes on.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	for round := range 2 {
		var buf bytes.Buffer
		if err := run(context.Background(), config{Dir: dir, Tenants: 12, Requests: 60, MaxOpen: 4}, &buf); err != nil {
			t.Fatalf("run %d: %v\n%s", round, err, buf.String())
		}
		out := buf.String()
		t.Log(out)
		// 60 requests: 36 puts, 12 gets (note.viewed when found), 12 deletes.
		for _, want := range []string{"tenants with a store: 12", "invalid tenant refused", "pending", "evictions"} {
			if !strings.Contains(out, want) {
				t.Errorf("run %d: output lacks %q", round, want)
			}
		}
		if !strings.Contains(out, "0 pending") || strings.Contains(out, " 0 events delivered") {
			t.Errorf("run %d: not everything delivered", round)
		}
		var http, lake int
		for _, l := range strings.Split(out, "\n") {
			var n int
			if _, err := fmtSscanf(l, "sink http: %d events", &n); err == nil {
				http = n
			}
			if _, err := fmtSscanf(l, "sink lake: %d events", &n); err == nil {
				lake = n
			}
		}
		if http == 0 || http != lake {
			t.Errorf("run %d: http %d events, lake %d", round, http, lake)
		}
		if !strings.Contains(out, "ingest server received "+itoa(http)+" events") {
			t.Errorf("run %d: the ingest did not receive the %d events", round, http)
		}
	}
}

func fmtSscanf(s, format string, a ...any) (int, error) { return fmt.Sscanf(s, format, a...) }

func itoa(n int) string { return strconv.Itoa(n) }
