package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dotdo/events/internal/cdcx"

	"github.com/dotdo/events/runtime/cdc"
)

// raw is the untyped collection every read and write here goes through:
// documents stay the JSON the store holds, and writes go through the
// collection (so the change log records them like any other write).
type raw = cdc.Collection[json.RawMessage]

// handles are the untyped collections of a store, by name. cdc.NewCollection
// cannot run inside Store.Update (it needs the writer connection), so they
// are opened before the transaction that uses them.
type handles map[string]*raw

// open adds the collections names to h, creating any that does not exist.
func (h handles) open(store *cdc.Store, names []string) error {
	for _, n := range names {
		if _, ok := h[n]; ok {
			continue
		}
		c, err := cdc.NewCollection[json.RawMessage](store, n)
		if err != nil {
			return fmt.Errorf("snapshot: open collection %s: %w", n, err)
		}
		h[n] = c
	}
	return nil
}

// errStale is returned from inside a transaction that sees a collection
// created after its handles were opened: the caller opens it and retries.
var errStale = errors.New("snapshot: a collection appeared during the transaction")

// maxStaleRetries bounds the retries on errStale.
const maxStaleRetries = 5

// check returns the collections tx sees, or errStale when one has no handle.
func (h handles) check(ctx context.Context, tx *cdc.Tx) ([]string, error) {
	names, err := cdcx.Tx(tx).Collections(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	for _, n := range names {
		if _, ok := h[n]; !ok {
			return names, errStale
		}
	}
	return names, nil
}

// updateWithHandles runs fn in a write transaction with a handle for every
// collection of the store (and for extra, created first), retrying when a
// collection appears concurrently.
func updateWithHandles(ctx context.Context, store *cdc.Store, extra []string, fn func(tx *cdc.Tx, names []string, h handles) error) error {
	return withHandles(ctx, store, store.Update, extra, fn)
}

// viewWithHandles is updateWithHandles in a read-only transaction
// (Store.View): the store's writers are not held up while fn runs.
func viewWithHandles(ctx context.Context, store *cdc.Store, fn func(tx *cdc.Tx, names []string, h handles) error) error {
	return withHandles(ctx, store, store.View, nil, fn)
}

// withHandles runs fn in a transaction begun by begin (Store.Update or
// Store.View) with a handle for every collection of the store (and for
// extra, created first), retrying when a collection appears concurrently.
func withHandles(ctx context.Context, store *cdc.Store, begin func(context.Context, func(*cdc.Tx) error) error, extra []string, fn func(tx *cdc.Tx, names []string, h handles) error) error {
	h := handles{}
	if err := h.open(store, extra); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		names, err := cdcx.Store(store).Collections(ctx)
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if err := h.open(store, names); err != nil {
			return err
		}
		err = begin(ctx, func(tx *cdc.Tx) error {
			names, err := h.check(ctx, tx)
			if err != nil {
				return err
			}
			return fn(tx, names, h)
		})
		if !errors.Is(err, errStale) || attempt >= maxStaleRetries {
			return err
		}
	}
}
