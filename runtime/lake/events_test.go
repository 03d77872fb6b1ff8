package lake_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/lake"
)

// gets records the keys a Bucket is asked to Get.
type gets struct {
	lake.Bucket
	mu   sync.Mutex
	keys []string
}

func (g *gets) Get(ctx context.Context, key string) (*lake.Object, error) {
	g.mu.Lock()
	g.keys = append(g.keys, key)
	g.mu.Unlock()
	return g.Bucket.Get(ctx, key)
}

// line is one event line of store at ts with id.
func line(store, id string, ts time.Time, n int) string {
	idField := ""
	if id != "" {
		idField = fmt.Sprintf(`"id":%q,`, id)
	}
	return fmt.Sprintf(`{"type":"t","ts":%q,"do":{"id":%q},%s"n":%d}`, wire.FormatTime(ts), store, idField, n)
}

// mixedLake writes, in two hours, every kind of object name DESIGN rule 2
// allows: this module's single-store objects (through the emitter's
// writer), an upstream raw-id object, a multi-store "_w-" object and other
// stores' objects, plus keys outside the layout. It returns the lines of
// store "room_1" in the order Events yields them.
func mixedLake(t *testing.T, b lake.Bucket) []string {
	t.Helper()
	ctx := context.Background()
	h14 := time.Date(2024, 1, 15, 14, 10, 0, 0, time.UTC)
	h15 := h14.Add(time.Hour)
	write := func(id string, ts time.Time, seq uint64, n int) string {
		js := line(id, fmt.Sprintf("w-c%d", seq), ts, n)
		if _, err := lakewrite.WriteEvents(ctx, b, events.Identity{ID: id}, []lakewrite.EncodedEvent{{TS: ts, Seq: seq, JSON: []byte(js)}}); err != nil {
			t.Fatal(err)
		}
		return js
	}
	own14 := write("room_1", h14, 1, 1)                // room%5F1_...
	write("room", h14, 1, 2)                           // room_... (another store)
	write("room_10", h14, 1, 3)                        // room%5F10_...
	own15 := write("room_1", h15, 2, 4)                // next hour
	raw := line("room_1", "", h14.Add(time.Minute), 5) // upstream: no id, raw name
	put(t, b, fmt.Sprintf("events/2024/01/15/14/room_1_%d.jsonl", h14.UnixMilli()), raw+"\n", lake.PutOptions{})
	multiMine, multiOther := line("room_1", "m-1", h14, 6), line("room", "m-2", h14, 7)
	put(t, b, "events/2024/01/15/14/_w-abc_1_00000000000000000001_ff.jsonl", multiOther+"\n"+multiMine+"\n", lake.PutOptions{})
	put(t, b, "events/README.txt", "not an events object", lake.PutOptions{})
	put(t, b, "events/2024/01/15/14/notes.txt", "not an events object", lake.PutOptions{})
	// Key order within hour 14: "_w-..." < "room%5F1_..." < "room_1_...".
	return []string{multiMine, own14, raw, own15}
}

func TestEventsOfOneStore(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		want := mixedLake(t, b)
		from, to := time.Date(2024, 1, 15, 14, 0, 0, 0, time.UTC), time.Date(2024, 1, 15, 15, 59, 0, 0, time.UTC)
		for name, sel := range map[string]lake.Selection{
			"whole lake": {Store: "room_1"},
			"hours":      {Store: "room_1", From: from, To: to},
			"from on":    {Store: "room_1", From: from},
			"up to":      {Store: "room_1", To: to},
			"years":      {Store: "room_1", From: from.AddDate(-5, 0, 0), To: to.AddDate(5, 0, 0)}, // one listing, not 87,600 hours of them
		} {
			g := &gets{Bucket: b}
			var got []string
			for ev, err := range lake.Events(context.Background(), g, sel) {
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if ev.Store != "room_1" || ev.Type != "t" || !strings.HasPrefix(string(ev.JSON), "{") || ev.Line < 1 {
					t.Errorf("%s: event %+v", name, ev)
				}
				got = append(got, string(ev.JSON))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: got\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Objects whose names prove they hold none of room_1's events are never read.
			for _, k := range g.keys {
				if strings.Contains(k, "/room_") && !strings.Contains(k, "/room_1_") || strings.Contains(k, "room%5F10") {
					t.Errorf("%s: read %s", name, k)
				}
			}
		}
		// One hour only.
		h15 := time.Date(2024, 1, 15, 15, 0, 0, 0, time.UTC)
		var got []string
		for ev, err := range lake.Events(context.Background(), b, lake.Selection{Store: "room_1", From: h15, To: h15}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(ev.JSON))
		}
		if !slices.Equal(got, want[3:]) {
			t.Errorf("hour 15: %q", got)
		}
	})
}

func TestEventsOfEveryStore(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		mixedLake(t, b)
		stores := map[string]int{}
		ids := 0
		for ev, err := range lake.Events(context.Background(), b, lake.Selection{}) {
			if err != nil {
				t.Fatal(err)
			}
			stores[ev.Store]++
			if ev.ID != "" {
				ids++
			}
		}
		if stores["room_1"] != 4 || stores["room"] != 2 || stores["room_10"] != 1 || len(stores) != 3 || ids != 6 {
			t.Errorf("stores %v, %d with ids", stores, ids)
		}
	})
}

func TestEventsErrors(t *testing.T) {
	ctx := context.Background()
	b := lake.Dir(t.TempDir())
	first := func(sel lake.Selection) error {
		for _, err := range lake.Events(ctx, b, sel) {
			return err
		}
		return nil
	}
	for name, sel := range map[string]lake.Selection{
		"bad store":   {Store: "a/b"},
		"empty-ish":   {Store: "."},
		"to < from":   {From: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		"long store":  {Store: strings.Repeat("x", 257)},
		"control chr": {Store: "a\nb"},
	} {
		if err := first(sel); !errors.Is(err, lake.ErrInvalidOptions) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := first(lake.Selection{Store: "a/b"}); !errors.Is(err, events.ErrInvalidStoreID) {
		t.Errorf("bad store: %v", err)
	}
	for _, err := range lake.Events(ctx, nil, lake.Selection{}) {
		if !errors.Is(err, lake.ErrInvalidOptions) {
			t.Errorf("nil bucket: %v", err)
		}
	}
	// An empty lake yields nothing.
	if err := first(lake.Selection{Store: "s"}); err != nil {
		t.Errorf("empty lake: %v", err)
	}
	// A bad line names its object and line.
	ts := time.Date(2024, 1, 15, 14, 0, 0, 0, time.UTC)
	put(t, b, "events/2024/01/15/14/s_1.jsonl", line("s", "", ts, 1)+"\n{not json\n", lake.PutOptions{})
	var n int
	var err error
	for _, e := range lake.Events(ctx, b, lake.Selection{Store: "s"}) {
		if e != nil {
			err = e
			break
		}
		n++
	}
	if n != 1 || !errors.Is(err, lake.ErrCorrupt) || !strings.Contains(err.Error(), "s_1.jsonl") || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("%d events, then %v", n, err)
	}
	// A line without a type or time is corrupt too.
	put(t, b, "events/2024/01/15/14/s_1.jsonl", `{"do":{"id":"s"}}`+"\n", lake.PutOptions{})
	if err := first(lake.Selection{Store: "s"}); !errors.Is(err, lake.ErrCorrupt) {
		t.Errorf("no type: %v", err)
	}
}
