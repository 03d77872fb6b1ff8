package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/lake"
)

// checkTarget checks a target and returns its change number (0 for a time).
func checkTarget(t Target) (int64, error) {
	switch {
	case t.Bookmark != "" && !t.Time.IsZero():
		return 0, fmt.Errorf("%w: a target is a bookmark or a time, not both", ErrInvalidOptions)
	case t.Bookmark == "" && t.Time.IsZero():
		return 0, fmt.Errorf("%w: a target needs a bookmark or a time", ErrInvalidOptions)
	case t.Bookmark != "":
		seq, err := t.Bookmark.Seq()
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
		}
		return seq, nil
	}
	return 0, nil
}

// describe names a target in messages.
func describe(t Target) string {
	if t.Bookmark != "" {
		return "bookmark " + string(t.Bookmark)
	}
	return t.Time.UTC().Format(time.RFC3339Nano)
}

// pickSnapshot returns the latest snapshot of id at or before the target,
// or nil when there is none. For a time it goes by the time in the key; for
// a bookmark by each snapshot's bookmark (from its metadata, or the head of
// its body), newest first, so it usually reads one or two. A snapshot whose
// bookmark cannot be told is passed over: an older one gives the same state
// with more replay.
func pickSnapshot(ctx context.Context, bucket lake.Bucket, id string, t Target, upto int64) (*Info, error) {
	infos, err := List(ctx, bucket, id, ListOptions{Prefix: t.Prefix})
	if err != nil {
		return nil, err
	}
	for i := range infos {
		info := &infos[i]
		if upto == 0 {
			if !info.Timestamp.After(t.Time) {
				return info, nil
			}
			continue
		}
		bm, err := snapshotBookmark(ctx, bucket, info.Key)
		if err != nil {
			if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, err
		}
		if seq, _ := bm.Seq(); seq <= upto {
			return info, nil
		}
	}
	return nil, nil
}

// snapshotBookmark returns the bookmark of the snapshot at key without
// reading its rows.
func snapshotBookmark(ctx context.Context, bucket lake.Bucket, key string) (cdc.Bookmark, error) {
	obj, err := bucket.Get(ctx, key)
	if err != nil {
		if errors.Is(err, lake.ErrNotFound) {
			return "", fmt.Errorf("%w: %s: %w", ErrNotFound, quote(key), err)
		}
		return "", fmt.Errorf("snapshot: get %s: %w", quote(key), err)
	}
	defer obj.Body.Close()
	if s, ok := obj.Info.Metadata[metaBookmark]; ok {
		if bm, err := cdc.ParseBookmark(s); err == nil {
			return bm, nil
		}
	}
	return headBookmark(obj.Body)
}

// headBookmark reads a body's members up to "data" and returns "bookmark".
func headBookmark(r io.Reader) (cdc.Bookmark, error) {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", syntaxf("not a snapshot body")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", syntaxf("%v", cut(err))
		}
		name, _ := tok.(string)
		switch name {
		case "data":
			return "", syntaxf("no bookmark before the data")
		case "bookmark":
			var s string
			if err := dec.Decode(&s); err != nil {
				return "", syntaxf("bookmark: %v", cut(err))
			}
			bm, err := cdc.ParseBookmark(s)
			if err != nil {
				return "", syntaxf("bookmark: %v", err)
			}
			return bm, nil
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", syntaxf("%v", cut(err))
			}
		}
	}
	return "", syntaxf("no bookmark")
}

// readLog adds the store's own changes after the chain's start to c, up to
// the target: for a bookmark, up to it; for a time, up to and including
// the first change stamped after it (which tells the replay where to stop).
func readLog(ctx context.Context, store *cdc.Store, c *chain, t Target) error {
	after := changelog.BookmarkFromSeq(c.from)
	for {
		page, err := cdcx.Store(store).ReadLog(ctx, after, pageSize)
		if err != nil {
			return fmt.Errorf("snapshot: read the change log: %w", err)
		}
		for _, r := range page {
			seq, err := r.Bookmark.Seq()
			if err != nil {
				return err
			}
			if c.upto > 0 && seq > c.upto {
				c.maxSeen = max(c.maxSeen, seq)
				return nil
			}
			ch := &change{seq: seq, ts: r.TS, op: r.Op, coll: r.Collection, id: r.DocID, log: true}
			if r.Op != cdc.OpDelete {
				ch.doc = r.Doc
			}
			if err := c.add(ch, "the change log"); err != nil {
				return err
			}
			if c.upto == 0 && r.TS.After(t.Time) {
				return nil
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1].Bookmark
	}
}
