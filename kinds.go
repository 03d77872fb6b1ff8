package events

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dotdo/events/internal/wire"
)

// Event types of the upstream library.
const (
	TypeRPCCall          = "rpc.call"
	TypeCollectionInsert = "collection.insert"
	TypeCollectionUpdate = "collection.update"
	TypeCollectionDelete = "collection.delete"
	TypeDOCreate         = "do.create"
	TypeDOAlarm          = "do.alarm"
	TypeDOHibernate      = "do.hibernate"
	TypeDOEvict          = "do.evict"
	TypeWSConnect        = "ws.connect"
	TypeWSMessage        = "ws.message"
	TypeWSClose          = "ws.close"
	TypeWSError          = "ws.error"
	TypePage             = "page"
	TypeTrack            = "track"
	TypeIdentify         = "identify"
)

// RPCCall records one call of a method: type "rpc.call".
type RPCCall struct {
	// Type is "rpc.call"; it may be left empty.
	Type string `json:"type"`
	// TS is the event time; the emitter sets it when zero.
	TS time.Time `json:"ts"`
	// DO is the emitting store; the emitter sets it when zero.
	DO Identity `json:"do"`
	// ID is a unique event id; the emitter sets it when empty.
	ID string `json:"id,omitempty"`
	// Method is the called method or route.
	Method string `json:"method"`
	// Namespace optionally groups methods.
	Namespace string `json:"namespace,omitempty"`
	// DurationMs is how long the call took, in milliseconds.
	DurationMs float64 `json:"durationMs"`
	// Success is false when the call failed.
	Success bool `json:"success"`
	// Error is the failure's message.
	Error string `json:"error,omitempty"`
}

// EventType implements Event.
func (e RPCCall) EventType() string { return pickString(e.Type, TypeRPCCall) }

// EventTime implements Event.
func (e RPCCall) EventTime() time.Time { return e.TS }

// Validate implements Event.
func (e RPCCall) Validate(env Envelope) error {
	if err := checkKind(e.EventType(), TypeRPCCall); err != nil {
		return err
	}
	if e.Method == "" {
		return fmt.Errorf("%w: rpc.call needs a method", ErrInvalidEvent)
	}
	if math.IsNaN(e.DurationMs) || math.IsInf(e.DurationMs, 0) {
		return fmt.Errorf("%w: rpc.call durationMs must be finite", ErrInvalidEvent)
	}
	return validateCommon(e.EventType(), e.TS, e.DO, env)
}

// AppendJSON implements Event.
func (e RPCCall) AppendJSON(dst []byte, env Envelope) ([]byte, error) {
	dst = appendHeader(dst, e.EventType(), e.TS, e.DO, e.ID, env)
	dst = appendKey(dst, "method")
	dst = wire.AppendString(dst, e.Method)
	dst = appendOptString(dst, "namespace", e.Namespace)
	dst = appendKey(dst, "durationMs")
	dst = appendFloat(dst, e.DurationMs)
	dst = appendBool(dst, "success", e.Success)
	dst = appendOptString(dst, "error", e.Error)
	return append(dst, '}'), nil
}

// MarshalJSON encodes the event in its wire form.
func (e RPCCall) MarshalJSON() ([]byte, error) { return marshal(e) }

// CollectionChange is a change data capture event: type "collection.insert",
// "collection.update" or "collection.delete".
type CollectionChange struct {
	// Type is one of the three collection types.
	Type string `json:"type"`
	// TS is the event time; the emitter sets it when zero.
	TS time.Time `json:"ts"`
	// DO is the emitting store; the emitter sets it when zero.
	DO Identity `json:"do"`
	// ID is a unique event id; the emitter sets it when empty.
	ID string `json:"id,omitempty"`
	// Collection names the collection.
	Collection string `json:"collection"`
	// DocID is the document's id.
	DocID string `json:"docId"`
	// Doc is the document after the change (insert, update).
	Doc json.RawMessage `json:"doc,omitempty"`
	// Prev is the document before the change (update, delete), when tracked.
	Prev json.RawMessage `json:"prev,omitempty"`
	// Bookmark is the store's bookmark of the change, for point-in-time recovery.
	Bookmark string `json:"bookmark,omitempty"`
}

// EventType implements Event.
func (e CollectionChange) EventType() string { return e.Type }

// EventTime implements Event.
func (e CollectionChange) EventTime() time.Time { return e.TS }

// Validate implements Event.
func (e CollectionChange) Validate(env Envelope) error {
	if err := checkKind(e.Type, TypeCollectionInsert+","+TypeCollectionUpdate+","+TypeCollectionDelete); err != nil {
		return err
	}
	if e.Collection == "" || e.DocID == "" {
		return fmt.Errorf("%w: %s needs a collection and a docId", ErrInvalidEvent, e.Type)
	}
	if len(e.Doc) > 0 && !json.Valid(e.Doc) {
		return fmt.Errorf("%w: %s doc is not valid JSON", ErrInvalidEvent, e.Type)
	}
	if len(e.Prev) > 0 && !json.Valid(e.Prev) {
		return fmt.Errorf("%w: %s prev is not valid JSON", ErrInvalidEvent, e.Type)
	}
	return validateCommon(e.Type, e.TS, e.DO, env)
}

// AppendJSON implements Event.
func (e CollectionChange) AppendJSON(dst []byte, env Envelope) ([]byte, error) {
	dst = appendHeader(dst, e.Type, e.TS, e.DO, e.ID, env)
	dst = appendKey(dst, "collection")
	dst = wire.AppendString(dst, e.Collection)
	dst = appendKey(dst, "docId")
	dst = wire.AppendString(dst, e.DocID)
	dst = appendRaw(dst, "doc", e.Doc)
	dst = appendRaw(dst, "prev", e.Prev)
	dst = appendOptString(dst, "bookmark", e.Bookmark)
	return append(dst, '}'), nil
}

// MarshalJSON encodes the event in its wire form.
func (e CollectionChange) MarshalJSON() ([]byte, error) { return marshal(e) }

// Lifecycle is a store lifecycle event: type "do.create", "do.alarm",
// "do.hibernate" or "do.evict".
type Lifecycle struct {
	// Type is one of the four lifecycle types.
	Type string `json:"type"`
	// TS is the event time; the emitter sets it when zero.
	TS time.Time `json:"ts"`
	// DO is the emitting store; the emitter sets it when zero.
	DO Identity `json:"do"`
	// ID is a unique event id; the emitter sets it when empty.
	ID string `json:"id,omitempty"`
	// Reason optionally says why.
	Reason string `json:"reason,omitempty"`
}

// EventType implements Event.
func (e Lifecycle) EventType() string { return e.Type }

// EventTime implements Event.
func (e Lifecycle) EventTime() time.Time { return e.TS }

// Validate implements Event.
func (e Lifecycle) Validate(env Envelope) error {
	if err := checkKind(e.Type, TypeDOCreate+","+TypeDOAlarm+","+TypeDOHibernate+","+TypeDOEvict); err != nil {
		return err
	}
	return validateCommon(e.Type, e.TS, e.DO, env)
}

// AppendJSON implements Event.
func (e Lifecycle) AppendJSON(dst []byte, env Envelope) ([]byte, error) {
	dst = appendHeader(dst, e.Type, e.TS, e.DO, e.ID, env)
	dst = appendOptString(dst, "reason", e.Reason)
	return append(dst, '}'), nil
}

// MarshalJSON encodes the event in its wire form.
func (e Lifecycle) MarshalJSON() ([]byte, error) { return marshal(e) }

// WebSocket is a WebSocket activity event: type "ws.connect", "ws.message",
// "ws.close" or "ws.error".
type WebSocket struct {
	// Type is one of the four WebSocket types.
	Type string `json:"type"`
	// TS is the event time; the emitter sets it when zero.
	TS time.Time `json:"ts"`
	// DO is the emitting store; the emitter sets it when zero.
	DO Identity `json:"do"`
	// ID is a unique event id; the emitter sets it when empty.
	ID string `json:"id,omitempty"`
	// ConnectionCount is the number of open connections, when known.
	ConnectionCount *int `json:"connectionCount,omitempty"`
	// Code is the close code, when there is one.
	Code *int `json:"code,omitempty"`
	// Reason is the close or error reason.
	Reason string `json:"reason,omitempty"`
}

// EventType implements Event.
func (e WebSocket) EventType() string { return e.Type }

// EventTime implements Event.
func (e WebSocket) EventTime() time.Time { return e.TS }

// Validate implements Event.
func (e WebSocket) Validate(env Envelope) error {
	if err := checkKind(e.Type, TypeWSConnect+","+TypeWSMessage+","+TypeWSClose+","+TypeWSError); err != nil {
		return err
	}
	return validateCommon(e.Type, e.TS, e.DO, env)
}

// AppendJSON implements Event.
func (e WebSocket) AppendJSON(dst []byte, env Envelope) ([]byte, error) {
	dst = appendHeader(dst, e.Type, e.TS, e.DO, e.ID, env)
	if e.ConnectionCount != nil {
		dst = appendKey(dst, "connectionCount")
		dst = appendFloat(dst, float64(*e.ConnectionCount))
	}
	if e.Code != nil {
		dst = appendKey(dst, "code")
		dst = appendFloat(dst, float64(*e.Code))
	}
	dst = appendOptString(dst, "reason", e.Reason)
	return append(dst, '}'), nil
}

// MarshalJSON encodes the event in its wire form.
func (e WebSocket) MarshalJSON() ([]byte, error) { return marshal(e) }

// Client is a browser analytics event: type "page", "track" or "identify".
type Client struct {
	// Type is one of the three client types.
	Type string `json:"type"`
	// TS is the event time; the emitter sets it when zero.
	TS time.Time `json:"ts"`
	// DO is the emitting store; the emitter sets it when zero.
	DO Identity `json:"do"`
	// ID is a unique event id; the emitter sets it when empty.
	ID string `json:"id,omitempty"`
	// Event names a tracked event.
	Event string `json:"event,omitempty"`
	// Properties are the event's properties.
	Properties map[string]any `json:"properties,omitempty"`
	// Traits are the user's traits (identify).
	Traits map[string]any `json:"traits,omitempty"`
	// UserID identifies a known user.
	UserID string `json:"userId,omitempty"`
	// AnonymousID identifies an anonymous visitor.
	AnonymousID string `json:"anonymousId,omitempty"`
	// SessionID identifies the visit.
	SessionID string `json:"sessionId,omitempty"`
}

// EventType implements Event.
func (e Client) EventType() string { return e.Type }

// EventTime implements Event.
func (e Client) EventTime() time.Time { return e.TS }

// Validate implements Event.
func (e Client) Validate(env Envelope) error {
	if err := checkKind(e.Type, TypePage+","+TypeTrack+","+TypeIdentify); err != nil {
		return err
	}
	return validateCommon(e.Type, e.TS, e.DO, env)
}

// AppendJSON implements Event.
func (e Client) AppendJSON(dst []byte, env Envelope) ([]byte, error) {
	dst = appendHeader(dst, e.Type, e.TS, e.DO, e.ID, env)
	dst = appendOptString(dst, "event", e.Event)
	var err error
	if e.Properties != nil {
		if dst, err = appendAny(dst, "properties", e.Properties); err != nil {
			return dst, err
		}
	}
	if e.Traits != nil {
		if dst, err = appendAny(dst, "traits", e.Traits); err != nil {
			return dst, err
		}
	}
	dst = appendOptString(dst, "userId", e.UserID)
	dst = appendOptString(dst, "anonymousId", e.AnonymousID)
	dst = appendOptString(dst, "sessionId", e.SessionID)
	return append(dst, '}'), nil
}

// MarshalJSON encodes the event in its wire form.
func (e Client) MarshalJSON() ([]byte, error) { return marshal(e) }

// checkKind reports an error unless typ is one of the kind's types. The
// types come as one comma-separated string, so the hot path allocates nothing.
func checkKind(typ string, allowed string) error {
	for rest := allowed; rest != ""; {
		var a string
		a, rest, _ = strings.Cut(rest, ",")
		if typ == a {
			return nil
		}
	}
	return fmt.Errorf("%w: type %q is not one of %s", ErrInvalidEvent, typ, allowed)
}
