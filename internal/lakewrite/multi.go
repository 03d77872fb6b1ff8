package lakewrite

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/lake"
)

// MultiKey names an object of many stores' events, e.g.
// lakeformat.IngestKey or lakeformat.WriterKey with its writer bound: hour
// is the object's UTC hour, firstMs and firstSeq are its first event's,
// sum is lakeformat.Sum of its body.
type MultiKey func(hour time.Time, firstMs int64, firstSeq uint64, sum string) string

// WriteMulti writes a batch of many stores' events like WriteEvents (one
// JSON Lines object per UTC hour of the events' own TS, events in batch
// order, content-addressed keys), named by key. It trusts evs: the caller
// has validated every event (a time between 1970 and 9999, one JSON object
// without raw newlines), as the ingest's scanner does in the same pass that
// reads them. Objects carry no content type or metadata: the events name
// their stores, and on a local folder either would cost a sidecar file and
// two more fsyncs per object.
func WriteMulti(ctx context.Context, b lake.Bucket, key MultiKey, evs []EncodedEvent) ([]Written, error) {
	parts := splitByHour(evs)
	written := make([]Written, 0, len(parts))
	var body bytes.Buffer
	for _, p := range parts {
		body.Reset()
		for _, ev := range p.events {
			body.Write(ev.JSON)
			body.WriteByte('\n')
		}
		first, last := p.events[0], p.events[len(p.events)-1]
		w := Written{
			Key:      key(p.hour, first.TS.UnixMilli(), first.Seq, lakeformat.Sum(body.Bytes())),
			Count:    len(p.events),
			FirstSeq: first.Seq,
			LastSeq:  last.Seq,
		}
		if err := b.Put(ctx, w.Key, bytes.NewReader(body.Bytes()), lake.PutOptions{}); err != nil {
			return written, fmt.Errorf("lake: write %d events to %s: %w", w.Count, w.Key, err)
		}
		written = append(written, w)
	}
	return written, nil
}
