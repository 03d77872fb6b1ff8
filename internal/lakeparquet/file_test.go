package lakeparquet

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDedupeSortsAndDrops: Dedupe keeps the first row of each key (store
// and id, or src and line), rows without a key all, and returns them in
// Compare order, as sorting copies of the rows would.
func TestDedupeSortsAndDrops(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var rows []Row
	for i := range 5000 {
		store := fmt.Sprintf("s%d", r.IntN(20))
		row := Row{DOID: &store, TS: int64(r.IntN(50)), Type: "t", JSON: fmt.Sprintf(`{"n":%d}`, i)}
		switch r.IntN(4) {
		case 0: // an upstream event without id
			src, line := fmt.Sprintf("2025/01/01/00/o%d", r.IntN(5)), int64(r.IntN(30))
			row.Src, row.Line = &src, &line
		case 1: // no store
			row.DOID = nil
			fallthrough
		default:
			id := fmt.Sprintf("e%d", r.IntN(3000))
			row.ID = &id
		}
		rows = append(rows, row)
	}
	// The expected result: first of each key, then sorted by copying rows.
	seen := map[string]bool{}
	var want []Row
	for _, row := range rows {
		k := row.Key()
		if seen[k] {
			continue
		}
		seen[k] = true
		want = append(want, row)
	}
	slices.SortStableFunc(want, func(a, b Row) int { return Compare(&a, &b) })
	got := Dedupe(slices.Clone(rows))
	if len(got) != len(want) || len(got) == len(rows) {
		t.Fatalf("Dedupe kept %d of %d rows, want %d", len(got), len(rows), len(want))
	}
	for i := range got {
		if Compare(&got[i], &want[i]) != 0 || got[i].JSON != want[i].JSON {
			t.Fatalf("row %d: got %s %s, want %s %s", i, got[i].Key(), got[i].JSON, want[i].Key(), want[i].JSON)
		}
	}
}
