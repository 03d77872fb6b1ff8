package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// wireEvent is what the tests read of an event on the wire or in the lake.
type wireEvent struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Bookmark string `json:"bookmark"`
	DocID    string `json:"docId"`
	DO       struct {
		ID    string `json:"id"`
		Class string `json:"class"`
	} `json:"do"`
	Doc json.RawMessage `json:"doc"`
}

// ingest is an httptest ingest that records every event it accepts, in
// arrival order; down makes it answer 503.
type ingest struct {
	srv      *httptest.Server
	mu       sync.Mutex
	events   []wireEvent
	requests int
	down     atomic.Bool
}

func newIngest(t testing.TB) *ingest {
	in := &ingest{}
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if in.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var body struct {
			Events  []wireEvent `json:"events"`
			BatchID string      `json:"batchId"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Events) > 1000 {
			http.Error(w, "bad batch", http.StatusBadRequest)
			return
		}
		in.mu.Lock()
		in.events = append(in.events, body.Events...)
		in.requests++
		in.mu.Unlock()
		fmt.Fprintf(w, `{"accepted":%d}`, len(body.Events))
	}))
	t.Cleanup(in.srv.Close)
	return in
}

func (in *ingest) snapshot() ([]wireEvent, int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]wireEvent(nil), in.events...), in.requests
}

// lakeEvents reads every event of the lake in b.
func lakeEvents(t testing.TB, b lake.Bucket) []wireEvent {
	t.Helper()
	var out []wireEvent
	for ev, err := range lake.Events(context.Background(), b, lake.Selection{}) {
		if err != nil {
			t.Fatalf("lake.Events: %v", err)
		}
		var w wireEvent
		if err := json.Unmarshal(ev.JSON, &w); err != nil {
			t.Fatalf("lake event %s:%d: %v", ev.Key, ev.Line, err)
		}
		out = append(out, w)
	}
	return out
}

// user is the tests' document.
type user struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

// users returns the users collection of s.
func users(t testing.TB, s *cdc.Store) *cdc.Collection[user] {
	c, err := cdc.NewCollection[user](s, "users")
	if err != nil {
		t.Fatalf("NewCollection: %v", err)
	}
	return c
}

// checkDelivery checks got (one sink's events, in arrival order) against
// want (per store, the bookmarks of its changes) and wantCustom (custom
// event ids): every change there, each store's in bookmark order, do right;
// with once, no event twice.
func checkDelivery(t *testing.T, sinkName string, got []wireEvent, want map[string][]string, wantCustom map[string]string, class string, once bool) {
	t.Helper()
	seen := map[string]int{}
	last := map[string]int64{}
	gotBM := map[string]map[string]bool{}
	for _, ev := range got {
		seen[ev.ID]++
		if once && seen[ev.ID] > 1 {
			t.Errorf("%s: event %s twice", sinkName, ev.ID)
		}
		if ev.DO.Class != class {
			t.Errorf("%s: event %s has do.class %q, want %q", sinkName, ev.ID, ev.DO.Class, class)
		}
		if ev.Bookmark == "" {
			if st, ok := wantCustom[ev.ID]; !ok || st != ev.DO.ID {
				t.Errorf("%s: custom event %s of %q not expected (want store %q)", sinkName, ev.ID, ev.DO.ID, st)
			}
			continue
		}
		seq, err := changelog.Bookmark(ev.Bookmark).Seq()
		if err != nil {
			t.Fatalf("%s: bad bookmark %q", sinkName, ev.Bookmark)
		}
		if seq <= last[ev.DO.ID] && seen[ev.ID] == 1 {
			t.Errorf("%s: store %s: bookmark %d after %d", sinkName, ev.DO.ID, seq, last[ev.DO.ID])
		}
		last[ev.DO.ID] = max(last[ev.DO.ID], seq)
		if gotBM[ev.DO.ID] == nil {
			gotBM[ev.DO.ID] = map[string]bool{}
		}
		gotBM[ev.DO.ID][ev.Bookmark] = true
	}
	for id, bms := range want {
		for _, bm := range bms {
			if !gotBM[id][bm] {
				t.Errorf("%s: store %s: change %s missing", sinkName, id, bm)
				break
			}
		}
		if len(gotBM[id]) != len(bms) {
			t.Errorf("%s: store %s: %d distinct changes, want %d", sinkName, id, len(gotBM[id]), len(bms))
		}
	}
	for id := range wantCustom {
		if seen[id] == 0 {
			t.Errorf("%s: custom event %s missing", sinkName, id)
		}
	}
}

// openFleet opens a fleet and closes it at the end of the test.
func openFleet(t testing.TB, opts fleet.Options) *fleet.Fleet {
	t.Helper()
	f, err := fleet.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("fleet.Open: %v", err)
	}
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	return f
}

// waitFor polls cond (bounded) while Run delivers.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for range 3000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// bookmark returns the store's newest bookmark (a reopened store skips
// numbers past what it may have shipped: rule 6).
func bookmark(t testing.TB, s *cdc.Store) string {
	bm, err := s.Bookmark(context.Background())
	if err != nil {
		t.Fatalf("Bookmark: %v", err)
	}
	return string(bm)
}

func eventsCustom(typ string) events.Custom { return events.Custom{Type: typ} }

func eventsIdentity(id string) events.Identity { return events.Identity{ID: id} }

// snapshotRestoreTo restores store id at bm into s and returns how many
// changes it replayed.
func snapshotRestoreTo(ctx context.Context, s *cdc.Store, b lake.Bucket, id string, bm cdc.Bookmark) (int, error) {
	res, err := snapshot.RestoreTo(ctx, s, b, id, snapshot.Target{Bookmark: bm})
	return res.Replayed, err
}

// putRecorded puts u as document "u" of store id and records the change's
// bookmark in want.
func putRecorded(t testing.TB, f *fleet.Fleet, id string, u user, want map[string][]string) {
	t.Helper()
	ctx := context.Background()
	if err := f.Do(ctx, id, func(s *cdc.Store) error {
		if err := users(t, s).Put(ctx, "u", u); err != nil {
			return err
		}
		want[id] = append(want[id], bookmark(t, s))
		return nil
	}); err != nil {
		t.Fatalf("Do %s: %v", id, err)
	}
}
