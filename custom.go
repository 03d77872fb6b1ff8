package events

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/dotdo/events/internal/wire"
)

// Custom is an event of any other type, with arbitrary fields written at the
// top level of its JSON object, e.g.
//
//	events.Custom{Type: "user.action", Fields: map[string]any{"userId": "123"}}
type Custom struct {
	// Type is the event type: 1-128 characters of [a-zA-Z0-9._-].
	Type string
	// TS is the event time; the emitter sets it when zero.
	TS time.Time
	// DO is the emitting store; the emitter sets it when zero.
	DO Identity
	// ID is a unique event id; the emitter sets it when empty.
	ID string
	// Fields are the event's own members. They may not be named type, ts, do or id.
	Fields map[string]any
}

// reservedField reports whether name is one of the envelope's members.
func reservedField(name string) bool {
	return name == "type" || name == "ts" || name == "do" || name == "id"
}

// EventType implements Event.
func (e Custom) EventType() string { return e.Type }

// EventTime implements Event.
func (e Custom) EventTime() time.Time { return e.TS }

// Validate implements Event.
func (e Custom) Validate(env Envelope) error {
	for name := range e.Fields {
		if reservedField(name) {
			return fmt.Errorf("%w: custom field %q is reserved", ErrInvalidEvent, name)
		}
	}
	return validateCommon(e.Type, e.TS, e.DO, env)
}

// AppendJSON implements Event. Fields are written in sorted order so the same
// event always encodes to the same bytes.
func (e Custom) AppendJSON(dst []byte, env Envelope) ([]byte, error) {
	dst = appendHeader(dst, e.Type, e.TS, e.DO, e.ID, env)
	switch len(e.Fields) {
	case 0:
	case 1:
		for name, v := range e.Fields {
			var err error
			if dst, err = appendField(dst, name, v); err != nil {
				return dst, err
			}
		}
	default:
		names := make([]string, 0, len(e.Fields))
		for name := range e.Fields {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			var err error
			if dst, err = appendField(dst, name, e.Fields[name]); err != nil {
				return dst, err
			}
		}
	}
	return append(dst, '}'), nil
}

// appendField appends one custom member; common scalar kinds skip reflection.
func appendField(dst []byte, name string, v any) ([]byte, error) {
	if reservedField(name) {
		return dst, fmt.Errorf("%w: custom field %q is reserved", ErrInvalidEvent, name)
	}
	dst = append(dst, ',')
	dst = wire.AppendString(dst, name)
	dst = append(dst, ':')
	switch v := v.(type) {
	case string:
		return wire.AppendString(dst, v), nil
	case bool:
		if v {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return dst, fmt.Errorf("%w: custom field %q is not a finite number", ErrInvalidEvent, name)
		}
		return appendFloat(dst, v), nil
	case nil:
		return append(dst, "null"...), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("%w: custom field %q: %v", ErrInvalidEvent, name, err)
	}
	return append(dst, b...), nil
}

// MarshalJSON encodes the event in its wire form.
func (e Custom) MarshalJSON() ([]byte, error) { return marshal(e) }
