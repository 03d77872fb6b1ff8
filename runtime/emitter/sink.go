package emitter

import (
	"context"
	"fmt"
	"time"

	"github.com/dotdo/events/internal/watchpos"
	"github.com/dotdo/events/runtime/cdc"
)

// Sink is a destination of events. The emitter's HTTP and lake sinks are
// two; Options.Sinks adds others. Each sink has its own cursor per source,
// retry schedule and dead letters in the store, named by Name, so a failing
// sink never holds back or re-sends to another. Send is called by one
// goroutine at a time per sink, with batches in order.
type Sink interface {
	// Name returns the sink's name: 1-64 bytes of a-z, 0-9, '.', '_', '-',
	// stable across restarts, as it names the sink's saved positions, retry
	// state and dead letters. "http" and "lake" are the built-in sinks'.
	Name() string
	// Send delivers b. A nil error means the destination has every event;
	// a *DeliveryError says which events it rejected for good (only those
	// are dead-lettered), that the whole batch was rejected for good, or
	// when to retry; any other error is retried with backoff. b and the
	// bytes it holds are valid only until Send returns.
	Send(ctx context.Context, b *Batch) error
}

// Batch is what a Sink is sent: events of one source (changes or custom
// events), in order.
type Batch struct {
	// ID names the batch; it is the same for every retry of the same events
	// (the HTTP sink sends it as batchId).
	ID string
	// Events are the batch's events.
	Events []BatchEvent

	prep *batch // the emitter's own batch, for the built-in sinks
}

// BatchEvent is one event of a Batch.
type BatchEvent struct {
	// Store is the id of the store the event belongs to (its do.id).
	Store string
	// ID is the event's id, the same on every re-send: de-duplicate by it.
	ID string
	// Type is the event's type.
	Type string
	// TS is the event's time.
	TS time.Time
	// Bookmark is the change's bookmark; empty for a custom event.
	Bookmark cdc.Bookmark
	// JSON is the event's wire form: one JSON object on one line.
	JSON []byte
}

// preparer is implemented by the built-in sinks: they build what they send
// (a request body, lake objects' contents) from the emitter's batch, ahead
// of the send when they can.
type preparer interface {
	prepare(b *batch)
}

// validSinkName checks a user sink's name.
func validSinkName(name string) error {
	if problem := watchpos.CheckName(name); problem != "" {
		return fmt.Errorf("%w: sink name %q %s", ErrInvalidOptions, name, problem)
	}
	if name == "http" || name == "lake" {
		return fmt.Errorf("%w: sink name %q is a built-in sink's", ErrInvalidOptions, name)
	}
	return nil
}
