package snapshot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

// change is one change of a store's chain, from the lake or the store's log.
type change struct {
	seq  int64
	ts   time.Time
	op   cdc.Op
	coll string
	id   string
	doc  json.RawMessage // nil for a delete
	log  bool            // from the store's change log (else from the lake)
	// marker: a change after a time target, kept without its content.
	marker bool
}

// chain holds the changes of a store found so far, by change number, within
// (from, upto] (upto 0: no upper bound).
type chain struct {
	from, upto int64
	// until, for a time target, is the time: a change stamped after it is
	// kept only as a marker (no document), since it only says where the
	// replay stops.
	until   time.Time
	changes map[int64]*change
	maxSeen int64 // the highest change number seen in any source
	// latest is, per document, the newest change after from seen in any
	// source, also past the target: what the store id last held of each
	// document it changed, which a restore into a store behind the chain
	// needs (see retractions).
	latest map[docRef]*change
}

// docRef names a document of a store.
type docRef struct{ coll, id string }

func newChain(from, upto int64, until time.Time) *chain {
	return &chain{from: from, upto: upto, until: until, changes: map[int64]*change{}, latest: map[docRef]*change{}}
}

// wants reports whether change number seq is in the chain's range.
func (c *chain) wants(seq int64) bool {
	return seq > c.from && (c.upto == 0 || seq <= c.upto)
}

// add records ch. The same change found twice (an event written by two
// batches, or in the lake and in the log) counts once; two different changes
// under one number mean two stores wrote under one id: ErrConflict.
func (c *chain) add(ch *change, where string) error {
	c.maxSeen = max(c.maxSeen, ch.seq)
	if ch.seq > c.from {
		ref := docRef{ch.coll, ch.id}
		if old, ok := c.latest[ref]; !ok || old.seq < ch.seq {
			c.latest[ref] = ch
		}
	}
	if !c.wants(ch.seq) {
		return nil
	}
	if !c.until.IsZero() && ch.ts.After(c.until) {
		ch = &change{seq: ch.seq, ts: ch.ts, log: ch.log, marker: true}
	}
	old, ok := c.changes[ch.seq]
	if !ok {
		c.changes[ch.seq] = ch
		return nil
	}
	if old.marker || ch.marker {
		return nil
	}
	if old.op != ch.op || old.coll != ch.coll || old.id != ch.id || (old.doc == nil) != (ch.doc == nil) ||
		(old.doc != nil && !equalJSON(old.doc, ch.doc)) {
		return fmt.Errorf("%w: two different changes under bookmark %s (%s %s/%s and %s %s/%s, the latter in %s): did two stores write under one id?",
			ErrConflict, changelog.BookmarkFromSeq(ch.seq), old.op, old.coll, quote(old.id), ch.op, ch.coll, quote(ch.id), where)
	}
	if ch.log && !old.log {
		c.changes[ch.seq] = ch
	}
	return nil
}

// overlay is the net effect of replayed changes: per collection, per id,
// the last document (nil: deleted).
type overlay map[string]map[string]json.RawMessage

func (o overlay) apply(ch *change) {
	m := o[ch.coll]
	if m == nil {
		m = map[string]json.RawMessage{}
		o[ch.coll] = m
	}
	if ch.op == cdc.OpDelete {
		m[ch.id] = nil
		return
	}
	m[ch.id] = ch.doc
}

// sorted returns the overlay as id-ordered entries per collection.
func (o overlay) sorted() map[string][]overlayEntry {
	out := make(map[string][]overlayEntry, len(o))
	for coll, m := range o {
		entries := make([]overlayEntry, 0, len(m))
		for id, doc := range m {
			entries = append(entries, overlayEntry{id: id, doc: doc})
		}
		sortEntries(entries)
		out[coll] = entries
	}
	return out
}

// retraction is a document the store id held at the end of its chain that
// the restored state lacks: a restore into a store behind the chain logs its
// delete (see RestoreTo).
type retraction struct {
	coll, id string
	prev     json.RawMessage // the document as the chain last had it
}

// retractions returns the documents whose newest change in the chain is
// after reached and left them present: the chain's last state has them, the
// state at reached may not. Sorted by collection and id.
func (c *chain) retractions(reached int64) []retraction {
	var out []retraction
	for ref, ch := range c.latest {
		if ch.seq > reached && ch.op != cdc.OpDelete && ch.doc != nil {
			out = append(out, retraction{coll: ref.coll, id: ref.id, prev: ch.doc})
		}
	}
	slices.SortFunc(out, func(a, b retraction) int {
		if n := strings.Compare(a.coll, b.coll); n != 0 {
			return n
		}
		return strings.Compare(a.id, b.id)
	})
	return out
}
