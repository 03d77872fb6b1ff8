package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
)

// TestEvictionWhileIngestDown: MaxOpen 20 over 300 stores while the ingest
// answers 503, then back: nothing lost at either sink; stores were evicted
// and reopened to deliver.
func TestEvictionWhileIngestDown(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 300 stores")
	}
	ctx := context.Background()
	in := newIngest(t)
	in.down.Store(true)
	b := lake.Dir(t.TempDir())
	f := openFleet(t, fleet.Options{Dir: t.TempDir(), Class: "Tenant", MaxOpen: 20,
		Emitter: emitter.Options{Endpoint: in.srv.URL, Bucket: b}})
	want := map[string][]string{}
	const n = 300
	for round := range 2 {
		for i := range n {
			id := fmt.Sprintf("t%03d", i)
			putRecorded(t, f, id, user{N: round}, want)
			if st := f.Stats(); st.Open > 20 {
				t.Fatalf("%d stores open, MaxOpen 20", st.Open)
			}
		}
		if err := f.Flush(ctx); err == nil {
			t.Fatalf("Flush with the ingest down succeeded")
		}
	}
	st := f.Stats()
	if st.Evictions < n-20 {
		t.Errorf("evictions = %d, want at least %d", st.Evictions, n-20)
	}
	var httpStats fleet.SinkStats
	for _, s := range st.Sinks {
		if s.Name == "http" {
			httpStats = s
		}
	}
	if httpStats.Delivered != 0 || httpStats.Pending == 0 || httpStats.Lag <= 0 || httpStats.Attempt == 0 {
		t.Errorf("http sink while down: %+v", httpStats)
	}
	in.down.Store(false)
	if err := f.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	got, _ := in.snapshot()
	checkDelivery(t, "http", got, want, nil, "Tenant", false)
	checkDelivery(t, "lake", lakeEvents(t, b), want, nil, "Tenant", true)
	if st := f.Stats(); st.Open > 20 {
		t.Errorf("%d stores open, MaxOpen 20", st.Open)
	}
}

// TestRestartDeliversPending: a fleet closed while the ingest is down keeps
// the undelivered changes; a new fleet on the same folder reopens only the
// stores that have some, and delivers them.
func TestRestartDeliversPending(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	dir := t.TempDir()
	b := lake.Dir(t.TempDir())
	opts := fleet.Options{Dir: dir, Class: "Tenant", MaxOpen: 5,
		Emitter: emitter.Options{Endpoint: in.srv.URL, Bucket: b}}
	f, err := fleet.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	put := func(f *fleet.Fleet, id string) { putRecorded(t, f, id, user{}, want) }
	for i := range 10 { // delivered at once
		put(f, fmt.Sprintf("done-%d", i))
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	in.down.Store(true)
	for i := range 12 {
		put(f, fmt.Sprintf("late-%d", i))
	}
	if err := f.Emit(ctx, "late-0", eventsCustom("late.custom")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(ctx); err == nil {
		t.Logf("Close with the ingest down: no error")
	}
	in.down.Store(false)
	f2 := openFleet(t, opts)
	if st := f2.Stats(); st.Unread != 12 {
		t.Errorf("new fleet: %d stores to read, want 12 (only those with undelivered changes)", st.Unread)
	} else if st.Sinks[0].Name != "http" || st.Sinks[0].Attempt == 0 || st.Sinks[0].NextAttempt.IsZero() {
		t.Errorf("new fleet: the http sink's retry schedule was not resumed: %+v", st.Sinks[0])
	}
	if err := f2.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	st := f2.Stats()
	if st.DeliveryOpens != 12 {
		t.Errorf("reopens for delivery = %d, want 12", st.DeliveryOpens)
	}
	got, _ := in.snapshot()
	checkDelivery(t, "http", got, want, customIDs(got), "Tenant", false)
	custom := 0
	for _, ev := range got {
		if ev.Type == "late.custom" {
			custom++
		}
	}
	if custom != 1 {
		t.Errorf("custom event set aside at Close delivered %d times, want 1", custom)
	}
	lk := lakeEvents(t, b)
	checkDelivery(t, "lake", lk, want, customIDs(lk), "Tenant", true)
	// All delivered: a third fleet has nothing to open.
	if err := f2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f3 := openFleet(t, opts)
	if st := f3.Stats(); st.Unread != 0 || st.Sinks[0].Attempt != 0 {
		t.Errorf("third fleet: %d stores to read, http attempt %d; want 0, 0", st.Unread, st.Sinks[0].Attempt)
	}
}

// collectSink is a user sink that keeps what it is sent.
type collectSink struct {
	mu  sync.Mutex
	evs []wireEvent
}

func (c *collectSink) Name() string { return "collect" }

func (c *collectSink) Send(_ context.Context, b *emitter.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range b.Events {
		var w wireEvent
		if err := json.Unmarshal(ev.JSON, &w); err != nil {
			return err
		}
		c.evs = append(c.evs, w)
	}
	return nil
}

// TestNewSinkCatchesUp: a sink added to a fleet gets each store's retained
// changes once the store is used again.
func TestNewSinkCatchesUp(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := lake.Dir(t.TempDir())
	f := openFleet(t, fleet.Options{Dir: dir, Emitter: emitter.Options{Bucket: b}})
	want := map[string][]string{}
	for i := range 3 {
		putRecorded(t, f, fmt.Sprintf("s%d", i), user{}, want)
	}
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	sink := &collectSink{}
	f2 := openFleet(t, fleet.Options{Dir: dir, Emitter: emitter.Options{Bucket: b, Sinks: []emitter.Sink{sink}}})
	for id := range want {
		if err := f2.Do(ctx, id, func(*cdc.Store) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := f2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkDelivery(t, "collect", sink.evs, want, nil, "", true)
	checkDelivery(t, "lake", lakeEvents(t, b), want, nil, "", true)
}
