package snapshot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dotdo/events/internal/cdcx"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// write is one document write the test made.
type write struct {
	coll, id, doc string
	del           bool
}

// step is what the store held after one operation of the workload: the
// writes it made, or (for a restore) the whole state it reset to.
type step struct {
	bm     cdc.Bookmark
	writes []write
	reset  state
}

// model is the test's own record of the workload.
type model struct{ steps []step }

// at folds the steps up to bookmark bm: the state the store had right after it.
func (m *model) at(bm cdc.Bookmark) state {
	st := state{}
	for _, s := range m.steps {
		if s.bm > bm {
			break
		}
		if s.reset != nil {
			st = s.reset.clone()
			continue
		}
		for _, w := range s.writes {
			if st[w.coll] == nil {
				st[w.coll] = map[string]string{}
			}
			if w.del {
				delete(st[w.coll], w.id)
			} else {
				st[w.coll][w.id] = w.doc
			}
		}
	}
	return nonEmpty(st)
}

// workload runs random mutations over three collections with snapshots,
// lake shipping, log pruning and restores along the way.
type workload struct {
	t       *testing.T
	ctx     context.Context
	s       *cdc.Store
	b       lake.Bucket
	id      string
	rng     *rand.Rand
	colls   map[string]*cdc.Collection[json.RawMessage]
	m       model
	shipped cdc.Bookmark
	snaps   []snapshot.Result
}

var collNames = []string{"alpha", "beta", "gamma"}

func (w *workload) docID() string {
	n := w.rng.IntN(120)
	if n%7 == 0 {
		return fmt.Sprintf("ü-%d-доц", n)
	}
	return fmt.Sprintf("d%03d", n)
}

func (w *workload) doc() string {
	n := w.rng.IntN(1_000_000)
	switch w.rng.IntN(4) {
	case 0:
		return fmt.Sprintf(`{"_id":"own-%d","n":%d}`, n, n)
	case 1:
		return fmt.Sprintf(`{"n":%d,"s":"✓ %d","tags":["a","b"]}`, n, n)
	default:
		return fmt.Sprintf(`{"n":%d}`, n)
	}
}

func (w *workload) record(writes []write, reset state) {
	w.m.steps = append(w.m.steps, step{bm: bookmark(w.t, w.s), writes: writes, reset: reset})
}

func (w *workload) op() {
	t, ctx := w.t, w.ctx
	c := w.colls[collNames[w.rng.IntN(3)]]
	switch r := w.rng.IntN(100); {
	case r < 60:
		id, doc := w.docID(), w.doc()
		put(t, c, id, doc)
		w.record([]write{{coll: c.Name(), id: id, doc: doc}}, nil)
	case r < 78:
		id := w.docID()
		if _, err := c.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		w.record([]write{{coll: c.Name(), id: id, del: true}}, nil)
	default:
		// Several collections in one transaction.
		var writes []write
		err := w.s.Update(ctx, func(tx *cdc.Tx) error {
			writes = writes[:0]
			for range 2 + w.rng.IntN(4) {
				c := w.colls[collNames[w.rng.IntN(3)]].With(tx)
				id := w.docID()
				if w.rng.IntN(4) == 0 {
					if _, err := c.Delete(ctx, id); err != nil {
						return err
					}
					writes = append(writes, write{coll: c.Name(), id: id, del: true})
					continue
				}
				doc := w.doc()
				if err := c.Put(ctx, id, json.RawMessage(doc)); err != nil {
					return err
				}
				writes = append(writes, write{coll: c.Name(), id: id, doc: doc})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		w.record(writes, nil)
	}
}

// ship sends the changes not yet shipped to the lake in random batches,
// sometimes writing a batch twice (as a retried emitter batch would, under
// another key), and sometimes prunes the shipped part of the log.
func (w *workload) ship() {
	for {
		changes, err := w.s.ChangesAfter(w.ctx, w.shipped, 1+w.rng.IntN(150))
		if err != nil {
			w.t.Fatal(err)
		}
		if len(changes) == 0 {
			break
		}
		writeChanges(w.t, w.b, w.id, changes)
		if w.rng.IntN(5) == 0 {
			writeChanges(w.t, w.b, w.id, changes[w.rng.IntN(len(changes)):])
		}
		w.shipped = changes[len(changes)-1].Bookmark
	}
	if w.rng.IntN(2) == 0 {
		seq, _ := w.shipped.Seq()
		if _, err := cdcx.Store(w.s).PruneChanges(w.ctx, changelog.BookmarkFromSeq(seq-int64(w.rng.IntN(200)))); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *workload) snapshot() {
	res, err := snapshot.Create(w.ctx, w.s, w.id, snapshot.Options{Bucket: w.b})
	if err != nil {
		w.t.Fatal(err)
	}
	w.snaps = append(w.snaps, res)
}

// TestPointInTime runs a random workload with its change events in the
// lake, then restores fresh stores (and the store itself) to many random
// bookmarks and times: each must hold exactly what the store held then.
func TestPointInTime(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		w := &workload{t: t, ctx: ctx, s: openStore(t), b: b, id: "pitr ü-1", rng: rand.New(rand.NewPCG(7, 11)),
			colls: map[string]*cdc.Collection[json.RawMessage]{}}
		for _, n := range collNames {
			w.colls[n] = coll(t, w.s, n)
		}
		const ops = 3000
		for i := range ops {
			w.op()
			switch {
			case i%97 == 96:
				w.ship()
			case i%431 == 430:
				w.snapshot()
			case i == 1500:
				// In place: back to the second snapshot; its changes are
				// ordinary ones, and the chain goes on through them.
				if _, err := snapshot.Restore(ctx, w.s, b, w.snaps[1].Key); err != nil {
					t.Fatal(err)
				}
				w.record(nil, w.m.at(w.snaps[1].Bookmark))
			case i == 2200:
				w.ship()
				to := w.m.steps[1800].bm
				res, err := snapshot.RestoreTo(ctx, w.s, b, w.id, snapshot.Target{Bookmark: to})
				if err != nil {
					t.Fatal(err)
				}
				if res.Reached != to {
					t.Fatalf("reached %s, want %s", res.Reached, to)
				}
				w.record(nil, w.m.at(to))
				if d := diffStates(w.m.at(bookmark(t, w.s)), nonEmpty(stateOf(t, w.s))); d != "" {
					t.Fatalf("in-place restore to %s:\n%s", to, d)
				}
			}
		}
		// The last changes are shipped only in part: the rest is in the
		// store's log alone.
		last := bookmark(t, w.s)
		lastSeq, _ := last.Seq()
		w.ship()
		for range 40 {
			w.op()
		}
		all, err := cdcx.Store(w.s).ReadLog(ctx, "", 1<<30) // what is left after pruning
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d steps, %d changes (log holds from %s), %d snapshots", len(w.m.steps), lastSeq, all[0].Bookmark, len(w.snaps))

		check := func(name string, st *cdc.Store, target snapshot.Target, want state, wantReached cdc.Bookmark) {
			t.Helper()
			res, err := snapshot.RestoreTo(ctx, st, b, w.id, target)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if d := diffStates(want, nonEmpty(stateOf(t, st))); d != "" {
				t.Fatalf("%s (from %q, %d replayed):\n%s", name, res.Snapshot, res.Replayed, d)
			}
			if wantReached != "" && res.Reached != wantReached {
				t.Fatalf("%s: reached %s, want %s", name, res.Reached, wantReached)
			}
		}
		// Random bookmarks, into fresh stores (disaster recovery: only the
		// lake and the snapshots).
		shippedSteps := 0
		for shippedSteps < len(w.m.steps) && w.m.steps[shippedSteps].bm <= w.shipped {
			shippedSteps++
		}
		for i := range 30 {
			s := w.m.steps[w.rng.IntN(shippedSteps)]
			if s.bm == "" {
				continue
			}
			check(fmt.Sprintf("fresh %d at %s", i, s.bm), openStore(t), snapshot.Target{Bookmark: s.bm}, w.m.at(s.bm), s.bm)
		}
		// Times: a change's own time, where the next change is stamped later.
		ts := map[cdc.Bookmark]time.Time{}
		for _, c := range all {
			ts[c.Bookmark] = c.TS
		}
		timed := 0
		for tries := 0; timed < 12 && tries < 2000; tries++ {
			k := 1 + w.rng.IntN(shippedSteps-1)
			s := w.m.steps[k]
			next := w.m.steps[min(k+1, len(w.m.steps)-1)]
			at, ok := ts[s.bm]
			if !ok || next.bm == s.bm {
				continue
			}
			seq, _ := s.bm.Seq()
			if after, ok := ts[changelog.BookmarkFromSeq(seq+1)]; !ok || !after.After(at) {
				continue
			}
			timed++
			check(fmt.Sprintf("time %s (%s)", at.Format(time.RFC3339Nano), s.bm), openStore(t), snapshot.Target{Time: at}, w.m.at(s.bm), s.bm)
		}
		if timed < 5 {
			t.Fatalf("only %d time targets", timed)
		}
		// In place, with the newest changes only in the store's log.
		for i := range 4 {
			k := w.rng.IntN(len(w.m.steps))
			if i == 3 {
				k = len(w.m.steps) - 1
			}
			s := w.m.steps[k]
			check(fmt.Sprintf("in place at %s", s.bm), w.s, snapshot.Target{Bookmark: s.bm}, w.m.at(s.bm), s.bm)
			w.record(nil, w.m.at(s.bm))
		}
		// The whole chain, through every restore, from the lake alone.
		w.ship()
		end := bookmark(t, w.s)
		check("fresh at the end", openStore(t), snapshot.Target{Bookmark: end}, nonEmpty(stateOf(t, w.s)), end)
		check("fresh now", openStore(t), snapshot.Target{Time: time.Now().Add(time.Hour)}, nonEmpty(stateOf(t, w.s)), end)
	})
}

// TestPointInTimeGap leaves changes out of the lake after pruning them from
// the log: a restore that needs them fails with ErrGap and changes nothing.
func TestPointInTimeGap(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		s := openStore(t)
		c := coll(t, s, "c")
		const id = "gappy"
		for i := range 10 {
			put(t, c, fmt.Sprintf("d%d", i), fmt.Sprintf(`{"i":%d}`, i))
		}
		snap, err := snapshot.Create(ctx, s, id, snapshot.Options{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 40 {
			put(t, c, fmt.Sprintf("d%d", i%15), fmt.Sprintf(`{"i":%d}`, 100+i))
		}
		// Ship 11-30 and 36-50; 31-35 never reach the lake.
		changes, err := s.ChangesAfter(ctx, snap.Bookmark, 100)
		if err != nil || len(changes) != 40 {
			t.Fatal(len(changes), err)
		}
		writeChanges(t, b, id, changes[:20])
		writeChanges(t, b, id, changes[25:])
		if _, err := cdcx.Store(s).PruneChanges(ctx, changes[39].Bookmark); err != nil {
			t.Fatal(err)
		}
		before, bm := stateOf(t, s), bookmark(t, s)
		for _, target := range []cdc.Bookmark{changes[22].Bookmark, changes[38].Bookmark, changelog.BookmarkFromSeq(500)} {
			_, err := snapshot.RestoreTo(ctx, s, b, id, snapshot.Target{Bookmark: target})
			if !errors.Is(err, snapshot.ErrGap) {
				t.Fatalf("target %s: %v", target, err)
			}
		}
		if _, err := snapshot.RestoreTo(ctx, s, b, id, snapshot.Target{Time: time.Now()}); !errors.Is(err, snapshot.ErrGap) {
			t.Fatalf("time target: %v", err)
		}
		if d := diffStates(before, stateOf(t, s)); d != "" || bookmark(t, s) != bm {
			t.Fatalf("store changed:\n%s", d)
		}
		// Before the gap it works.
		res, err := snapshot.RestoreTo(ctx, s, b, id, snapshot.Target{Bookmark: changes[19].Bookmark})
		if err != nil {
			t.Fatal(err)
		}
		if res.Snapshot != snap.Key || res.Replayed != 20 || res.FromLog != 0 {
			t.Fatalf("result %+v", res)
		}
		// A different change under a shipped bookmark is a conflict.
		forged := changes[5]
		forged.Doc = json.RawMessage(`{"forged":true}`)
		writeChanges(t, b, id, []cdc.RawChange{forged})
		before, bm = stateOf(t, s), bookmark(t, s)
		if _, err := snapshot.RestoreTo(ctx, s, b, id, snapshot.Target{Bookmark: changes[10].Bookmark}); !errors.Is(err, snapshot.ErrConflict) {
			t.Fatalf("conflict: %v", err)
		}
		if d := diffStates(before, stateOf(t, s)); d != "" || bookmark(t, s) != bm {
			t.Fatalf("store changed:\n%s", d)
		}
		if _, err := snapshot.RestoreTo(ctx, s, b, id, snapshot.Target{}); !errors.Is(err, snapshot.ErrInvalidOptions) {
			t.Fatalf("empty target: %v", err)
		}
	})
}

// TestPointInTimePrefix finds snapshots under a custom prefix, and replays
// from the store's own log when the lake has nothing.
func TestPointInTimePrefix(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	b := lake.Dir(t.TempDir())
	c := coll(t, s, "c")
	put(t, c, "a", `{"v":1}`)
	snap, err := snapshot.Create(ctx, s, "p", snapshot.Options{Bucket: b, Prefix: "backups/x"})
	if err != nil {
		t.Fatal(err)
	}
	put(t, c, "a", `{"v":2}`)
	mid := bookmark(t, s)
	put(t, c, "b", `{"v":3}`)
	res, err := snapshot.RestoreTo(ctx, s, b, "p", snapshot.Target{Bookmark: mid, Prefix: "backups/x"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot != snap.Key || res.Replayed != 1 || res.FromLog != 1 || res.Deleted != 1 {
		t.Fatalf("%+v", res)
	}
	if got := stateOf(t, s)["c"]; len(got) != 1 || got["a"] != `{"v":2}` {
		t.Fatalf("state %v", got)
	}
	// Without the prefix there is no snapshot: the log from change 1 suffices.
	res, err = snapshot.RestoreTo(ctx, s, b, "p", snapshot.Target{Bookmark: snap.Bookmark})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot != "" || res.Replayed != 1 {
		t.Fatalf("%+v", res)
	}
	if got := stateOf(t, s)["c"]; len(got) != 1 || got["a"] != `{"v":1}` {
		t.Fatalf("state %v", got)
	}
}
