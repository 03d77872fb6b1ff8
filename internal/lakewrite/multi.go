package lakewrite

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/lake"
)

// MultiKey names an object of many stores' events, e.g.
// lakeformat.IngestKey or lakeformat.WriterKey with its writer bound: hour
// is the object's UTC hour, firstMs and firstSeq are its first event's,
// sum is lakeformat.Sum of its body.
type MultiKey func(hour time.Time, firstMs int64, firstSeq uint64, sum string) string

// MultiWriter writes batches of many stores' events to a bucket. It is
// safe for concurrent use and reuses its buffers across writes (an ingest
// writes hundreds of kilobytes a request).
type MultiWriter struct {
	// Bucket receives the objects.
	Bucket lake.Bucket
	// Key names them.
	Key  MultiKey
	bufs sync.Pool
}

// Write writes a batch like WriteEvents (one JSON Lines object per UTC
// hour of the events' own TS, events in batch order, content-addressed
// keys), named by w.Key. It trusts evs: the caller has validated every
// event (a time between 1970 and 9999, one JSON object without raw
// newlines), as the ingest's scanner does in the same pass that reads
// them. Objects carry no content type or metadata: the events name their
// stores, and on a local folder either would cost a sidecar file and two
// more fsyncs per object.
func (w *MultiWriter) Write(ctx context.Context, evs []EncodedEvent) ([]Written, error) {
	if len(evs) > 0 {
		if err := ensurePlaceholders(ctx, w.Bucket); err != nil {
			return nil, err
		}
	}
	parts := splitByHour(evs)
	written := make([]Written, 0, len(parts))
	body, _ := w.bufs.Get().(*bytes.Buffer)
	if body == nil {
		body = new(bytes.Buffer)
	}
	defer w.bufs.Put(body)
	for _, p := range parts {
		body.Reset()
		size := 0
		for _, ev := range p.events {
			size += len(ev.JSON) + 1
		}
		body.Grow(size)
		for _, ev := range p.events {
			body.Write(ev.JSON)
			body.WriteByte('\n')
		}
		first, last := p.events[0], p.events[len(p.events)-1]
		wr := Written{
			Key:      w.Key(p.hour, first.TS.UnixMilli(), first.Seq, lakeformat.Sum(body.Bytes())),
			Count:    len(p.events),
			FirstSeq: first.Seq,
			LastSeq:  last.Seq,
		}
		if err := w.Bucket.Put(ctx, wr.Key, bytes.NewReader(body.Bytes()), lake.PutOptions{}); err != nil {
			return written, fmt.Errorf("lake: write %d events to %s: %w", wr.Count, wr.Key, err)
		}
		written = append(written, wr)
	}
	return written, nil
}
