package fleetquery_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/query"
	_ "github.com/duckdb/duckdb-go/v2"
)

type user struct {
	Name string `json:"name"`
}

// TestDOIDOnFleetLake: a fleet writes many stores' events into shared
// ('_'-named) lake objects; Build and History with DOID return exactly one
// store's events, on DuckDB.
func TestDOIDOnFleetLake(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	f, err := fleet.Open(ctx, fleet.Options{Dir: t.TempDir(), Class: "Tenant",
		Emitter: emitter.Options{Bucket: lake.Dir(root)}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close(ctx)
	want := map[string]int{}
	for i := range 6 {
		id := fmt.Sprintf("tenant_%d", i) // '_' in ids: never a name prefix of another's
		for n := range i + 1 {
			if err := f.Do(ctx, id, func(s *cdc.Store) error {
				c, err := cdc.NewCollection[user](s, "users")
				if err != nil {
					return err
				}
				return c.Put(ctx, "u1", user{Name: fmt.Sprint(n)})
			}); err != nil {
				t.Fatal(err)
			}
			want[id]++
		}
		if err := f.Emit(ctx, id, events.Custom{Type: "tenant.seen"}); err != nil {
			t.Fatal(err)
		}
		want[id]++
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, n := range want {
		q, err := query.Build(query.Options{Root: root, DOID: id})
		if err != nil {
			t.Fatal(err)
		}
		got := count(t, db, q)
		if got != n {
			t.Errorf("Build DOID %s: %d events, want %d", id, got, n)
		}
		h, err := query.History(query.HistoryOptions{Root: root, DOID: id, Collection: "users", DocID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		if got := count(t, db, h); got != n-1 {
			t.Errorf("History DOID %s: %d changes, want %d", id, got, n-1)
		}
	}
}

// count runs q and returns how many rows it gives.
func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("query: %v\n%s", err, q)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
