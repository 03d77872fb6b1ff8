package fleet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/laketest"
	"github.com/dotdo/events/runtime/lake/s3lake"
)

// workload writes puts, updates, deletes and custom events to n stores and
// returns, per store, the bookmarks of its changes and its custom events'
// count.
func workload(t *testing.T, ctx context.Context, f *fleet.Fleet, n int) (map[string][]string, map[string]int) {
	t.Helper()
	want := map[string][]string{}
	custom := map[string]int{}
	for round := range 3 {
		for i := range n {
			id := fmt.Sprintf("Tenant-%03d", i)
			err := f.Do(ctx, id, func(s *cdc.Store) error {
				c := users(t, s)
				var err error
				switch round {
				case 0:
					if err := c.Put(ctx, "u1", user{Name: "a", N: i}); err != nil {
						return err
					}
					want[id] = append(want[id], bookmark(t, s))
					err = c.Put(ctx, "u2", user{Name: "b", N: i})
				case 1:
					err = c.Put(ctx, "u1", user{Name: "a2", N: i})
				default:
					_, err = c.Delete(ctx, "u2")
				}
				want[id] = append(want[id], bookmark(t, s))
				return err
			})
			if err != nil {
				t.Fatalf("Do %s: %v", id, err)
			}
			if i%3 == 0 {
				if err := f.Emit(ctx, id, events.Custom{Type: "order.paid"}); err != nil {
					t.Fatalf("Emit: %v", err)
				}
				custom[id]++
			}
		}
	}
	return want, custom
}

// TestManyStoresBothSinks: 200 stores with puts, updates, deletes and
// custom events; every event at the HTTP ingest and in the lake (a folder
// and S3), do right, each store's changes in order, each once in the lake.
func TestManyStoresBothSinks(t *testing.T) {
	for name, bucket := range map[string]func(t *testing.T) lake.Bucket{
		"dir": func(t *testing.T) lake.Bucket { return lake.Dir(t.TempDir()) },
		"s3":  func(t *testing.T) lake.Bucket { return s3lake.New(laketest.NewS3Client(t), laketest.BucketName) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			in := newIngest(t)
			b := bucket(t)
			f := openFleet(t, fleet.Options{Dir: t.TempDir(), Class: "Tenant", MaxOpen: 250,
				Emitter: emitter.Options{Endpoint: in.srv.URL, Bucket: b}})
			n := 200
			want, custom := workload(t, ctx, f, n)
			if err := f.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			got, requests := in.snapshot()
			wantEvents := 4*n + sum(custom)
			if len(got) != wantEvents {
				t.Errorf("ingest got %d events, want %d", len(got), wantEvents)
			}
			if requests > 2*(wantEvents/1000+1)+4 {
				t.Errorf("%d requests for %d events", requests, wantEvents)
			}
			customIDs := customIDs(got)
			if len(customIDs) != sum(custom) {
				t.Errorf("%d custom events at the ingest, want %d", len(customIDs), sum(custom))
			}
			checkDelivery(t, "http", got, want, customIDs, "Tenant", true)
			lk := lakeEvents(t, b)
			if len(lk) != wantEvents {
				t.Errorf("lake has %d events, want %d", len(lk), wantEvents)
			}
			checkDelivery(t, "lake", lk, want, customIDs, "Tenant", true)
			st := f.Stats()
			for _, s := range st.Sinks {
				if s.Delivered != uint64(wantEvents) || s.Pending != 0 || s.Lag != 0 {
					t.Errorf("sink %s: %+v", s.Name, s)
				}
			}
			if st.Open > 250 {
				t.Errorf("%d stores open, MaxOpen 250", st.Open)
			}
			ids, err := f.IDs(ctx)
			if err != nil || len(ids) != n || ids[0] != "Tenant-000" {
				t.Errorf("IDs: %d ids, first %v, err %v", len(ids), ids[:min(1, len(ids))], err)
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// customIDs returns the custom events among evs: id -> store.
func customIDs(evs []wireEvent) map[string]string {
	out := map[string]string{}
	for _, ev := range evs {
		if ev.Bookmark == "" {
			out[ev.ID] = ev.DO.ID
		}
	}
	return out
}

// TestRunDelivers: with Run, commits are delivered without Flush.
func TestRunDelivers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := newIngest(t)
	f := openFleet(t, fleet.Options{Dir: t.TempDir(), Class: "Room",
		Emitter: emitter.Options{Endpoint: in.srv.URL, FlushInterval: 20 * time.Millisecond}})
	go f.Run(ctx)
	for i := range 5 {
		if err := f.Do(ctx, fmt.Sprintf("room-%d", i), func(s *cdc.Store) error {
			return users(t, s).Put(ctx, "u", user{Name: "x"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "5 events at the ingest", func() bool { got, _ := in.snapshot(); return len(got) == 5 })
}
