package lakewrite_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/lake"
)

var storeID = events.Identity{ID: "store-1", Name: "Chat Room ☕", Class: "ChatRoom", Colo: "fra"}

// encode encodes a custom event the way an emitter does.
func encode(t *testing.T, ts time.Time, seq uint64) lakewrite.EncodedEvent {
	t.Helper()
	ev := events.Custom{Type: "user.action", TS: ts, Fields: map[string]any{"seq": seq, "note": "line\nbreak"}}
	env := events.Envelope{ID: fmt.Sprintf("ev-%d", seq), DO: storeID}
	if err := ev.Validate(env); err != nil {
		t.Fatal(err)
	}
	data, err := ev.AppendJSON(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	return lakewrite.EncodedEvent{TS: ts, Seq: seq, JSON: data}
}

func bodyOf(evs ...lakewrite.EncodedEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		b.Write(ev.JSON)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestWriteEventsRollover(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		last := time.Date(2024, 12, 31, 23, 59, 59, 999e6, time.UTC)
		first := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		e1, e2, e3 := encode(t, last.Add(-time.Minute), 41), encode(t, last, 42), encode(t, first, 43)
		written, err := lakewrite.WriteEvents(ctx, b, storeID, []lakewrite.EncodedEvent{e1, e2, e3})
		if err != nil {
			t.Fatal(err)
		}
		want := []lakewrite.Written{
			{Key: "events/2024/12/31/23/store-1_1735689539999_00000000000000000041_" + lakeformat.Sum([]byte(bodyOf(e1, e2))) + ".jsonl", Count: 2, FirstSeq: 41, LastSeq: 42},
			{Key: "events/2025/01/01/00/store-1_1735689600000_00000000000000000043_" + lakeformat.Sum([]byte(bodyOf(e3))) + ".jsonl", Count: 1, FirstSeq: 43, LastSeq: 43},
		}
		if !slices.Equal(written, want) {
			t.Fatalf("written = %+v\nwant      %+v", written, want)
		}
		if keys := listKeys(t, b, "events/"); !slices.Equal(keys, []string{want[0].Key, want[1].Key}) {
			t.Fatalf("keys = %q", keys)
		}
		for i, body := range []string{bodyOf(e1, e2), bodyOf(e3)} {
			got, info := get(t, b, want[i].Key)
			if got != body {
				t.Errorf("%s body:\n%s\nwant\n%s", want[i].Key, got, body)
			}
			if info.ContentType != lakeformat.ContentTypeJSONL {
				t.Errorf("content type %q", info.ContentType)
			}
			meta := map[string]string{"doId": "store-1", "doName": "Chat Room ☕", "doColo": "fra", "eventCount": fmt.Sprint(want[i].Count)}
			if !maps.Equal(info.Metadata, meta) {
				t.Errorf("metadata %q", info.Metadata)
			}
		}
		// Every line decodes back to its event.
		got, _ := get(t, b, want[0].Key)
		for i, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
			ev, err := events.DecodeEvent([]byte(line))
			if err != nil || ev.EventType() != "user.action" || !ev.EventTime().Equal([]time.Time{e1.TS, e2.TS}[i]) {
				t.Errorf("line %d: %v %v", i, ev, err)
			}
		}
	})
}

func TestWriteEventsIdempotent(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		base := time.Date(2024, 1, 15, 14, 59, 59, 0, time.UTC)
		var batch []lakewrite.EncodedEvent
		for i := range 50 {
			batch = append(batch, encode(t, base.Add(time.Duration(i)*100*time.Millisecond), uint64(1000+i)))
		}
		w1, err := lakewrite.WriteEvents(ctx, b, storeID, batch)
		if err != nil {
			t.Fatal(err)
		}
		bodies := map[string]string{}
		for _, w := range w1 {
			bodies[w.Key], _ = get(t, b, w.Key)
		}
		w2, err := lakewrite.WriteEvents(ctx, b, storeID, batch)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(w1, w2) || len(w1) != 2 || w1[0].Count+w1[1].Count != 50 {
			t.Fatalf("retry wrote %+v, first %+v", w2, w1)
		}
		keys := listKeys(t, b, "events/")
		if len(keys) != 2 {
			t.Fatalf("keys after retry = %q", keys)
		}
		for _, k := range keys {
			if got, _ := get(t, b, k); got != bodies[k] {
				t.Errorf("%s changed on retry", k)
			}
		}
		// A later batch of the same hour gets its own object.
		w3, err := lakewrite.WriteEvents(ctx, b, storeID, []lakewrite.EncodedEvent{encode(t, base.Add(time.Second), 2000)})
		if err != nil || len(w3) != 1 || slices.Contains(keys, w3[0].Key) {
			t.Fatalf("next batch: %+v %v", w3, err)
		}
	})
}

func TestWriteEventsInterleavedHours(t *testing.T) {
	b := lake.Dir(t.TempDir())
	h14 := time.Date(2024, 1, 15, 14, 30, 0, 0, time.UTC)
	h13 := h14.Add(-time.Hour)
	// Delivered late and out of order: each event still lands under its own hour.
	e1, e2, e3, e4 := encode(t, h14, 1), encode(t, h13, 2), encode(t, h14.Add(-time.Minute), 3), encode(t, h13.In(time.FixedZone("X", -7*3600)), 4)
	written, err := lakewrite.WriteEvents(context.Background(), b, events.Identity{ID: "a_b/c"}, []lakewrite.EncodedEvent{e1, e2, e3, e4})
	if err != nil {
		t.Fatal(err)
	}
	want := []lakewrite.Written{
		{Key: fmt.Sprintf("events/2024/01/15/13/a%%5Fb%%2Fc_%d_%020d_%s.jsonl", h13.UnixMilli(), 2, lakeformat.Sum([]byte(bodyOf(e2, e4)))), Count: 2, FirstSeq: 2, LastSeq: 4},
		{Key: fmt.Sprintf("events/2024/01/15/14/a%%5Fb%%2Fc_%d_%020d_%s.jsonl", h14.UnixMilli(), 1, lakeformat.Sum([]byte(bodyOf(e1, e3)))), Count: 2, FirstSeq: 1, LastSeq: 3},
	}
	if !slices.Equal(written, want) {
		t.Fatalf("written = %+v\nwant      %+v", written, want)
	}
	if got, info := get(t, b, want[0].Key); got != bodyOf(e2, e4) || !maps.Equal(info.Metadata, map[string]string{"doId": "a_b/c", "doName": "", "doColo": "", "eventCount": "2"}) {
		t.Errorf("13h: %q %q", got, info.Metadata)
	}
	if got, _ := get(t, b, want[1].Key); got != bodyOf(e1, e3) {
		t.Errorf("14h: %q", got)
	}
}

func TestWriteEventsBadInput(t *testing.T) {
	ts := time.Date(2024, 1, 15, 14, 0, 0, 0, time.UTC)
	good := encode(t, ts, 1)
	bad := map[string]struct {
		id  events.Identity
		evs []lakewrite.EncodedEvent
	}{
		"no id":        {events.Identity{Name: "x"}, []lakewrite.EncodedEvent{good}},
		"zero ts":      {storeID, []lakewrite.EncodedEvent{good, {Seq: 2, JSON: good.JSON}}},
		"before 1970":  {storeID, []lakewrite.EncodedEvent{good, {TS: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), Seq: 2, JSON: good.JSON}}},
		"empty json":   {storeID, []lakewrite.EncodedEvent{good, {TS: ts, Seq: 2}}},
		"invalid json": {storeID, []lakewrite.EncodedEvent{good, {TS: ts, Seq: 2, JSON: []byte(`{"a":`)}}},
		"raw newline":  {storeID, []lakewrite.EncodedEvent{good, {TS: ts, Seq: 2, JSON: []byte("{\n}")}}},
		"not object":   {storeID, []lakewrite.EncodedEvent{good, {TS: ts, Seq: 2, JSON: []byte(`[1]`)}}},
	}
	b := lake.Dir(t.TempDir())
	for name, c := range bad {
		written, err := lakewrite.WriteEvents(context.Background(), b, c.id, c.evs)
		if !errors.Is(err, events.ErrInvalidEvent) || written != nil {
			t.Errorf("%s: %+v %v", name, written, err)
		}
	}
	if keys := listKeys(t, b, ""); len(keys) != 0 {
		t.Fatalf("bad batches wrote %q", keys)
	}
	if written, err := lakewrite.WriteEvents(context.Background(), b, storeID, nil); err != nil || len(written) != 0 {
		t.Fatalf("empty batch: %+v %v", written, err)
	}
	if keys := listKeys(t, b, ""); len(keys) != 0 {
		t.Fatalf("empty batch wrote %q", keys)
	}
}

func TestWriteEventsStopsAtFirstError(t *testing.T) {
	b := lake.Dir(t.TempDir())
	// An object where the 2025 folder must be makes the second part fail.
	put(t, b, "events/2025", "in the way", lake.PutOptions{})
	e1 := encode(t, time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC), 1)
	e2 := encode(t, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 2)
	written, err := lakewrite.WriteEvents(context.Background(), b, storeID, []lakewrite.EncodedEvent{e1, e2})
	if !errors.Is(err, lake.ErrConflict) {
		t.Fatalf("err = %v", err)
	}
	if len(written) != 1 || written[0].FirstSeq != 1 {
		t.Fatalf("written = %+v", written)
	}
	if got, _ := get(t, b, written[0].Key); got != bodyOf(e1) {
		t.Fatalf("first part = %q", got)
	}
}

func TestWriteEventsLongMetadata(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		id := events.Identity{ID: strings.Repeat("i", 256), Name: strings.Repeat("名", 400), Colo: strings.Repeat("c", 300)}
		written, err := lakewrite.WriteEvents(context.Background(), b, id, []lakewrite.EncodedEvent{encode(t, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), 1)})
		if err != nil {
			t.Fatal(err)
		}
		_, info := get(t, b, written[0].Key)
		if info.Metadata["doId"] != id.ID || info.Metadata["doName"] != strings.Repeat("名", 85) || len(info.Metadata["doColo"]) != 256 {
			t.Errorf("metadata = %q", info.Metadata)
		}
		if !strings.Contains(written[0].Key, "~") {
			t.Errorf("long id not shortened in %q", written[0].Key)
		}
	})
}

// TestWriteEventsUpstreamMetadata: as upstream, doName and doColo are
// always written, "" when unknown.
func TestWriteEventsUpstreamMetadata(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		written, err := lakewrite.WriteEvents(context.Background(), b, events.Identity{ID: "bare"}, []lakewrite.EncodedEvent{encode(t, ts, 1)})
		if err != nil {
			t.Fatal(err)
		}
		_, info := get(t, b, written[0].Key)
		want := map[string]string{"doId": "bare", "doName": "", "doColo": "", "eventCount": "1"}
		if !maps.Equal(info.Metadata, want) {
			t.Errorf("metadata %q", info.Metadata)
		}
	})
}
