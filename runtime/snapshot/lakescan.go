package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/lake"
)

// lakeScan reads a store's change events from the lake into a chain, as
// lake.Events yields them: hour by hour from start on, or, without a start,
// the whole lake. step reads one folder's worth at a time (the whole lake
// without a start), so a restore stops reading once its chain is complete.
type lakeScan struct {
	id      string
	next    func() (lake.Event, error, bool)
	stop    func()
	pending *lake.Event // the first event of the next folder
	whole   bool        // no start: read everything in one step
	done    bool
	events  int // change events read into the chain
	skipped int // change-typed events not shipped by the store (see trustedChange)
}

func newLakeScan(ctx context.Context, b lake.Bucket, id string, start, end time.Time) *lakeScan {
	sel := lake.Selection{Store: id, To: end}
	if !start.IsZero() {
		sel.From = start
	} else {
		sel.To = time.Time{} // the whole lake, in one listing
	}
	next, stop := iter.Pull2(lake.Events(ctx, b, sel))
	return &lakeScan{id: id, next: next, stop: stop, whole: start.IsZero()}
}

// more reports whether step has anything left to read.
func (s *lakeScan) more() bool { return !s.done }

// close releases the scan; it is safe to call more than once.
func (s *lakeScan) close() {
	s.done = true
	s.stop()
}

// step reads the events of the next folder into c.
func (s *lakeScan) step(ctx context.Context, c *chain) error {
	dir := ""
	for !s.done {
		var ev lake.Event
		if s.pending != nil {
			ev, s.pending = *s.pending, nil
		} else {
			e, err, ok := s.next()
			if !ok {
				s.close()
				return nil
			}
			if err != nil {
				s.close()
				if errors.Is(err, lake.ErrCorrupt) {
					return fmt.Errorf("%w: %w", ErrCorrupt, err)
				}
				return fmt.Errorf("snapshot: read the lake: %w", err)
			}
			ev = e
		}
		d := path.Dir(ev.Key)
		if !s.whole && dir != "" && d != dir {
			s.pending = &ev
			return nil
		}
		dir = d
		ch, err := s.parse(ev)
		if err != nil {
			s.close()
			return fmt.Errorf("%w: %s line %d: %v", ErrCorrupt, quote(ev.Key), ev.Line, err)
		}
		if ch != nil {
			s.events++
			if err := c.add(ch, ev.Key); err != nil {
				s.close()
				return err
			}
		}
	}
	return nil
}

// lakeChange is what a restore needs of a change event's line.
type lakeChange struct {
	Collection string          `json:"collection"`
	DocID      string          `json:"docId"`
	Doc        json.RawMessage `json:"doc"`
	Bookmark   string          `json:"bookmark"`
}

// parse returns the change an event holds, or nil for an event that is not
// a change the store shipped (see trustedChange).
func (s *lakeScan) parse(ev lake.Event) (*change, error) {
	op, ok := changelog.OpOfEventType(ev.Type)
	if !ok {
		return nil, nil
	}
	var lc lakeChange
	if err := json.Unmarshal(ev.JSON, &lc); err != nil {
		return nil, err
	}
	seq, trusted, err := trustedChange(ev.ID, lc.Bookmark)
	if err != nil {
		return nil, err
	}
	if !trusted {
		s.skipped++
		return nil, nil
	}
	ch := &change{seq: seq, ts: ev.TS, op: op, coll: lc.Collection, id: lc.DocID}
	if err := changelog.ValidateCollection(ch.coll); err != nil {
		return nil, err
	}
	if err := changelog.ValidateID(ch.id); err != nil {
		return nil, err
	}
	if op != changelog.OpDelete {
		if len(lc.Doc) == 0 || string(lc.Doc) == "null" {
			return nil, fmt.Errorf("%s of %s/%s has no doc", ev.Type, ch.coll, quote(ch.id))
		}
		ch.doc = lc.Doc
	}
	return ch, nil
}

// trustedChange reports whether a change-typed event with this id and
// bookmark is a change its store shipped from its change log, and its
// change number; the error is a malformed bookmark of a trusted id. This module's emitter gives every change it ships the id
// "{emitter id}-c{n}", n the number of its bookmark; custom events get
// "{emitter id}-e{n}" or the id their author chose. So an event of type
// collection.insert, collection.update or collection.delete counts as a
// change only when its id ends in "-c" and its bookmark's number: anything
// else (a custom event typed like a change, by this module before it
// refused those or by another writer; a change event emitted by hand
// without a bookmark) is skipped and counted in PITRResult.Skipped.
func trustedChange(id, bookmark string) (int64, bool, error) {
	i := strings.LastIndex(id, "-c")
	if i < 1 || bookmark == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(id[i+2:], 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != id[i+2:] {
		return 0, false, nil
	}
	seq, err := changelog.Bookmark(bookmark).Seq()
	if err != nil {
		return 0, false, err
	}
	return seq, seq == n, nil
}
