package emitter_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// TestDeliveryKeepsHistory: with the default retention, changes the emitter
// delivered stay readable with Collection.Changes; with WithRetention(0, 0)
// they are pruned and reading them is cdc.ErrPruned, not a silent skip.
func TestDeliveryKeepsHistory(t *testing.T) {
	ctx := context.Background()
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprint("default retention=", keep), func(t *testing.T) {
			var opts []cdc.Option
			if !keep {
				opts = append(opts, cdc.WithRetention(0, 0))
			}
			s := openStore(t, opts...)
			users, err := cdc.NewCollection[map[string]int](s, "users")
			if err != nil {
				t.Fatal(err)
			}
			em, err := emitter.New(s, emitter.Options{Bucket: lake.Dir(filepath.Join(t.TempDir(), "lake")), CDC: true})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if err := users.Put(ctx, fmt.Sprint("u", i), map[string]int{"n": i}); err != nil {
					t.Fatal(err)
				}
			}
			if err := em.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := em.Close(ctx); err != nil {
				t.Fatal(err)
			}
			ch, err := users.Changes(ctx, "", 100)
			if keep && (err != nil || len(ch) != 10) {
				t.Fatalf("history after delivery: %d changes, %v; want 10", len(ch), err)
			}
			if !keep && !errors.Is(err, cdc.ErrPruned) {
				t.Fatalf("history after delivery with no retention: %d changes, %v; want cdc.ErrPruned", len(ch), err)
			}
		})
	}
}
