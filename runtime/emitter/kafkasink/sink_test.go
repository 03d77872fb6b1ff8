package kafkasink_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/emitter/kafkasink"
	"github.com/dotdo/events/runtime/fleet"
)

// checkStoreOrder checks that each store's records are in one partition,
// its changes in bookmark order (want[store], each once) and its custom
// events in emission order (their "n" counts up from 0, each once).
func checkStoreOrder(t testing.TB, evs []decoded, want map[string][]cdc.Bookmark, customs map[string]int) {
	t.Helper()
	part := map[string]int32{}
	gotBM := map[string][]cdc.Bookmark{}
	gotN := map[string][]int{}
	for _, d := range evs {
		store := d.ev.DO.ID
		if p, ok := part[store]; ok && p != d.rec.Partition {
			t.Fatalf("store %s in partitions %d and %d", store, p, d.rec.Partition)
		}
		part[store] = d.rec.Partition
		if d.ev.Bookmark != "" {
			gotBM[store] = append(gotBM[store], cdc.Bookmark(d.ev.Bookmark))
		} else if d.ev.N != nil {
			gotN[store] = append(gotN[store], *d.ev.N)
		}
	}
	for store, bms := range want {
		if fmt.Sprint(gotBM[store]) != fmt.Sprint(bms) {
			t.Fatalf("store %s: changes %v, want %v", store, gotBM[store], bms)
		}
	}
	for store, n := range customs {
		if len(gotN[store]) != n {
			t.Fatalf("store %s: %d custom events, want %d", store, len(gotN[store]), n)
		}
		for i, got := range gotN[store] {
			if got != i {
				t.Fatalf("store %s: custom events out of order: %v", store, gotN[store])
			}
		}
	}
}

// logBookmarks returns the bookmarks of a store's retained change log.
func logBookmarks(t testing.TB, s *cdc.Store) []cdc.Bookmark {
	t.Helper()
	log, err := cdcx.Store(s).ReadLog(context.Background(), "", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	var out []cdc.Bookmark
	for _, c := range log {
		out = append(out, c.Bookmark)
	}
	return out
}

// TestDelivery: an emitter with CDC and custom events delivers every event
// to the topic once, keyed by the store id, with the id and type headers
// and the event time; the store's changes come in bookmark order and its
// custom events in emission order, all in one partition.
func TestDelivery(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, 3)
	store := openStore(t)
	users := newUsers(t, store)
	sink := newSink(t, c.ListenAddrs())
	em, err := emitter.New(store, emitter.Options{CDC: true, TrackPrevious: true, BatchSize: 7,
		Sinks: []emitter.Sink{sink}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close(ctx) })
	const n = 40
	for i := range n {
		id := fmt.Sprintf("u%d", i%9)
		if err := users.Put(ctx, id, user{Name: id, Age: i}); err != nil {
			t.Fatal(err)
		}
		if i%5 == 4 {
			if _, err := users.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if err := em.Emit(events.Custom{Type: "user.action", Fields: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	bms := logBookmarks(t, store)
	evs := decodeAll(t, readTopic(t, c.ListenAddrs(), 3))
	if len(evs) != len(bms)+n {
		t.Fatalf("%d records, want %d changes + %d custom events", len(evs), len(bms), n)
	}
	ids := map[string]bool{}
	types := map[string]int{}
	for _, d := range evs {
		if ids[d.ev.ID] {
			t.Fatalf("event %s twice", d.ev.ID)
		}
		ids[d.ev.ID] = true
		types[d.ev.Type]++
	}
	if types[events.TypeCollectionInsert]+types[events.TypeCollectionUpdate] != len(bms)-8 || types[events.TypeCollectionDelete] != 8 || types["user.action"] != n {
		t.Fatalf("event types %v", types)
	}
	checkStoreOrder(t, evs, map[string][]cdc.Bookmark{em.StoreID(): bms}, map[string]int{em.StoreID(): n})
	st := em.Stats().Sinks["kafka"]
	if st.Delivered != uint64(len(evs)) || st.Attempt != 0 || st.DeadLettered != 0 || st.CDCCursor != bms[len(bms)-1] {
		t.Fatalf("kafka sink stats %+v", st)
	}
}

// TestNewBadInput: New refuses a nil client, bad topic names and clients
// without the idempotent producer, with errors matching
// emitter.ErrInvalidOptions; a renamed sink must still be a valid sink name.
func TestNewBadInput(t *testing.T) {
	c := newCluster(t, 1)
	cl := newClient(t, c.ListenAddrs())
	if _, err := kafkasink.New(nil, topic); !errors.Is(err, emitter.ErrInvalidOptions) {
		t.Fatalf("nil client: %v", err)
	}
	for _, bad := range []string{"", ".", "..", "a b", "topic/x", "tö", strings.Repeat("t", 250), "a\x00"} {
		if _, err := kafkasink.New(cl, bad); !errors.Is(err, emitter.ErrInvalidOptions) {
			t.Fatalf("topic %q: %v", bad, err)
		}
	}
	for _, good := range []string{"a", "...", "Events_v1.store-changes", strings.Repeat("t", 249)} {
		if _, err := kafkasink.New(cl, good); err != nil {
			t.Fatalf("topic %q: %v", good, err)
		}
	}
	for name, opts := range map[string][]kgo.Opt{
		"not idempotent": {kgo.DisableIdempotentWrite()},
		"transactional":  {kgo.TransactionalID("tx")},
		"other topic":    {kgo.DefaultProduceTopic("other"), kgo.DefaultProduceTopicAlways()},
	} {
		if _, err := kafkasink.New(newClient(t, c.ListenAddrs(), opts...), topic); !errors.Is(err, emitter.ErrInvalidOptions) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := kafkasink.New(newClient(t, c.ListenAddrs(), kgo.DefaultProduceTopic(topic), kgo.DefaultProduceTopicAlways()), topic); err != nil {
		t.Fatalf("always the same topic: %v", err)
	}

	s, err := kafkasink.New(cl, topic)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "kafka" || s.Named("kafka.audit").Name() != "kafka.audit" || s.Name() != "kafka" {
		t.Fatalf("names %q", s.Name())
	}
	store := openStore(t)
	for _, bad := range []string{"http", "Kafka", ""} {
		if _, err := emitter.New(store, emitter.Options{Sinks: []emitter.Sink{s.Named(bad)}}); !errors.Is(err, emitter.ErrInvalidOptions) {
			t.Fatalf("sink named %q: %v", bad, err)
		}
	}
	em, err := emitter.New(store, emitter.Options{CDC: true, Sinks: []emitter.Sink{s, s.Named("kafka.audit")}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := newUsers(t, store).Put(context.Background(), "u", user{}); err != nil {
		t.Fatal(err)
	}
	if err := em.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := em.Stats()
	if st.Sinks["kafka"].Delivered != 1 || st.Sinks["kafka.audit"].Delivered != 1 {
		t.Fatalf("stats %+v", st.Sinks)
	}
	if recs := readTopic(t, c.ListenAddrs(), 1); len(recs) != 2 {
		t.Fatalf("%d records, want one per sink", len(recs))
	}
}

// TestFleet: a fleet of several stores delivers every change and custom
// event once through the sink; each store's records are in one partition,
// keyed by its id, its changes in bookmark order and its custom events in
// emission order.
func TestFleet(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, 4)
	f, err := fleet.Open(ctx, fleet.Options{Dir: t.TempDir(), MaxOpen: 3,
		Emitter: emitter.Options{BatchSize: 9, Sinks: []emitter.Sink{newSink(t, c.ListenAddrs())}, Logger: discardLogger()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(ctx) })
	want := map[string][]cdc.Bookmark{}
	customs := map[string]int{}
	const stores, rounds = 6, 15
	for r := range rounds {
		for k := range stores {
			id := fmt.Sprintf("tenant-%d", k)
			if err := f.Do(ctx, id, func(s *cdc.Store) error {
				if err := newUsers(t, s).Put(ctx, fmt.Sprintf("u%d", r%3), user{Age: r}); err != nil {
					return err
				}
				bm, err := s.Bookmark(ctx)
				want[id] = append(want[id], bm)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if r%2 == 0 {
				if err := f.Emit(ctx, id, events.Custom{Type: "tick", Fields: map[string]any{"n": customs[id]}}); err != nil {
					t.Fatal(err)
				}
				customs[id]++
			}
		}
		if r%5 == 4 {
			if err := f.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs := decodeAll(t, readTopic(t, c.ListenAddrs(), 4))
	total := 0
	for id := range want {
		total += len(want[id]) + customs[id]
	}
	if len(evs) != total {
		t.Fatalf("%d records, want %d", len(evs), total)
	}
	if _, dups := firstCopies(evs); dups != 0 {
		t.Fatalf("%d duplicates", dups)
	}
	checkStoreOrder(t, evs, want, customs)
	parts := map[int32]bool{}
	for _, d := range evs {
		parts[d.rec.Partition] = true
	}
	if len(parts) < 2 {
		t.Fatalf("%d stores all in partitions %v", stores, parts)
	}
	st := f.Stats().Sinks
	if len(st) != 1 || st[0].Name != "kafka" || st[0].Delivered != uint64(total) || st[0].Attempt != 0 {
		t.Fatalf("sink stats %+v", st)
	}
}

// TestSendEmpty: an empty or nil batch produces nothing and succeeds.
func TestSendEmpty(t *testing.T) {
	c := newCluster(t, 1)
	s := newSink(t, c.ListenAddrs())
	for _, b := range []*emitter.Batch{nil, {ID: "b"}} {
		if err := s.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if recs := readTopic(t, c.ListenAddrs(), 1); len(recs) != 0 {
		t.Fatalf("%d records", len(recs))
	}
}
