package snapshot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dotdo/events/runtime/lake"
)

// ListOptions shape List's result.
type ListOptions struct {
	// Limit is the most snapshots returned (the newest); 0 means all.
	Limit int
	// Prefix is the folder of every store's snapshots, as in Options.
	Prefix string
}

// Info describes a listed snapshot.
type Info struct {
	// Key is the snapshot's object key (for Restore and Delete).
	Key string
	// ID is the store id.
	ID string
	// Timestamp is when the snapshot was taken (from its key), UTC.
	Timestamp time.Time
	// Size is the body's size in bytes.
	Size int64
	// LastModified is when the bucket stored it.
	LastModified time.Time
}

// List returns the snapshots of store id, newest first: at most
// opts.Limit of them, or all. It pages through the whole folder (a bucket
// lists in ascending order only), so it sees past 1000 objects; objects in
// the folder that are not snapshots are skipped, and the snapshots of
// another id never show (the folder ends with '/').
func List(ctx context.Context, bucket lake.Bucket, id string, opts ListOptions) ([]Info, error) {
	if bucket == nil {
		return nil, fmt.Errorf("%w: list: a bucket is required", ErrInvalidOptions)
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("%w: list: negative limit %d", ErrInvalidOptions, opts.Limit)
	}
	if err := validateID(id); err != nil {
		return nil, err
	}
	prefix, err := cleanPrefix(opts.Prefix)
	if err != nil {
		return nil, err
	}
	dir := dirOf(prefix, id)
	objs, err := lake.ListAll(ctx, bucket, dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot: list %s: %w", quote(dir), err)
	}
	var out []Info
	for _, o := range objs {
		name := strings.TrimPrefix(o.Key, dir)
		ts, _, ok := parseName(name)
		if !ok {
			continue
		}
		out = append(out, Info{Key: o.Key, ID: id, Timestamp: ts, Size: o.Size, LastModified: o.LastModified})
	}
	slices.Reverse(out) // keys sort in the order snapshots were taken
	if opts.Limit > 0 && len(out) > opts.Limit {
		out = out[:opts.Limit]
	}
	return out, nil
}

// Delete removes the snapshot at key. key must name a snapshot
// ({prefix}/{id}/{time}.json, as Create makes them): any other key is an
// error matching ErrInvalidID and nothing is deleted. Deleting a snapshot
// that does not exist is not an error, as in the bucket.
func Delete(ctx context.Context, bucket lake.Bucket, key string) error {
	if bucket == nil {
		return fmt.Errorf("%w: delete: a bucket is required", ErrInvalidOptions)
	}
	if _, err := parseKey(key); err != nil {
		return err
	}
	if err := bucket.Delete(ctx, key); err != nil {
		return fmt.Errorf("snapshot: delete %s: %w", quote(key), err)
	}
	return nil
}
