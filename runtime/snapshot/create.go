package snapshot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
)

// Options say where Create stores a snapshot.
type Options struct {
	// Bucket receives the snapshot. Required.
	Bucket lake.Bucket
	// Prefix is the folder of every store's snapshots, one or more
	// '/'-separated segments (each as ValidateID demands); "" means
	// DefaultPrefix. A trailing '/' is ignored.
	Prefix string
}

// Result describes a snapshot that Create stored.
type Result struct {
	// Key is the snapshot's object key.
	Key string
	// Collections are the names of the collections in it, sorted.
	Collections []string
	// TotalDocs is the number of documents in it.
	TotalDocs int
	// Timestamp is when it was taken, UTC, to the millisecond. It is a
	// time.Time (not upstream's ISO string) so callers compare and format
	// it without parsing; the body and metadata hold the ISO string.
	Timestamp time.Time
	// Bookmark is the store's bookmark at the snapshot: the snapshot holds
	// every change up to and including it, and none after.
	Bookmark cdc.Bookmark
	// Size is the body's size in bytes.
	Size int64
}

// pageSize is how many documents a read of the store returns at once, and
// how many writes a restore batches: it bounds memory.
const pageSize = 1000

// keyMigrations is this package's table in the store: the last snapshot key
// handed out per snapshot folder, so two snapshots of one store never get
// the same key, even in the same millisecond or when the clock steps back.
var keyMigrations = []string{
	`CREATE TABLE snapshot_keys (dir TEXT PRIMARY KEY NOT NULL, last_name TEXT NOT NULL)`,
}

// Create writes a snapshot of every collection of store to opts.Bucket
// under {prefix}/{id}/{time}.json. The documents are read in one
// transaction, so the snapshot is the state at one bookmark; the store's
// writers wait meanwhile (cdc has no read-only transaction), but not during
// the upload, which reads a temporary file.
//
// Create keeps one table of its own in the store (snapshot_keys, through
// Store.Migrate as component "snapshot"): the last name it gave per folder,
// written in the same transaction, so concurrent snapshots of one store
// never get the same key. It is not a collection: it is neither in
// snapshots nor in the change log.
func Create(ctx context.Context, store *cdc.Store, id string, opts Options) (Result, error) {
	if store == nil || opts.Bucket == nil {
		return Result{}, fmt.Errorf("%w: create: a store and a bucket are required", ErrInvalidOptions)
	}
	if err := ValidateID(id); err != nil {
		return Result{}, err
	}
	prefix, err := cleanPrefix(opts.Prefix)
	if err != nil {
		return Result{}, err
	}
	dir := dirOf(prefix, id)
	if len(dir)+len(formatName(time.Time{}, 1)) > lake.MaxKeyLen {
		return Result{}, fmt.Errorf("%w: key %s… would be longer than %d bytes", ErrInvalidID, quote(dir), lake.MaxKeyLen)
	}
	// The bucket checks the folder by its own rules (a local folder has
	// shorter segments than S3) before the store is read.
	if _, err := opts.Bucket.List(ctx, dir, lake.ListOptions{Limit: 1}); err != nil {
		if errors.Is(err, lake.ErrInvalidKey) {
			return Result{}, fmt.Errorf("%w: %w", ErrInvalidID, err)
		}
		return Result{}, fmt.Errorf("snapshot: create %s: %w", quote(dir), err)
	}
	if err := store.Migrate(ctx, "snapshot", keyMigrations); err != nil {
		return Result{}, fmt.Errorf("snapshot: create: %w", err)
	}

	f, err := os.CreateTemp("", "snapshot-*.json")
	if err != nil {
		return Result{}, fmt.Errorf("snapshot: create: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()

	var res Result
	var name string
	err = updateWithHandles(ctx, store, nil, func(tx *cdc.Tx, names []string, h handles) error {
		if err := rewind(f); err != nil {
			return err
		}
		var err error
		res, name, err = writeBody(ctx, tx, f, id, dir, names, h)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("snapshot: create %s: %w", quote(dir), err)
	}
	size, err := f.Seek(0, 2)
	if err != nil {
		return Result{}, fmt.Errorf("snapshot: create: %w", err)
	}
	res.Size = size

	// Another store under the same id (or a copy of this one) may have used
	// the name: take the next free one rather than overwrite it.
	name, err = freeName(ctx, opts.Bucket, dir, name, res.Timestamp)
	if err != nil {
		return Result{}, fmt.Errorf("snapshot: create: %w", err)
	}
	res.Key = dir + name
	if _, err := f.Seek(0, 0); err != nil {
		return Result{}, fmt.Errorf("snapshot: create: %w", err)
	}
	putOpts := lake.PutOptions{ContentType: ContentType, Metadata: metadata(id, res)}
	if err := opts.Bucket.Put(ctx, res.Key, f, putOpts); err != nil {
		return Result{}, fmt.Errorf("snapshot: create: put %s: %w", quote(res.Key), err)
	}
	return res, nil
}

// rewind empties f for a new attempt.
func rewind(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, 0)
	return err
}

// writeBody reads the store inside tx and writes the body to f. It returns
// the result (without key and size) and the object name it reserved.
func writeBody(ctx context.Context, tx *cdc.Tx, f *os.File, id, dir string, names []string, h handles) (Result, string, error) {
	bm, err := tx.Bookmark(ctx)
	if err != nil {
		return Result{}, "", err
	}
	ts, name, err := reserveName(ctx, tx, dir, bm)
	if err != nil {
		return Result{}, "", err
	}
	w := newBodyWriter(f)
	if err := w.header(id, ts, bm, names); err != nil {
		return Result{}, "", err
	}
	for i, n := range names {
		if err := w.collection(i, n); err != nil {
			return Result{}, "", err
		}
		if err := eachDoc(ctx, h[n].With(tx), w.row); err != nil {
			return Result{}, "", fmt.Errorf("collection %s: %w", n, err)
		}
		if err := w.endCollection(); err != nil {
			return Result{}, "", err
		}
	}
	if err := w.finish(); err != nil {
		return Result{}, "", err
	}
	return Result{Collections: names, TotalDocs: w.docs, Timestamp: ts, Bookmark: bm}, name, nil
}

// eachDoc calls fn for every document of c in id order, a page at a time
// (keyset paging on the primary key: each page costs the same).
func eachDoc(ctx context.Context, c *raw, fn func(id string, doc []byte) error) error {
	var filter cdc.Filter
	for {
		page, err := c.FindEntries(ctx, filter, cdc.FindOptions{Limit: pageSize})
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e.ID, e.Doc); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		filter = cdc.IDField().Gt(page[len(page)-1].ID)
	}
}

// reserveName picks the snapshot's time and object name inside the
// transaction that reads the store, and records it. The time is the latest
// of the clock, the last change's own time and the previous snapshot's, so
// the snapshot holds no change stamped after it and names sort in the order
// snapshots were taken; a name already used gets the next suffix.
func reserveName(ctx context.Context, tx *cdc.Tx, dir string, bm cdc.Bookmark) (time.Time, string, error) {
	ts := time.Now().UTC().Truncate(time.Millisecond)
	if seq, _ := bm.Seq(); seq > 0 {
		last, err := tx.ChangesAfter(ctx, cdc.BookmarkFromSeq(seq-1), 1)
		if err != nil {
			return time.Time{}, "", err
		}
		if len(last) == 1 && last[0].TS.After(ts) {
			ts = last[0].TS
		}
	}
	var lastName string
	err := tx.QueryRowContext(ctx, `SELECT last_name FROM snapshot_keys WHERE dir = ?`, dir).Scan(&lastName)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, "", err
	}
	n := 0
	if lastTS, lastN, ok := parseName(lastName); ok && !lastTS.Before(ts) {
		ts, n = lastTS, lastN+1
	}
	if n > maxSuffix {
		return time.Time{}, "", fmt.Errorf("more than %d snapshots in one millisecond", maxSuffix)
	}
	name := formatName(ts, n)
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO snapshot_keys (dir, last_name) VALUES (?, ?) ON CONFLICT (dir) DO UPDATE SET last_name = excluded.last_name`,
		dir, name); err != nil {
		return time.Time{}, "", err
	}
	return ts, name, nil
}

// freeName returns name, or the next suffix of its millisecond after every
// name of that millisecond already in the bucket.
func freeName(ctx context.Context, b lake.Bucket, dir, name string, ts time.Time) (string, error) {
	stamp := strings.TrimSuffix(formatName(ts, 0), ".json")
	objs, err := lake.ListAll(ctx, b, dir+stamp)
	if err != nil {
		return "", err
	}
	_, n, _ := parseName(name)
	taken := false
	for _, o := range objs {
		_, on, ok := parseName(strings.TrimPrefix(o.Key, dir))
		if !ok {
			continue
		}
		if on == n {
			taken = true
		}
		if on >= n {
			n = on + 1
		}
	}
	if !taken {
		return name, nil
	}
	if n > maxSuffix {
		return "", fmt.Errorf("more than %d snapshots in one millisecond", maxSuffix)
	}
	return formatName(ts, n), nil
}
