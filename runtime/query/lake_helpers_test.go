package query

import (
	"context"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/lake"
)

// writeBatch writes evs, emitted by store id, to the lake folder dir through
// the runtime's lake writer, numbering them from seq. Each event keeps its
// own ts; the writer files it under that UTC hour.
func writeBatch(tb testing.TB, dir string, id events.Identity, seq uint64, evs ...events.Event) {
	tb.Helper()
	enc := make([]lakewrite.EncodedEvent, 0, len(evs))
	for i, ev := range evs {
		env := events.Envelope{TS: ev.EventTime(), DO: id}
		if err := ev.Validate(env); err != nil {
			tb.Fatalf("event %d: %v", i, err)
		}
		js, err := ev.AppendJSON(nil, env)
		if err != nil {
			tb.Fatalf("event %d: %v", i, err)
		}
		enc = append(enc, lakewrite.EncodedEvent{TS: ev.EventTime(), Seq: seq + uint64(i), JSON: js})
	}
	if _, err := lakewrite.WriteEvents(context.Background(), lake.Dir(dir), id, enc); err != nil {
		tb.Fatal(err)
	}
	if err := lake.EnsurePlaceholders(context.Background(), lake.Dir(dir)); err != nil {
		tb.Fatal(err)
	}
}
