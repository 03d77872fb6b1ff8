// Package events is the event model shared by every part of this module: the
// identity of the store that emits events, one struct per kind of event, and
// the batch body sent to an ingest endpoint.
//
// The JSON form is wire compatible with the @dotdo/events JavaScript library:
// every event is one object whose first members are "type", "ts" (UTC with
// millisecond precision) and "do", followed by the fields of its kind.
package events

import (
	"fmt"
	"time"

	"github.com/dotdo/events/internal/wire"
)

// TimeLayout is the wire format of "ts": UTC with exactly three fractional digits.
const TimeLayout = wire.TimeLayout

// ErrInvalidEvent is matched (with errors.Is) by every validation error of an event.
var ErrInvalidEvent = wire.ErrInvalidEvent

// Identity says which store (the Go counterpart of a Durable Object) emitted an event.
// It is encoded as the "do" member.
type Identity struct {
	// ID is the store's identity; it also names the store's objects in the lake.
	ID string `json:"id"`
	// Name is an optional human name of the store.
	Name string `json:"name,omitempty"`
	// Class is the kind of store (upstream: the Durable Object class).
	Class string `json:"class,omitempty"`
	// Colo is where the store runs (upstream: the Cloudflare colo).
	Colo string `json:"colo,omitempty"`
	// Worker is the name of the program or worker that hosts the store.
	Worker string `json:"worker,omitempty"`
}

// Envelope holds what an emitter stamps on an event: each value is used only
// where the event's own is zero, so an event can carry its own time or identity.
type Envelope struct {
	// ID is the event's unique id, for de-duplication of re-sends.
	ID string
	// TS is the event time.
	TS time.Time
	// DO is the identity of the emitting store.
	DO Identity
}

// Event is implemented by every event struct of this package.
type Event interface {
	// EventType returns the wire "type" of the event: its Type field, or the
	// type its kind implies when the field is empty.
	EventType() string
	// EventTime returns the event's own "ts", zero when it has none yet.
	EventTime() time.Time
	// Validate reports whether the event can be encoded as it is, once
	// stamped with env. Errors match ErrInvalidEvent.
	Validate(env Envelope) error
	// AppendJSON appends the event's JSON object to dst, taking ts, do and id
	// from env wherever the event's own are zero. It does not validate.
	AppendJSON(dst []byte, env Envelope) ([]byte, error)
}

// validateCommon checks what every event needs once stamped: a valid type and
// a time (its own or env's). do is not checked: a store id is not required.
func validateCommon(typ string, ts time.Time, do Identity, env Envelope) error {
	if !wire.ValidType(typ) {
		return fmt.Errorf("%w: type %q must be 1-%d characters of [a-zA-Z0-9._-]", ErrInvalidEvent, typ, wire.MaxTypeLen)
	}
	if ts.IsZero() && env.TS.IsZero() {
		return fmt.Errorf("%w: %s has no ts", ErrInvalidEvent, typ)
	}
	return nil
}

// pick returns own unless it is zero, else def.
func pickTime(own, def time.Time) time.Time {
	if own.IsZero() {
		return def
	}
	return own
}

func pickIdentity(own, def Identity) Identity {
	if own == (Identity{}) {
		return def
	}
	return own
}

func pickString(own, def string) string {
	if own == "" {
		return def
	}
	return own
}
