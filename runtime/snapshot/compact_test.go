package snapshot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// TestRestoreToCompacted: RestoreTo reaches the same state from a lake of
// JSON Lines, from the same lake compacted to Parquet, and from one where
// the JSON Lines came back beside the Parquet (a crash before the inputs
// were removed, or a retried batch): each change counted once.
func TestRestoreToCompacted(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		s := openStore(t)
		users := coll(t, s, "users")
		var marks []cdc.Bookmark
		for i := range 60 {
			put(t, users, fmt.Sprintf("u%d", i%7), fmt.Sprintf(`{"n":%d}`, i))
			if i%10 == 9 {
				marks = append(marks, bookmark(t, s))
			}
		}
		if _, err := users.Delete(ctx, "u3"); err != nil {
			t.Fatal(err)
		}
		marks = append(marks, bookmark(t, s))
		const id = "compacted-1"
		ship(t, s, b, id, "", 8)

		restore := func() []state {
			var out []state
			for _, m := range marks {
				st := openStore(t)
				if _, err := snapshot.RestoreTo(ctx, st, b, id, snapshot.Target{Bookmark: m}); err != nil {
					t.Fatalf("RestoreTo %s: %v", m, err)
				}
				out = append(out, nonEmpty(stateOf(t, st)))
			}
			return out
		}
		want := restore()
		if d := diffStates(nonEmpty(stateOf(t, s)), want[len(want)-1]); d != "" {
			t.Fatalf("restore of the last change differs from the store:\n%s", d)
		}
		res, err := lake.Compact(ctx, b, lake.CompactOptions{Before: time.Now().Add(48 * time.Hour)})
		if err != nil || res.ObjectsOut == 0 || res.Events != 61 {
			t.Fatalf("Compact: %+v, %v", res, err)
		}
		for step, got := range [][]state{restore(), func() []state {
			ship(t, s, b, id, "", 5) // the same changes again, as JSON Lines
			return restore()
		}()} {
			for i := range want {
				if d := diffStates(want[i], got[i]); d != "" {
					t.Errorf("step %d, restore to %s:\n%s", step, marks[i], d)
				}
			}
		}
	})
}
