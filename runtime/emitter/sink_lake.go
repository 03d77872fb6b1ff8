package emitter

import (
	"context"
	"errors"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/lake"
)

// sendLake writes b to the bucket as JSON Lines objects, one per UTC hour of
// the events' own ts, under keys that are the same on every retry
// (lakewrite.WriteEvents): a change's lake seq is its bookmark number, a custom
// event's is its sequence number plus 10^19, so keys never collide.
func (e *Emitter) sendLake(ctx context.Context, b *batch) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.RequestTimeout)
	defer cancel()
	_, err := lakewrite.WriteEvents(ctx, e.cfg.Bucket, e.Identity(), b.evs)
	if err == nil {
		return nil
	}
	// Events or keys the lake can never store are rejected for good;
	// anything else (network, throttling, a full disk) is retried.
	permanent := errors.Is(err, events.ErrInvalidEvent) || errors.Is(err, lake.ErrInvalidKey) ||
		errors.Is(err, lake.ErrInvalidOptions) || errors.Is(err, lake.ErrConflict)
	return &DeliveryError{Sink: "lake", Permanent: permanent, Msg: e.red.clean(err.Error()), Err: e.red.wrap(err)}
}
