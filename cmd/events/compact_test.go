package main

import (
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompact: the command compacts the lake's past into Parquet, prints
// what it did, and every query returns the same rows afterwards; bad flags
// are usage errors that touch nothing.
func TestCompact(t *testing.T) {
	dir := queryLake(t)
	query := func() string {
		t.Helper()
		out, stderr, code := runBin(t, nil, "query", "-lake", dir, "-order", "ts ASC", "-format", "json")
		if code != 0 {
			t.Fatalf("query: %d %s", code, stderr)
		}
		return out
	}
	before := query()
	if strings.Count(before, `"id"`) < 7 {
		t.Fatalf("query before compaction:\n%s", before)
	}

	for _, bad := range [][]string{
		{"compact"},
		{"compact", "-lake", dir, "-before", "yesterday"},
		{"compact", "-lake", dir, "-age", "-1h"},
		{"compact", "-lake", dir, "extra"},
	} {
		if _, _, code := runBin(t, nil, bad...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", bad, code, exitUsage)
		}
	}
	if n := countFiles(t, dir, ".parquet"); n != 0 {
		t.Fatalf("%d Parquet objects after refused calls", n)
	}

	out, stderr, code := runBin(t, nil, "compact", "-lake", dir, "-before", "2026-11-29T00:00:00Z")
	if code != 0 {
		t.Fatalf("compact: %d %s", code, stderr)
	}
	var res struct {
		Partitions, ObjectsIn, ObjectsOut int
		Events                            int64
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Partitions == 0 || res.ObjectsOut == 0 || res.Events != 7 {
		t.Fatalf("compact printed %q (%v), want 7 events in Parquet", out, err)
	}
	if n := countFiles(t, dir, ".jsonl"); n != 0 {
		t.Errorf("%d JSON Lines objects left under events/", n)
	}
	if after := query(); after != before {
		t.Fatalf("rows changed by compaction:\nbefore %s\nafter  %s", before, after)
	}
	// Again: nothing left to do.
	out, _, code = runBin(t, nil, "compact", "-lake", dir, "-before", "2026-11-29T00:00:00Z")
	if code != 0 || !strings.Contains(out, `"objectsIn":0`) {
		t.Fatalf("second compact: %d %s", code, out)
	}
}

// countFiles counts the files under dir/events with the suffix.
func countFiles(t *testing.T, dir, suffix string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, "events"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, suffix) {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
