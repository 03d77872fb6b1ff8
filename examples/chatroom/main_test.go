package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// section returns the rows of the printed table whose title starts with
// title (the header line excluded), each split into its columns.
func section(t *testing.T, out, title string) [][]string {
	t.Helper()
	start := strings.Index(out, "== "+title)
	if start < 0 {
		t.Fatalf("no table %q in:\n%s", title, out)
	}
	lines := strings.Split(out[start:], "\n")
	var rows [][]string
	for _, l := range lines[2:] { // title, header
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "== ") || strings.HasPrefix(l, "…") {
			break
		}
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

// TestRun runs the example's whole flow twice on one folder and checks the
// contents of every printed table.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds DuckDB queries over a real lake")
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := run(context.Background(), config{Dir: dir, Users: 3, Messages: 8}, &buf); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	out := buf.String()
	t.Log(out)
	if !strings.Contains(out, "data: SQLite "+filepath.Join(dir, "chatroom.db")) {
		t.Errorf("the data folder is not printed")
	}
	// Point-in-time restore undid the purge of the 3 newest messages.
	if !strings.Contains(out, "messages 5 -> 8") {
		t.Errorf("restore line missing or wrong")
	}
	// Every event reached both sinks: 3 users + 8 messages + 3 purged +
	// 3 deactivated + 1 promotion + restore's 3 re-inserts and 3
	// re-activations = 24 changes, 11 custom events, 14 rpc.call events.
	if !strings.Contains(out, "emitter: 49 events to the ingest server, 49 to the lake, 0 pending") {
		t.Errorf("emitter line missing or wrong")
	}
	if !strings.Contains(out, "ingest server received 49 events") {
		t.Errorf("ingest line missing or wrong")
	}

	history := section(t, out, "history of user u000")
	wantOps := [][]string{{"insert", "user", "true"}, {"update", "admin", "true"}, {"update", "admin", "false"}, {"update", "admin", "true"}}
	if len(history) != len(wantOps) {
		t.Fatalf("history has %d rows: %q", len(history), history)
	}
	for i, row := range history {
		// ts op bookmark name(2 words) role active [prev role, prev active]
		if row[1] != wantOps[i][0] || row[5] != wantOps[i][1] || row[6] != wantOps[i][2] {
			t.Errorf("history row %d = %q, want op/role/active %q", i, row, wantOps[i])
		}
	}
	if history[1][7] != "user" {
		t.Errorf("promotion's previous role = %q, want user", history[1][7])
	}

	state := section(t, out, "the room as of the snapshot")
	if len(state) != 4 {
		t.Fatalf("state as of the snapshot has %d messages, want 4: %q", len(state), state)
	}
	for _, row := range state {
		if !strings.HasPrefix(row[2], "hello") {
			t.Errorf("a message sent after the snapshot is in the past state: %q", row)
		}
	}

	latency := section(t, out, "latency per method")
	counts := map[string][2]string{}
	for _, row := range latency {
		if row[0] != "ChatRoom" {
			t.Errorf("class = %q", row[0])
		}
		counts[row[1]] = [2]string{row[2], row[8]}
	}
	for method, want := range map[string][2]string{"createUser": {"3", "0"}, "sendMessage": {"8", "0"}, "updateUserRole": {"1", "0"}, "deleteMessage": {"1", "1"}, "purge": {"1", "0"}} {
		if counts[method] != want {
			t.Errorf("latency of %s: count/errors = %q, want %q", method, counts[method], want)
		}
	}

	pitr := section(t, out, "changes between the snapshot and the restore target")
	if len(pitr) != 4 {
		t.Fatalf("PITR range has %d rows, want 4: %q", len(pitr), pitr)
	}
	bookmark := regexp.MustCompile(`^\d{20}$`)
	for i, row := range pitr {
		if !bookmark.MatchString(row[0]) || row[1] != "collection.insert" || row[2] != "messages" {
			t.Errorf("PITR row %d = %q", i, row)
		}
		if i > 0 && row[0] <= pitr[i-1][0] {
			t.Errorf("PITR rows not in bookmark order")
		}
	}

	// A second run works on the existing data.
	buf.Reset()
	if err := run(context.Background(), config{Dir: dir, Users: 2, Messages: 4}, &buf); err != nil {
		t.Fatalf("second run: %v\n%s", err, buf.String())
	}
	out = buf.String()
	if !strings.Contains(out, "found 3 users from an earlier run") {
		t.Errorf("second run did not see the first run's users:\n%s", out)
	}
	if h := section(t, out, "history of user u003"); len(h) != 4 || h[0][1] != "insert" {
		t.Errorf("second run history = %q", h)
	}
}
