package emitter

import (
	"context"
	"errors"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/lake"
)

// customLakeSeq offsets custom sequence numbers in lake keys so they never
// meet a change's (bookmark) number: still 20 digits, still unique per store.
const customLakeSeq uint64 = 10_000_000_000_000_000_000

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
		if b.src == srcCustom {
			seq += customLakeSeq
		}
		b.evs = append(b.evs, lake.EncodedEvent{TS: time.UnixMilli(it.tsMs).UTC(), Seq: seq, JSON: b.raw[i]})
	}
}

// Send writes b to the bucket, one object per UTC hour of the events' own
// ts, under keys that are the same on every retry (lake.WriteEvents).
func (s lakeSink) Send(ctx context.Context, pb *Batch) error {
	b := pb.prep
	if b == nil {
		return &DeliveryError{Sink: "lake", Permanent: true, Msg: "not a batch of this emitter"}
	}
	ctx, cancel := context.WithTimeout(ctx, s.e.cfg.RequestTimeout)
	defer cancel()
	_, err := lake.WriteEvents(ctx, s.e.cfg.Bucket, s.e.Identity(), b.evs)
	if err == nil {
		return nil
	}
	// Events or keys the lake can never store are rejected for good;
	// anything else (network, throttling, a full disk) is retried.
	permanent := errors.Is(err, events.ErrInvalidEvent) || errors.Is(err, lake.ErrInvalidKey) ||
		errors.Is(err, lake.ErrInvalidOptions) || errors.Is(err, lake.ErrConflict)
	return &DeliveryError{Sink: "lake", Permanent: permanent, Msg: s.e.red.clean(err.Error()), Err: s.e.red.wrap(err)}
}
