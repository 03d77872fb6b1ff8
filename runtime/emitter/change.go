package emitter

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dotdo/events/internal/cdcx"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
)

// EmitChange records a change of data kept outside the store's collections
// (manual CDC): it appends a row to the store's change log, so the change
// gets a bookmark, is durable when EmitChange returns, and is shipped like
// every collection change (as collection.insert, .update or .delete). doc is
// the document after the change (insert, update), prev the one before
// (update, delete; sent only with TrackPrevious); each is encoded with
// encoding/json (a json.RawMessage or []byte of JSON is taken as is) and may
// be nil. It needs Options.CDC (else ErrCDCDisabled); a bad op, collection
// name or document id gives an error matching events.ErrInvalidEvent.
func (e *Emitter) EmitChange(ctx context.Context, op cdc.Op, collection, docID string, doc, prev any) error {
	if !e.cfg.CDC {
		return ErrCDCDisabled
	}
	if e.isClosed() {
		return ErrClosed
	}
	if op != cdc.OpInsert && op != cdc.OpUpdate && op != cdc.OpDelete {
		return fmt.Errorf("%w: change op %q is not insert, update or delete", events.ErrInvalidEvent, op)
	}
	if err := cdc.ValidateCollection(collection); err != nil {
		return fmt.Errorf("%w: %w", events.ErrInvalidEvent, err)
	}
	if err := cdc.ValidateID(docID); err != nil {
		return fmt.Errorf("%w: %w", events.ErrInvalidEvent, err)
	}
	docJSON, err := changeJSON("doc", doc)
	if err != nil {
		return err
	}
	prevJSON, err := changeJSON("prev", prev)
	if err != nil {
		return err
	}
	err = e.store.Update(ctx, func(tx *cdc.Tx) error {
		_, err := cdcx.Tx(tx).AppendChange(ctx, cdc.RawChange{Op: op, Collection: collection, DocID: docID,
			Doc: docJSON, Prev: prevJSON, TS: e.cfg.Now()})
		return err
	})
	if err != nil {
		return fmt.Errorf("emitter: emit change %s %s/%s: %w", op, collection, docID, err)
	}
	return nil
}

// changeJSON encodes a document for the change log; nil stays NULL.
func changeJSON(name string, v any) (json.RawMessage, error) {
	var b []byte
	switch v := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		b = v
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("%w: change %s: %v", events.ErrInvalidEvent, name, err)
		}
	}
	if len(b) == 0 {
		return nil, nil
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%w: change %s is not valid JSON", events.ErrInvalidEvent, name)
	}
	return b, nil
}
