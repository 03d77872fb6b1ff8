package snapshot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/dotdo/events/internal/cdcx"
	"os"
	"strings"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/lake"
)

// Options say where Create stores a snapshot.
type Options struct {
	// Bucket receives the snapshot. Required.
	Bucket lake.Bucket
	// Prefix is the folder of every store's snapshots, one or more
	// '/'-separated segments (each a valid store id of at most 250 bytes); "" means
	// "snapshots". A trailing '/' is ignored.
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
// under {prefix}/{id}/{time}.json. The documents are read in one read-only
// transaction (Store.View), so the snapshot is the state at one bookmark
// while the store's writers go on; the upload reads a temporary file.
//
// Create keeps one table of its own in the store (snapshot_keys, through
// Store.Migrate as component "snapshot"): per folder, the last name it gave
// and the bookmark of that snapshot, so concurrent snapshots of one store
// never get the same key and names sort in bookmark order. It is not a
// collection: it is neither in snapshots nor in the change log.
//
// The name is reserved in a short write transaction taken while the read
// transaction is open, from the state that transaction sees (see
// reserveName). A store opened on ":memory:" has no separate read
// connection, so there Create reads and reserves in one write transaction,
// holding the writers meanwhile, as it does when concurrent snapshots keep
// overtaking it (maxBehindRetries).
func Create(ctx context.Context, store *cdc.Store, id string, opts Options) (Result, error) {
	if store == nil || opts.Bucket == nil {
		return Result{}, fmt.Errorf("%w: create: a store and a bucket are required", ErrInvalidOptions)
	}
	if err := validateID(id); err != nil {
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
	if err := cdcx.Store(store).Migrate(ctx, "snapshot", keyMigrations); err != nil {
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
	read := func(tx *cdc.Tx, names []string, h handles, reserve reserveFunc) error {
		if err := rewind(f); err != nil {
			return err
		}
		var err error
		res, name, err = writeBody(ctx, tx, f, id, names, h, reserve)
		return err
	}
	// inUpdate reads and reserves in one write transaction.
	inUpdate := func() error {
		return updateWithHandles(ctx, store, nil, func(tx *cdc.Tx, names []string, h handles) error {
			return read(tx, names, h, func(bm cdc.Bookmark, last time.Time) (time.Time, string, error) {
				return reserveName(ctx, tx, dir, bm, last, false)
			})
		})
	}
	if cdcx.Store(store).OneConnection() {
		// The read pool is the writer's one connection (":memory:", a
		// fleet's store): a write transaction cannot start while a View holds it.
		err = inUpdate()
	} else {
		for attempt := 0; ; attempt++ {
			err = viewWithHandles(ctx, store, func(tx *cdc.Tx, names []string, h handles) error {
				return read(tx, names, h, func(bm cdc.Bookmark, last time.Time) (time.Time, string, error) {
					// A short write transaction while the View stays
					// open (WAL): it records the name at once, and
					// the View goes on reading the state at bm.
					var ts time.Time
					var name string
					err := store.Update(ctx, func(wtx *cdc.Tx) error {
						var err error
						ts, name, err = reserveName(ctx, wtx, dir, bm, last, true)
						return err
					})
					return ts, name, err
				})
			})
			if !errors.Is(err, errBehind) {
				break
			}
			if attempt+1 >= maxBehindRetries {
				err = inUpdate()
				break
			}
		}
	}
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
	putOpts := lake.PutOptions{ContentType: contentType, Metadata: metadata(id, res)}
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

// reserveFunc reserves the name of a snapshot at bm whose last change was
// written at last (zero when there is none): see reserveName.
type reserveFunc func(bm cdc.Bookmark, last time.Time) (time.Time, string, error)

// testHookStreaming, when set (by tests only), is called by writeBody once
// the name is reserved and the header written, before the first row: the
// moment the store is being read.
var testHookStreaming func()

// writeBody reads the store inside tx and writes the body to f, with the
// name and time reserve gives for the state tx sees. It returns the result
// (without key and size) and the object name.
func writeBody(ctx context.Context, tx *cdc.Tx, f *os.File, id string, names []string, h handles, reserve reserveFunc) (Result, string, error) {
	bm, err := cdcx.Tx(tx).Bookmark(ctx)
	if err != nil {
		return Result{}, "", err
	}
	last, err := lastChangeTime(ctx, tx, bm)
	if err != nil {
		return Result{}, "", err
	}
	ts, name, err := reserve(bm, last)
	if err != nil {
		return Result{}, "", err
	}
	w := newBodyWriter(f)
	if err := w.header(id, ts, bm, names); err != nil {
		return Result{}, "", err
	}
	if testHookStreaming != nil {
		testHookStreaming()
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
		filter = cdcx.IDField().Gt(page[len(page)-1].ID)
	}
}

// errBehind is returned by reserveName when a snapshot at a later bookmark
// got its name since the state being reserved for was read: the caller
// reads a newer state and tries again.
var errBehind = errors.New("snapshot: a later snapshot was named meanwhile")

// maxBehindRetries bounds the reads Create retries on errBehind before it
// reads in the write transaction, where no snapshot can overtake it.
const maxBehindRetries = 3

// lastChangeTime returns the time of the change at bm as tx sees it, or the
// zero time when there is none.
func lastChangeTime(ctx context.Context, tx *cdc.Tx, bm cdc.Bookmark) (time.Time, error) {
	seq, _ := bm.Seq()
	if seq <= 0 {
		return time.Time{}, nil
	}
	last, err := cdcx.Tx(tx).ChangesAfter(ctx, changelog.BookmarkFromSeq(seq-1), 1)
	if err != nil {
		return time.Time{}, err
	}
	if len(last) == 1 {
		return last[0].TS, nil
	}
	return time.Time{}, nil
}

// bookmarkRow is the snapshot_keys row that holds, as its last_name, the
// bookmark of the snapshot last named in dir. It is no folder's row: a
// folder always ends with '/'.
func bookmarkRow(dir string) string { return dir + "#bookmark" }

// reserveName picks the time and object name of the snapshot of the state
// at bm, whose last change was written at last, in the write transaction
// tx, and records them (with bm). The time is the latest of the clock, the
// last change's own time and the previous snapshot's, so the snapshot holds
// no change stamped after it and names sort in the order snapshots were
// taken; a name already used gets the next suffix.
//
// readElsewhere says the state at bm was read by another transaction,
// still open (a View), not by tx: the clock is then read later than the
// state, which only moves the time forward, and if a snapshot at a later
// bookmark was named in between, reserveName returns errBehind, so names
// also sort in bookmark order. When tx read the state itself, bm is the
// newest state and nothing can be behind it.
func reserveName(ctx context.Context, tx *cdc.Tx, dir string, bm cdc.Bookmark, last time.Time, readElsewhere bool) (time.Time, string, error) {
	ts := time.Now().UTC().Truncate(time.Millisecond)
	if last.After(ts) {
		ts = last
	}
	lastName, err := keyRow(ctx, tx, dir)
	if err != nil {
		return time.Time{}, "", err
	}
	if readElsewhere {
		lastBM, err := keyRow(ctx, tx, bookmarkRow(dir))
		if err != nil {
			return time.Time{}, "", err
		}
		prevSeq, _ := cdc.Bookmark(lastBM).Seq() // 0 when unset
		if seq, _ := bm.Seq(); seq < prevSeq {
			return time.Time{}, "", errBehind
		}
	}
	n := 0
	if lastTS, lastN, ok := parseName(lastName); ok && !lastTS.Before(ts) {
		ts, n = lastTS, lastN+1
	}
	if n > maxSuffix {
		return time.Time{}, "", fmt.Errorf("more than %d snapshots in one millisecond", maxSuffix)
	}
	name := formatName(ts, n)
	for _, row := range [][2]string{{dir, name}, {bookmarkRow(dir), string(bm)}} {
		if _, err := cdcx.Tx(tx).ExecContext(ctx,
			`INSERT INTO snapshot_keys (dir, last_name) VALUES (?, ?) ON CONFLICT (dir) DO UPDATE SET last_name = excluded.last_name`,
			row[0], row[1]); err != nil {
			return time.Time{}, "", err
		}
	}
	return ts, name, nil
}

// keyRow returns the last_name of the snapshot_keys row key, or "".
func keyRow(ctx context.Context, tx *cdc.Tx, key string) (string, error) {
	var v string
	err := cdcx.Tx(tx).QueryRowContext(ctx, `SELECT last_name FROM snapshot_keys WHERE dir = ?`, key).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	return v, nil
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
