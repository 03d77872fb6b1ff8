package snapshot

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
)

// Target is the point a point-in-time restore goes to: exactly one of
// Bookmark and Time.
type Target struct {
	// Bookmark asks for the state right after the change it marks.
	Bookmark cdc.Bookmark
	// Time asks for the state at that instant: every change stamped at or
	// before it, up to the first one stamped after it, in bookmark order.
	Time time.Time
	// Prefix is the folder of the snapshots, as Options.Prefix of Create.
	Prefix string
}

// PITRResult describes what RestoreTo did.
type PITRResult struct {
	RestoreResult
	// Snapshot is the key of the snapshot the restore started from, or ""
	// when there was none at or before the target and it replayed the chain
	// from the store's first change.
	Snapshot string
	// Reached is the bookmark of the last change the state holds (in the
	// chain the target names): Target.Bookmark itself, or for a time the
	// last change stamped at or before it.
	Reached cdc.Bookmark
	// Replayed is the number of changes applied on top of the snapshot;
	// FromLog of them came from the store's change log, the rest from the
	// lake.
	Replayed, FromLog int
}

// RestoreTo brings store to the state of store id at target, in one
// transaction (as Restore: only differences are written, as ordinary
// changes): it starts from the latest snapshot at or before the target
// (none: an empty store), then replays the store's changes after the
// snapshot's bookmark up to the target, from the store's own change log
// where it still holds them and from the change events in the lake under
// events/ otherwise.
//
// Change numbers of one store are contiguous (a restore's own writes are
// ordinary changes), so every number between the snapshot and the target
// must be found: a missing one is an error matching ErrGap, two different
// changes under one number ErrConflict, an unreadable event ErrCorrupt, and
// in every case the store is left untouched.
//
// The lake is read one UTC hour at a time, from the hour before the
// snapshot was taken until the chain is complete (for a time, until the
// change after it is found). Without a snapshot it lists the whole lake.
// Memory grows with the number of documents changed between the snapshot
// and the target, not with the size of the store.
func RestoreTo(ctx context.Context, store *cdc.Store, bucket lake.Bucket, id string, target Target) (PITRResult, error) {
	if store == nil || bucket == nil {
		return PITRResult{}, fmt.Errorf("%w: restore to: a store and a bucket are required", ErrInvalidOptions)
	}
	if err := ValidateID(id); err != nil {
		return PITRResult{}, err
	}
	upto, err := checkTarget(target)
	if err != nil {
		return PITRResult{}, err
	}
	now := time.Now()
	current, err := store.Bookmark(ctx)
	if err != nil {
		return PITRResult{}, fmt.Errorf("snapshot: restore to: %w", err)
	}
	currentSeq, _ := current.Seq()

	var (
		res  PITRResult
		base startPoint
	)
	info, err := pickSnapshot(ctx, bucket, id, target, upto)
	if err != nil {
		return PITRResult{}, err
	}
	if info != nil {
		f, h, err := fetch(ctx, bucket, info.Key, id)
		if err != nil {
			return PITRResult{}, err
		}
		defer discard(f)
		if upto > 0 && h.bookmark > target.Bookmark {
			return PITRResult{}, fmt.Errorf("%w: snapshot %s holds bookmark %s, its metadata says it is at or before %s", ErrCorrupt, quote(info.Key), h.bookmark, target.Bookmark)
		}
		res.Snapshot = info.Key
		base = startPoint{body: f, collections: h.collections, bookmark: h.bookmark, ts: h.timestamp}
	}
	from, _ := base.bookmark.Seq()

	c := newChain(from, upto, target.Time)
	if err := readLog(ctx, store, c, target); err != nil {
		return PITRResult{}, err
	}
	start := time.Time{}
	if base.body != nil {
		start = base.ts.Add(-time.Hour)
	}
	scan := newLakeScan(bucket, id, start, now.Add(time.Hour))
	ov := overlay{}
	reached := from
	for need := from + 1; upto == 0 || need <= upto; need++ {
		ch, ok := c.changes[need]
		for !ok && scan.more() {
			if err := scan.step(ctx, c); err != nil {
				return PITRResult{}, err
			}
			ch, ok = c.changes[need]
		}
		if !ok {
			if upto == 0 && need > max(currentSeq, c.maxSeen) {
				break // a time after the last change: all of it
			}
			return PITRResult{}, fmt.Errorf("%w: change %s is neither in the lake nor in the store's change log (needed from %s to reach the target; the last change known is %s)",
				ErrGap, cdc.BookmarkFromSeq(need), cdc.BookmarkFromSeq(from+1), cdc.BookmarkFromSeq(max(currentSeq, c.maxSeen)))
		}
		if upto == 0 && ch.ts.After(target.Time) {
			break
		}
		ov.apply(ch)
		reached = need
		res.Replayed++
		if ch.log {
			res.FromLog++
		}
	}
	res.Reached = cdc.BookmarkFromSeq(reached)
	rr, err := apply(ctx, store, goal{body: base.body, collections: base.collections, overlay: ov.sorted()})
	if err != nil {
		return PITRResult{}, fmt.Errorf("snapshot: restore %s to %s: %w", quote(id), describe(target), err)
	}
	res.RestoreResult = rr
	return res, nil
}

// startPoint is the snapshot a point-in-time restore starts from.
type startPoint struct {
	body        *os.File
	collections []string
	bookmark    cdc.Bookmark
	ts          time.Time
}
