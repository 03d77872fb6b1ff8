package snapshot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// TestCorruptSnapshot cuts a snapshot at random offsets and flips random
// bytes of it: every restore of a damaged copy fails with ErrCorrupt or
// ErrVersion and leaves the store exactly as it was.
func TestCorruptSnapshot(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		s := openStore(t)
		fill(t, s)
		c := coll(t, s, "bulk")
		for i := range 150 {
			put(t, c, fmt.Sprintf("d%03d", i), fmt.Sprintf(`{"i":%d,"s":"value %d ü","_id":"own%d"}`, i, i, i))
		}
		res, err := snapshot.Create(ctx, s, "store", snapshot.Options{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		obj, err := b.Get(ctx, res.Key)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Make the store differ from the snapshot, so an accepted damaged
		// body would show.
		for i := range 150 {
			put(t, c, fmt.Sprintf("d%03d", i), fmt.Sprintf(`{"i":%d}`, -i))
		}
		put(t, coll(t, s, "extra"), "x", `{}`)
		before, bm := stateOf(t, s), bookmark(t, s)

		rng := rand.New(rand.NewPCG(1, 2))
		try := func(what string, damaged []byte) {
			t.Helper()
			key := res.Key[:len(res.Key)-len(".json")] + "_999999.json"
			if err := b.Put(ctx, key, bytes.NewReader(damaged), lake.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			_, err := snapshot.Restore(ctx, s, b, key)
			if !errors.Is(err, snapshot.ErrCorrupt) && !errors.Is(err, snapshot.ErrVersion) {
				t.Fatalf("%s: got %v", what, err)
			}
		}
		for range 120 {
			n := rng.IntN(len(body))
			try(fmt.Sprintf("cut at %d of %d", n, len(body)), body[:n])
		}
		for range 120 {
			d := bytes.Clone(body)
			i := rng.IntN(len(d))
			d[i] ^= byte(1 + rng.IntN(255))
			try(fmt.Sprintf("byte %d flipped", i), d)
		}
		try("extra byte", append(bytes.Clone(body), 'x'))
		try("trailing object", append(bytes.Clone(body), []byte(`{}`)...))
		if d := diffStates(before, stateOf(t, s)); d != "" || bookmark(t, s) != bm {
			t.Fatalf("store changed (bookmark %s → %s):\n%s", bm, bookmark(t, s), d)
		}
		// The intact body still restores.
		if _, err := snapshot.Restore(ctx, s, b, res.Key); err != nil {
			t.Fatal(err)
		}
	})
}
