package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/snapshot"
)

const snapshotUsage = `Usage: events snapshot -store FILE -id ID -lake DIR|s3://BUCKET|r2://BUCKET [-prefix P]

Writes a snapshot of every collection of the store file to the lake, under
{prefix}/{id}/{time}.json, and prints its key, bookmark and size as JSON.
It takes the store's holder lock: while an emitter, a fleet or another
events command delivers the store, it exits with code 3.

` + lakeHelp

const restoreUsage = `Usage: events restore -store FILE -id ID -lake DIR|s3://BUCKET|r2://BUCKET [-bookmark B | -time T | -key K]

Restores the store file (created when missing) from the lake:
  (no target)  the latest snapshot of ID
  -key K       that snapshot
  -bookmark B  the state right after change B: a snapshot plus the changes in
               the store's log and the lake (snapshot.RestoreTo)
  -time T      the state at T (RFC 3339): every change stamped at or before it
Prints what it did as JSON. It takes the store's holder lock (exit 3 when
another process holds it); exit 4 when there is no snapshot to restore from.

` + lakeHelp

const tailUsage = `Usage: events tail -store FILE [-after BOOKMARK] [-follow] [-limit N] [-poll D] [-for D]

Prints the store's change log as JSON lines, one change per line
({"op","collection","docId","doc","prev","bookmark","ts"}), oldest first,
starting after -after (default: the start of the retained log). With
-follow it then prints each new change as it commits, until SIGINT/SIGTERM,
-limit changes or -for elapses. It only reads: it takes no lock.
`

// openStore opens a store file; must says it has to exist already.
func openStore(ctx context.Context, path string, must bool) (*cdc.Store, error) {
	if path == "" {
		return nil, usageErr("-store is required")
	}
	if must {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
	}
	return cdc.Open(ctx, path)
}

// openHeld opens a store (see openStore) and takes its holder lock (DESIGN
// rule 4; held by another process is exit code 3); done releases the lock
// and closes the store.
func openHeld(ctx context.Context, path string, must bool) (s *cdc.Store, done func(), err error) {
	s, err = openStore(ctx, path, must)
	if err != nil {
		return nil, nil, err
	}
	release, err := cdcx.Store(s).Hold()
	if err != nil {
		s.Close()
		if errors.Is(err, cdc.ErrHeld) {
			err = &exitError{code: exitBusy, err: err}
		}
		return nil, nil, err
	}
	return s, func() {
		_ = release()
		s.Close()
	}, nil
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func cmdSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("snapshot", snapshotUsage, stderr)
	path := fs.String("store", "", "the store's SQLite file (required)")
	id := fs.String("id", "", "the store id the snapshot is filed under (required)")
	lakeSpec := fs.String("lake", "", "the lake: a folder, s3://BUCKET or r2://BUCKET (required)")
	prefix := fs.String("prefix", "", "folder of the snapshots (default \"snapshots\")")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return usageErr("-id is required")
	}
	bucket, err := openLake(*lakeSpec)
	if err != nil {
		return err
	}
	s, done, err := openHeld(ctx, *path, true)
	if err != nil {
		return err
	}
	defer done()
	stop := startProgress(stderr, "snapshot of "+*id)
	res, err := snapshot.Create(ctx, s, *id, snapshot.Options{Bucket: bucket, Prefix: *prefix})
	stop()
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{
		"key": res.Key, "bookmark": res.Bookmark, "timestamp": res.Timestamp.Format(time.RFC3339Nano),
		"collections": res.Collections, "docs": res.TotalDocs, "bytes": res.Size,
	})
}

func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", restoreUsage, stderr)
	path := fs.String("store", "", "the store's SQLite file (required; created when missing)")
	id := fs.String("id", "", "the store id whose snapshots and changes are read (required)")
	lakeSpec := fs.String("lake", "", "the lake: a folder, s3://BUCKET or r2://BUCKET (required)")
	prefix := fs.String("prefix", "", "folder of the snapshots (default \"snapshots\")")
	key := fs.String("key", "", "restore this snapshot object")
	bookmark := fs.String("bookmark", "", "restore the state right after this change")
	at := fs.String("time", "", "restore the state at this time (RFC 3339)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return usageErr("-id is required")
	}
	n := 0
	for _, v := range []string{*key, *bookmark, *at} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		return usageErr("give at most one of -key, -bookmark and -time")
	}
	var target snapshot.Target
	if *bookmark != "" {
		bm, err := cdc.ParseBookmark(*bookmark)
		if err != nil {
			return usageErr("-bookmark: %v", err)
		}
		target.Bookmark = bm
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339Nano, *at)
		if err != nil {
			return usageErr("-time %q is not RFC 3339", *at)
		}
		target.Time = t.UTC()
	}
	target.Prefix = *prefix
	bucket, err := openLake(*lakeSpec)
	if err != nil {
		return err
	}
	if *key == "" && target.Bookmark == "" && target.Time.IsZero() {
		list, err := snapshot.List(ctx, bucket, *id, snapshot.ListOptions{Limit: 1, Prefix: *prefix})
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return &exitError{code: exitNotFound, err: fmt.Errorf("no snapshot of %q in %s", *id, describeLake(*lakeSpec))}
		}
		*key = list[0].Key
	}
	s, done, err := openHeld(ctx, *path, false)
	if err != nil {
		return err
	}
	defer done()
	stop := startProgress(stderr, "restore of "+*id)
	if *key != "" {
		res, err := snapshot.Restore(ctx, s, bucket, *key)
		stop()
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{
			"snapshot": *key, "bookmark": res.Bookmark, "collections": res.Collections, "docs": res.TotalDocs,
			"inserted": res.Inserted, "updated": res.Updated, "deleted": res.Deleted,
		})
	}
	res, err := snapshot.RestoreTo(ctx, s, bucket, *id, target)
	stop()
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{
		"snapshot": res.Snapshot, "reached": res.Reached, "bookmark": res.Bookmark, "replayed": res.Replayed,
		"fromLog": res.FromLog, "collections": res.Collections, "docs": res.TotalDocs,
		"inserted": res.Inserted, "updated": res.Updated, "deleted": res.Deleted,
	})
}

func cmdTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tail", tailUsage, stderr)
	path := fs.String("store", "", "the store's SQLite file (required)")
	after := fs.String("after", "", "print the changes after this bookmark (default: all retained)")
	follow := fs.Bool("follow", false, "keep printing new changes as they commit")
	limit := fs.Int("limit", 0, "stop after this many changes (0: no limit)")
	poll := fs.Duration("poll", 200*time.Millisecond, "with -follow, how often to look for new changes")
	forD := fs.Duration("for", 0, "with -follow, stop after this long (0: until a signal)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit < 0 || *poll <= 0 || *forD < 0 {
		return usageErr("-limit, -poll and -for must not be negative (-poll above zero)")
	}
	var pos cdc.Bookmark
	if *after != "" {
		bm, err := cdc.ParseBookmark(*after)
		if err != nil {
			return usageErr("-after: %v", err)
		}
		pos = bm
	}
	s, err := openStore(ctx, *path, true)
	if err != nil {
		return err
	}
	defer s.Close()
	if *forD > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *forD)
		defer cancel()
	}
	enc := json.NewEncoder(stdout)
	printed := 0
	for {
		page := 1000
		if *limit > 0 && *limit-printed < page {
			page = *limit - printed
		}
		var changes []cdc.RawChange
		if pos == "" { // "all retained": from the oldest change kept, however far the log was pruned
			changes, err = cdcx.Store(s).ReadLog(ctx, pos, page)
		} else {
			changes, err = s.ChangesAfter(ctx, pos, page)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, c := range changes {
			if err := enc.Encode(c); err != nil {
				return err
			}
			pos = c.Bookmark
			printed++
		}
		if *limit > 0 && printed >= *limit {
			return nil
		}
		if len(changes) == page {
			continue
		}
		if !*follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*poll):
		}
	}
}
