package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
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
	// Advanced is the bookmark the store was moved on to before the
	// restore wrote anything, when it was behind the chain it was restored
	// from (a new store in place of a lost one): the highest change number
	// of the store id in the lake and its snapshots. "" when the store was
	// not behind (a restore in place).
	Advanced cdc.Bookmark
	// Retracted is the number of deletes logged, without a write, for
	// documents the chain's last state holds and the restored state lacks
	// (only when the store was advanced).
	Retracted int
	// Skipped is the number of events of the store in the lake typed like
	// changes (collection.insert, ...) that the restore did not replay
	// because the store did not ship them from its change log: custom
	// events given a change's type, change events without a bookmark. See
	// RestoreTo.
	Skipped int
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
// and the target (for a store behind the chain, below: up to the chain's
// end), not with the size of the store.
//
// A store behind the chain it restores from (its bookmark is below the
// snapshot's, the reached change or a change number the lake holds for id:
// typically a new, empty store replacing a lost one) continues that chain
// instead of reissuing its bookmarks. Before the restore writes anything,
// in the same transaction, the store is advanced (cdc.Tx.AdvanceBookmark) to
// the highest change number of id found in the lake and in the newest
// snapshot: not just the target, since the lost store may have written
// past it. Its own changes then come after every change the lost store
// shipped, so a later RestoreTo through them finds no ErrConflict and
// bookmark-ordered queries (query.PITRRange) see one history. Documents
// that the chain's last state holds and the restored state lacks get a
// logged delete (cdc.Tx.AppendChange, counted in Retracted), so replaying
// the chain through this restore yields the restored state. To find the
// highest number the lake is read to its end: every hour folder from the
// snapshot's (or the whole lake without one) up to now, each object that may
// hold id read once. That costs a few listings per hour since the snapshot, paid only
// by a store behind its chain (disaster recovery, which is rare); a restore
// in place, into a store already at or past the chain, reads no more than
// before and never changes the store's numbering. Documents only in a
// snapshot newer than every change event in the lake are not retracted:
// ship changes to the lake to make the chain complete. Restore into an
// empty store: one behind the chain that already holds a document with its
// target value gets no change for it, so a replay through this restore
// would keep the chain's later value of that document.
//
// Only changes the store itself shipped are replayed: the lake events of
// id (do.id) whose type is a change type, with a bookmark, and whose event
// id is the one this module's emitter gives a change, "{emitter id}-c{n}"
// with n the bookmark's number. Events of a change type with any other id
// (custom events typed like changes, which older versions of the emitter
// accepted and other writers may produce, or change events emitted by hand)
// are skipped and counted in PITRResult.Skipped.
func RestoreTo(ctx context.Context, store *cdc.Store, bucket lake.Bucket, id string, target Target) (PITRResult, error) {
	if store == nil || bucket == nil {
		return PITRResult{}, fmt.Errorf("%w: restore to: a store and a bucket are required", ErrInvalidOptions)
	}
	if err := validateID(id); err != nil {
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
		// An upstream snapshot has no bookmark to chain changes on: start
		// from nothing instead.
		if !h.upstream {
			if upto > 0 && h.bookmark > target.Bookmark {
				return PITRResult{}, fmt.Errorf("%w: snapshot %s holds bookmark %s, its metadata says it is at or before %s", ErrCorrupt, quote(info.Key), h.bookmark, target.Bookmark)
			}
			res.Snapshot = info.Key
			base = startPoint{body: f, collections: h.collections, bookmark: h.bookmark, ts: h.timestamp}
		}
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
	scan := newLakeScan(ctx, bucket, id, start, now.Add(time.Hour))
	defer scan.close()
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
				ErrGap, changelog.BookmarkFromSeq(need), changelog.BookmarkFromSeq(from+1), changelog.BookmarkFromSeq(max(currentSeq, c.maxSeen)))
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
	res.Reached = changelog.BookmarkFromSeq(reached)
	g := goal{body: base.body, collections: base.collections, overlay: ov.sorted()}
	if currentSeq < max(from, reached, c.maxSeen) {
		// Behind the chain: find its end (the rest of the lake, the newest
		// snapshot) and continue after it.
		for scan.more() {
			if err := scan.step(ctx, c); err != nil {
				return PITRResult{}, err
			}
		}
		newest, err := newestSnapshotSeq(ctx, bucket, id, target.Prefix)
		if err != nil {
			return PITRResult{}, err
		}
		if top := max(from, reached, c.maxSeen, newest); top > currentSeq {
			g.advance = changelog.BookmarkFromSeq(top)
			g.retract = c.retractions(reached)
		}
	}
	rr, retracted, err := apply(ctx, store, g)
	if err != nil {
		return PITRResult{}, fmt.Errorf("snapshot: restore %s to %s: %w", quote(id), describe(target), err)
	}
	res.RestoreResult = rr
	res.Skipped = scan.skipped
	res.Advanced = g.advance
	res.Retracted = retracted
	return res, nil
}

// newestSnapshotSeq returns the change number of the newest snapshot of id
// whose bookmark can be read (0 without one): the lost store may have taken
// it after its last change that reached the lake.
func newestSnapshotSeq(ctx context.Context, bucket lake.Bucket, id, prefix string) (int64, error) {
	infos, err := List(ctx, bucket, id, ListOptions{Prefix: prefix})
	if err != nil {
		return 0, err
	}
	for _, info := range infos {
		bm, err := snapshotBookmark(ctx, bucket, info.Key)
		if err != nil {
			if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotFound) {
				continue // as pickSnapshot: an unreadable one says nothing
			}
			return 0, err
		}
		seq, _ := bm.Seq()
		return seq, nil
	}
	return 0, nil
}

// startPoint is the snapshot a point-in-time restore starts from.
type startPoint struct {
	body        *os.File
	collections []string
	bookmark    cdc.Bookmark
	ts          time.Time
}
