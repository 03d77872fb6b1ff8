package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/ingest"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/query"
)

// TestFleetRoundTrip: a fleet's batches (many stores' events in one
// request) go through the ingest into its lake, and the builders find each
// store's events there by DOID, each once.
func TestFleetRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	hs, _ := newServer(t, ingest.Options{Bucket: lake.Dir(dir), Keys: []string{testKey}, Now: time.Now})
	f, err := fleet.Open(ctx, fleet.Options{
		Dir:     t.TempDir(),
		Class:   "Tenant",
		Emitter: emitter.Options{Endpoint: hs.URL + "/ingest", APIKey: testKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	type item struct {
		N int `json:"n"`
	}
	const stores, puts = 5, 4
	for s := range stores {
		id := fmt.Sprintf("tenant-%d", s)
		err := f.Do(ctx, id, func(st *cdc.Store) error {
			items, err := cdc.NewCollection[item](st, "items")
			if err != nil {
				return err
			}
			for i := range puts {
				if err := items.Put(ctx, fmt.Sprint("i", i), item{N: i}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Emit(ctx, id, events.Custom{Type: "tenant.seen"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	db := openDuckDB(t)
	rows, ids := counts(t, db, dir)
	if want := int64(stores * (puts + 1)); rows != want || ids != want {
		t.Fatalf("lake rows %d, distinct ids %d; want %d", rows, ids, want)
	}
	q, err := query.Build(query.Options{Root: dir, DOID: "tenant-3"})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var class string
	if err := db.QueryRow(`SELECT count(*), min("do".class) FROM (`+q+`)`).Scan(&n, &class); err != nil {
		t.Fatal(err)
	}
	if n != puts+1 || class != "Tenant" {
		t.Fatalf("tenant-3: %d events of class %q, want %d of Tenant", n, class, puts+1)
	}
}
