package cdc_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
)

// TestConcurrentWriters has goroutines write at once (run it under -race):
// every mutation gets exactly one change row, bookmarks strictly increase,
// and each writer's changes appear in the order it made them.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	orders, err := cdc.NewCollection[Order](s, "orders")
	must(t, err)
	const writers, each = 8, 60
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				var err error
				switch i % 4 {
				case 0, 1:
					err = users.Put(ctx, id, User{Name: id, Age: i})
				case 2:
					_, err = users.Delete(ctx, fmt.Sprintf("w%d-%d", w, i-2))
				case 3:
					err = s.Update(ctx, func(tx *cdc.Tx) error {
						if err := users.With(tx).Put(ctx, id, User{Name: id, Age: i}); err != nil {
							return err
						}
						return orders.With(tx).Put(ctx, id, Order{UserID: id, Total: i})
					})
				}
				if err != nil {
					errs <- err
					return
				}
				// Readers run alongside the writers.
				if _, err := users.Count(ctx, fAge.Gte(0)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Per writer and 4 steps: 2 puts, 1 delete, 1 transaction of 2 puts.
	want := writers * each / 4 * 5
	all, err := s.ChangesAfter(ctx, "", 100_000)
	must(t, err)
	if len(all) != want {
		t.Fatalf("%d change rows, want %d", len(all), want)
	}
	lastAge := map[string]int{}
	for k, c := range all {
		if k > 0 && c.Bookmark <= all[k-1].Bookmark {
			t.Fatalf("bookmark %s after %s", c.Bookmark, all[k-1].Bookmark)
		}
		var w, i int
		if _, err := fmt.Sscanf(c.DocID, "w%d-%d", &w, &i); err != nil {
			t.Fatal(err)
		}
		if c.Op == cdc.OpDelete {
			i += 2 // the delete is the writer's step i+2
		}
		key := fmt.Sprint(w)
		if prev, ok := lastAge[key]; ok && i < prev {
			t.Fatalf("writer %d: step %d logged after step %d", w, i, prev)
		}
		lastAge[key] = i
	}
}
