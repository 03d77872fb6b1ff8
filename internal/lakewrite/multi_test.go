package lakewrite_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/lake"
)

// TestMultiWriter writes many stores' events across two hours: one object
// per hour under IngestKey, events in batch order, and a retry of the same
// batch writes the same keys with the same bytes.
func TestMultiWriter(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		h := time.Date(2026, 11, 28, 10, 59, 59, 0, time.UTC)
		var evs []lakewrite.EncodedEvent
		for i := range 4 {
			ts := h.Add(time.Duration(i) * 400 * time.Millisecond) // 10:59:59.0/.4/.8, 11:00:00.2
			evs = append(evs, lakewrite.EncodedEvent{TS: ts, Seq: uint64(i), JSON: []byte(fmt.Sprintf(`{"type":"a.b","ts":%q,"do":{"id":"s%d"},"id":"e%d"}`, ts.Format(time.RFC3339Nano), i, i))})
		}
		w := &lakewrite.MultiWriter{Bucket: b, Key: lakeformat.IngestKey}
		written, err := w.Write(context.Background(), evs)
		if err != nil {
			t.Fatal(err)
		}
		if len(written) != 2 || written[0].Count != 3 || written[1].Count != 1 || written[1].FirstSeq != 3 {
			t.Fatalf("written %+v", written)
		}
		for i, wr := range written {
			if !strings.HasPrefix(wr.Key, lakeformat.HourPrefix(h.Add(time.Duration(i)*time.Hour))+"_i-") {
				t.Errorf("key %s", wr.Key)
			}
		}
		body, _ := get(t, b, written[0].Key)
		if want := string(evs[0].JSON) + "\n" + string(evs[1].JSON) + "\n" + string(evs[2].JSON) + "\n"; body != want {
			t.Errorf("body %q, want %q", body, want)
		}
		again, err := w.Write(context.Background(), evs)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(keysOf(again), keysOf(written)) || len(listKeys(t, b, lakeformat.Root)) != 2 {
			t.Errorf("a retry wrote %v, first %v", keysOf(again), keysOf(written))
		}
	})
}

func keysOf(ws []lakewrite.Written) []string {
	var ks []string
	for _, w := range ws {
		ks = append(ks, w.Key)
	}
	return ks
}
