package changelog

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/dotdo/events"
)

// Op is the kind of a change.
type Op string

// The three kinds of change.
const (
	OpInsert Op = "insert"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// EventType returns the event type of the change (events.TypeCollectionInsert,
// ...), or "" for a string that is no Op.
func (o Op) EventType() string {
	switch o {
	case OpInsert:
		return events.TypeCollectionInsert
	case OpUpdate:
		return events.TypeCollectionUpdate
	case OpDelete:
		return events.TypeCollectionDelete
	}
	return ""
}

// OpOfEventType is the inverse of Op.EventType: the Op of a change event's
// type, false for any other type.
func OpOfEventType(typ string) (Op, bool) {
	switch typ {
	case events.TypeCollectionInsert:
		return OpInsert, true
	case events.TypeCollectionUpdate:
		return OpUpdate, true
	case events.TypeCollectionDelete:
		return OpDelete, true
	}
	return "", false
}

// Change is one entry of a collection's change log, typed.
type Change[T any] struct {
	// Op says what happened.
	Op Op `json:"op"`
	// Collection names the collection.
	Collection string `json:"collection"`
	// DocID is the document's id.
	DocID string `json:"docId"`
	// Doc is the document after the change (nil for a delete).
	Doc *T `json:"doc,omitempty"`
	// Prev is the document before the change (nil for an insert).
	Prev *T `json:"prev,omitempty"`
	// Bookmark marks the change in the store's log.
	Bookmark Bookmark `json:"bookmark"`
	// TS is when the change was written, in UTC, to the millisecond.
	TS time.Time `json:"ts"`
}

// RawChange is one entry of the change log with its documents as JSON, as
// it is shipped.
type RawChange struct {
	// Op says what happened.
	Op Op `json:"op"`
	// Collection names the collection.
	Collection string `json:"collection"`
	// DocID is the document's id.
	DocID string `json:"docId"`
	// Doc is the document after the change (nil for a delete).
	Doc json.RawMessage `json:"doc,omitempty"`
	// Prev is the document before the change (nil for an insert).
	Prev json.RawMessage `json:"prev,omitempty"`
	// Bookmark marks the change in the store's log.
	Bookmark Bookmark `json:"bookmark"`
	// TS is when the change was written, in UTC, to the millisecond.
	TS time.Time `json:"ts"`
}

// Entry is a document with its id: the unit of bulk writes and of a
// collection's state.
type Entry[T any] struct {
	// ID is the document's id.
	ID string `json:"id"`
	// Doc is the document.
	Doc T `json:"doc"`
}

// DecodeChange types a raw change. Errors match ErrDecode.
func DecodeChange[T any](r RawChange) (Change[T], error) {
	ch := Change[T]{Op: r.Op, Collection: r.Collection, DocID: r.DocID, Bookmark: r.Bookmark, TS: r.TS}
	if r.Doc != nil {
		ch.Doc = new(T)
		if err := json.Unmarshal(r.Doc, ch.Doc); err != nil {
			return ch, fmt.Errorf("%w: change %s of %s/%s: %v", ErrDecode, r.Bookmark, r.Collection, r.DocID, err)
		}
	}
	if r.Prev != nil {
		ch.Prev = new(T)
		if err := json.Unmarshal(r.Prev, ch.Prev); err != nil {
			return ch, fmt.Errorf("%w: change %s of %s/%s: %v", ErrDecode, r.Bookmark, r.Collection, r.DocID, err)
		}
	}
	return ch, nil
}

// ChangeOfEvent returns the change a change event carries: the inverse of
// what emitters and fleets ship, for a consumer of an ingest, a Kafka topic
// or a JetStream stream (decode the bytes with events.DecodeEvent, then
// type the change with DecodeChange). ok is false for an event that is not
// a collection change; a change event with a malformed bookmark, collection
// or document id is an error. The event's store is its DO.ID; its id
// (ev.ID) is what to de-duplicate by.
func ChangeOfEvent(ev events.Event) (r RawChange, ok bool, err error) {
	var c events.CollectionChange
	switch e := ev.(type) {
	case events.CollectionChange:
		c = e
	case *events.CollectionChange:
		if e == nil {
			return RawChange{}, false, nil
		}
		c = *e
	default:
		return RawChange{}, false, nil
	}
	op, isChange := OpOfEventType(c.Type)
	if !isChange {
		return RawChange{}, false, nil
	}
	bm, err := ParseBookmark(c.Bookmark)
	if err != nil {
		return RawChange{}, true, err
	}
	if err := ValidateCollection(c.Collection); err != nil {
		return RawChange{}, true, err
	}
	if err := ValidateID(c.DocID); err != nil {
		return RawChange{}, true, err
	}
	return RawChange{Op: op, Collection: c.Collection, DocID: c.DocID, Doc: c.Doc, Prev: c.Prev, Bookmark: bm, TS: c.TS}, true, nil
}
