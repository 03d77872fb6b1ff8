package snapshot

import (
	"context"
	"github.com/dotdo/events/internal/cdcx"
	"os"
	"slices"

	"github.com/dotdo/events/runtime/cdc"
)

// RestoreResult describes what Restore did.
type RestoreResult struct {
	// Collections are the collections restored, sorted; collections of the
	// store that are not among them were emptied.
	Collections []string
	// TotalDocs is the number of documents the store holds afterwards.
	TotalDocs int
	// Inserted, Updated and Deleted count the documents the restore changed
	// (each one change in the log); identical documents are left alone.
	Inserted, Updated, Deleted int
	// Bookmark is the store's bookmark after the restore: its last change.
	Bookmark cdc.Bookmark
	// Unverified lists what the restore could not check, one sentence
	// each: empty for this package's snapshots; for an upstream snapshot,
	// its missing checksum and bookmark.
	Unverified []string
}

// goal is the state a restore brings the store to: a checked snapshot
// body (or none: empty collections) with an overlay of documents on top.
type goal struct {
	body        *os.File // nil: start from nothing
	collections []string // the body's collections
	overlay     map[string][]overlayEntry
	// advance, when set, is the number the store's bookmark is moved to
	// (cdc.Tx.AdvanceBookmark) before any write: a restore into a store
	// behind the chain it restores from.
	advance cdc.Bookmark
	// retract are documents the chain's last state holds: each one the
	// restored state lacks gets a logged delete (cdc.Tx.AppendChange), so
	// the log continues the chain.
	retract []retraction
}

// names returns the collections of the target state, sorted.
func (t goal) names() []string {
	names := slices.Clone(t.collections)
	for c := range t.overlay {
		names = append(names, c)
	}
	for _, r := range t.retract {
		names = append(names, r.coll)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// apply brings store to t in one transaction. Collections the target needs
// and the store lacks are created first, outside it: cdc cannot create a
// usable collection inside a transaction. If the transaction then fails they
// stay, empty, and nothing else changes. It also returns how many deletes of
// t.retract it logged.
func apply(ctx context.Context, store *cdc.Store, t goal) (RestoreResult, int, error) {
	want := t.names()
	var (
		res       RestoreResult
		retracted int
	)
	err := updateWithHandles(ctx, store, want, func(tx *cdc.Tx, names []string, h handles) error {
		retracted = 0
		if t.advance != "" {
			// First, so that every write below is numbered after the
			// chain the store continues.
			if err := cdcx.Tx(tx).AdvanceBookmark(ctx, t.advance); err != nil {
				return err
			}
		}
		var n counts
		done := map[string]bool{}
		var m *merger
		if t.body != nil {
			v := visitor{
				begin: func(c string) error {
					done[c] = true
					m = newMerger(ctx, h[c].With(tx), t.overlay[c], &n)
					return nil
				},
				row: func(id string, doc []byte) error { return m.push(id, doc) },
				end: func(string) error { return m.finish() },
			}
			if _, err := readBody(t.body, v, false); err != nil {
				return err
			}
		}
		// Then the overlay's collections the body lacks, and last every
		// other collection of the store, which the target has empty.
		for _, c := range slices.Concat(want, names) {
			if done[c] {
				continue
			}
			done[c] = true
			if err := newMerger(ctx, h[c].With(tx), t.overlay[c], &n).finish(); err != nil {
				return err
			}
		}
		// The store physically lacks the chain's later documents, so no
		// write above deleted them: log their deletes by hand, or a replay
		// of the chain through this restore would bring them back.
		for _, r := range t.retract {
			has, err := h[r.coll].With(tx).Has(ctx, r.id)
			if err != nil {
				return err
			}
			if has {
				continue
			}
			if _, err := cdcx.Tx(tx).AppendChange(ctx, cdc.RawChange{Op: cdc.OpDelete, Collection: r.coll, DocID: r.id, Prev: r.prev}); err != nil {
				return err
			}
			retracted++
		}
		bm, err := cdcx.Tx(tx).Bookmark(ctx)
		if err != nil {
			return err
		}
		res = RestoreResult{
			Collections: want,
			TotalDocs:   n.docs,
			Inserted:    n.inserted,
			Updated:     n.updated,
			Deleted:     n.deleted,
			Bookmark:    bm,
		}
		return nil
	})
	if err != nil {
		return RestoreResult{}, 0, err
	}
	return res, retracted, nil
}
