package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
)

// Restore brings every collection of store to the snapshot at key, in one
// transaction: documents written since are deleted, changed documents are
// put back, and collections the snapshot lacks are emptied. Only the
// differences are written, each as an ordinary change with a new bookmark,
// so CDC consumers follow and bookmarks keep going forward.
//
// The snapshot is downloaded to a temporary file and checked in full
// (structure, ids, id order, counts, checksum) before the transaction: a
// missing snapshot (ErrNotFound), a cut, changed or malformed one
// (ErrCorrupt) or one of another layout version (ErrVersion) leaves the
// store untouched.
//
// A body written by the upstream library's createSnapshot (doId,
// timestamp, collections, totalDocs, data; no version, bookmark or sha256)
// is restored too, with every check its layout allows (structure, ids,
// repeated ids, counts); its rows need not be sorted (it is read into memory
// once to sort them). RestoreResult.Unverified then says what could not be
// checked: it has no checksum and no bookmark. RestoreTo does not start
// from such a snapshot (without a bookmark it cannot chain changes on it).
func Restore(ctx context.Context, store *cdc.Store, bucket lake.Bucket, key string) (RestoreResult, error) {
	if store == nil || bucket == nil {
		return RestoreResult{}, fmt.Errorf("%w: restore: a store and a bucket are required", ErrInvalidOptions)
	}
	kp, err := parseKey(key)
	if err != nil {
		return RestoreResult{}, err
	}
	f, h, err := fetch(ctx, bucket, key, kp.id)
	if err != nil {
		return RestoreResult{}, err
	}
	defer discard(f)
	res, _, err := apply(ctx, store, goal{body: f, collections: h.collections})
	if err != nil {
		return RestoreResult{}, fmt.Errorf("snapshot: restore %s: %w", quote(key), err)
	}
	if h.upstream {
		res.Unverified = slices.Clone(upstreamUnverified)
	}
	return res, nil
}

// fetch downloads the snapshot at key to a temporary file and checks it in
// full; the caller discards the file.
func fetch(ctx context.Context, bucket lake.Bucket, key, id string) (*os.File, header, error) {
	obj, err := bucket.Get(ctx, key)
	if err != nil {
		if errors.Is(err, lake.ErrNotFound) {
			return nil, header{}, fmt.Errorf("%w: %s: %w", ErrNotFound, quote(key), err)
		}
		return nil, header{}, fmt.Errorf("snapshot: get %s: %w", quote(key), err)
	}
	defer obj.Body.Close()
	f, err := os.CreateTemp("", "snapshot-*.json")
	if err != nil {
		return nil, header{}, fmt.Errorf("snapshot: %w", err)
	}
	if _, err := io.Copy(f, obj.Body); err != nil {
		discard(f)
		return nil, header{}, fmt.Errorf("snapshot: get %s: %w", quote(key), err)
	}
	h, err := readBody(f, visitor{}, true)
	if err != nil {
		up, uerr := isUpstream(f)
		if uerr != nil || !up {
			discard(f)
			return nil, header{}, fmt.Errorf("snapshot %s: %w", quote(key), err)
		}
		// The upstream library's body: checked and converted.
		conv, ch, cerr := convertUpstream(f)
		discard(f)
		if cerr != nil {
			return nil, header{}, fmt.Errorf("snapshot %s: %w", quote(key), cerr)
		}
		f, h = conv, ch
		h.upstream = true
	}
	if idSegment(h.id) != idSegment(id) {
		discard(f)
		return nil, header{}, fmt.Errorf("%w: snapshot %s: the body is a snapshot of %s, not %s", ErrCorrupt, quote(key), quote(h.id), quote(id))
	}
	return f, h, nil
}

// discard closes and removes a temporary file.
func discard(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}
