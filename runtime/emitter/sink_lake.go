package emitter

import (
	"context"
	"errors"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/lake"
)

// customLakeSeq offsets custom sequence numbers in lake keys so they never
// meet a change's (bookmark) number: still 20 digits, still unique per store.
const customLakeSeq uint64 = 10_000_000_000_000_000_000

// redriveLakeSeq offsets the sequence numbers of re-queued dead letters the
// same way, above every custom event's.
const redriveLakeSeq uint64 = 15_000_000_000_000_000_000

// txLakeSeq offsets the sequence numbers of events of EmitTx.
const txLakeSeq uint64 = 17_000_000_000_000_000_000

// lakeSink writes batches to a bucket as JSON Lines objects.
type lakeSink struct {
	e *Emitter
}

// Name implements Sink.
func (lakeSink) Name() string { return "lake" }

// prepare lists b's events with the seq that names their objects: a
// change's bookmark number, a custom event's sequence number plus 10^19, so
// keys never collide.
func (lakeSink) prepare(b *batch) {
	b.evs = b.evs[:0]
	for i, it := range b.items {
		seq := it.seq
		switch b.src {
		case srcCustom:
			seq += customLakeSeq
		case srcRedrive:
			seq += redriveLakeSeq
		case srcTx:
			seq += txLakeSeq
		}
		b.evs = append(b.evs, lakewrite.EncodedEvent{TS: time.UnixMilli(it.tsMs).UTC(), Seq: seq, JSON: b.raw[i]})
	}
}

// Send writes b to the bucket, one object per UTC hour of the events' own
// ts, under keys that are the same on every retry (lakewrite.WriteEvents).
func (s lakeSink) Send(ctx context.Context, pb *Batch) error {
	b := pb.prep
	if b == nil {
		return &DeliveryError{Sink: "lake", Permanent: true, Msg: "not a batch of this emitter"}
	}
	ctx, cancel := context.WithTimeout(ctx, s.e.cfg.RequestTimeout)
	defer cancel()
	_, err := lakewrite.WriteEvents(ctx, s.e.cfg.Bucket, s.e.Identity(), b.evs)
	if err == nil {
		return nil
	}
	return &DeliveryError{Sink: "lake", Permanent: lakePermanent(err), Msg: s.e.red.clean(err.Error()), Err: s.e.red.wrap(err)}
}

// lakePermanent reports whether a lake write failed for good: events or
// keys the lake can never store, and the lake's other permanent errors (a
// key that clashes with a folder or an object on a file-system-backed
// server, a link out of a lake.Dir root), which fail the same way until
// someone changes the bucket: the batch is dead-lettered, and Redrive sends
// it again after the fix. Anything else is retried with backoff: the
// network, throttling, and the environment (a root that is a file or not
// mounted yet, no permission, a read-only or full disk), whatever error it
// is wrapped in.
func lakePermanent(err error) bool {
	if errors.Is(err, events.ErrInvalidEvent) || errors.Is(err, lake.ErrInvalidKey) || errors.Is(err, lake.ErrInvalidOptions) ||
		errors.Is(err, lake.ErrConflict) || errors.Is(err, lake.ErrOutsideRoot) {
		return true
	}
	return false
}
