package lakeformat_test

import (
	"testing"
	"time"

	"github.com/dotdo/events/internal/lakeformat"
)

func TestIngestKey(t *testing.T) {
	ts := time.Date(2024, 1, 15, 14, 30, 0, 0, time.FixedZone("x", 3600))
	k := lakeformat.IngestKey(ts, 1705325400000, 7, "9f86d081884c7d65")
	if want := "events/2024/01/15/13/_i-1705325400000_00000000000000000007_9f86d081884c7d65.jsonl"; k != want {
		t.Fatalf("IngestKey = %s, want %s", k, want)
	}
	hour, name, day, ok := lakeformat.Parse(k)
	if !ok || day || !hour.Equal(time.Date(2024, 1, 15, 13, 0, 0, 0, time.UTC)) || name[:3] != "_i-" {
		t.Errorf("Parse(%s) = %v %q %v %v", k, hour, name, day, ok)
	}
	if !lakeformat.MayHold(name, "any-store") {
		t.Errorf("an ingest object may hold any store's events")
	}
}
