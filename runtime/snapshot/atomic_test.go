package snapshot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// TestRestoreIsAtomic cancels restores at growing delays: each one either
// fails and leaves the store exactly as it was, or completes.
func TestRestoreIsAtomic(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	c := coll(t, src, "c")
	batch := make([]cdc.Entry[json.RawMessage], 0, 20_000)
	for i := range cap(batch) {
		batch = append(batch, cdc.Entry[json.RawMessage]{ID: fmt.Sprintf("d%05d", i), Doc: json.RawMessage(fmt.Sprintf(`{"v":%d}`, i))})
	}
	if err := c.PutMany(ctx, batch); err != nil {
		t.Fatal(err)
	}
	b := lake.Dir(t.TempDir())
	res, err := snapshot.Create(ctx, src, "atomic", snapshot.Options{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	dst := openStore(t)
	put(t, coll(t, dst, "c"), "other", `{"x":1}`)
	before, bm := stateOf(t, dst), bookmark(t, dst)
	want := stateOf(t, src)
	failed := 0
	for delay := time.Millisecond; ; delay *= 2 {
		cctx, cancel := context.WithTimeout(ctx, delay)
		_, err := snapshot.Restore(cctx, dst, b, res.Key)
		cancel()
		got := stateOf(t, dst)
		if err != nil {
			failed++
			if d := diffStates(before, got); d != "" || bookmark(t, dst) != bm {
				t.Fatalf("failed restore after %v (%v) changed the store:\n%s", delay, err, d)
			}
			continue
		}
		if d := diffStates(want, got); d != "" {
			t.Fatalf("restore after %v:\n%s", delay, d)
		}
		t.Logf("%d cancelled restores left the store untouched; completed with a %v deadline", failed, delay)
		return
	}
}
