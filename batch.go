package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dotdo/events/internal/wire"
)

// MaxBatchEvents is the most events one batch may hold: what the ingest accepts.
const MaxBatchEvents = 1000

// Batch is the body POSTed to an ingest endpoint: {"events":[...],"batchId":...}.
type Batch struct {
	// Events are the batch's events, in order.
	Events []Event
	// BatchID, when set, lets the ingest recognise a re-sent batch.
	BatchID string
}

// MarshalJSON encodes the batch body. Every event must validate.
func (b Batch) MarshalJSON() ([]byte, error) {
	raw := make([][]byte, 0, len(b.Events))
	for i, ev := range b.Events {
		if err := ev.Validate(Envelope{}); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		enc, err := ev.AppendJSON(nil, Envelope{})
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		raw = append(raw, enc)
	}
	return wire.AppendBatch(nil, b.BatchID, raw), nil
}

// DecodeBatch decodes a batch body.
func DecodeBatch(data []byte) (Batch, error) {
	var body struct {
		Events  []json.RawMessage `json:"events"`
		BatchID string            `json:"batchId"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return Batch{}, fmt.Errorf("%w: batch: %v", ErrInvalidEvent, err)
	}
	b := Batch{BatchID: body.BatchID, Events: make([]Event, 0, len(body.Events))}
	for i, raw := range body.Events {
		ev, err := DecodeEvent(raw)
		if err != nil {
			return Batch{}, fmt.Errorf("event %d: %w", i, err)
		}
		b.Events = append(b.Events, ev)
	}
	return b, nil
}

// DecodeEvent decodes one event, choosing its struct by "type": the kinds of
// this package for their types, Custom for any other. Times come back in UTC.
func DecodeEvent(data []byte) (Event, error) {
	var head struct {
		Type string `json:"type"`
		TS   string `json:"ts"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if !wire.ValidType(head.Type) {
		return nil, fmt.Errorf("%w: type %q must be 1-%d characters of [a-zA-Z0-9._-]", ErrInvalidEvent, head.Type, wire.MaxTypeLen)
	}
	ts, err := wire.ParseTime(head.TS)
	if err != nil {
		return nil, err
	}
	var ev Event
	switch {
	case head.Type == TypeRPCCall:
		var e RPCCall
		err = json.Unmarshal(data, &e)
		e.TS = ts
		ev = e
	case strings.HasPrefix(head.Type, "collection."):
		var e CollectionChange
		err = json.Unmarshal(data, &e)
		e.TS = ts
		ev = e
	case head.Type == TypeDOCreate || head.Type == TypeDOAlarm || head.Type == TypeDOHibernate || head.Type == TypeDOEvict:
		var e Lifecycle
		err = json.Unmarshal(data, &e)
		e.TS = ts
		ev = e
	case strings.HasPrefix(head.Type, "ws."):
		var e WebSocket
		err = json.Unmarshal(data, &e)
		e.TS = ts
		ev = e
	case head.Type == TypePage || head.Type == TypeTrack || head.Type == TypeIdentify:
		var e Client
		err = json.Unmarshal(data, &e)
		e.TS = ts
		ev = e
	default:
		ev, err = decodeCustom(data, ts)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidEvent, head.Type, err)
	}
	if err := ev.Validate(Envelope{}); err != nil {
		return nil, err
	}
	return ev, nil
}

// decodeCustom decodes an event of a type this package has no struct for.
func decodeCustom(data []byte, ts time.Time) (Event, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	e := Custom{Type: m["type"].(string), TS: ts}
	if rawDO, ok := m["do"]; ok {
		b, _ := json.Marshal(rawDO)
		if err := json.Unmarshal(b, &e.DO); err != nil {
			return nil, fmt.Errorf("do: %v", err)
		}
	}
	if id, ok := m["id"].(string); ok {
		e.ID = id
	}
	for _, k := range []string{"type", "ts", "do", "id"} {
		delete(m, k)
	}
	if len(m) > 0 {
		e.Fields = m
	}
	return e, nil
}
