package fleet

import (
	"container/list"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

// consumer names the fleet's position in each store's change log (rule 4:
// the log is never pruned above it). It lags the index's positions: it is
// moved on eviction and every releaseEvery, from saved positions only.
const consumer = "fleet"

// releaseEvery is how often an open store's position in the store itself
// follows the index (so its log may be pruned).
const releaseEvery = 30 * time.Second

// storeMigrations create the fleet's table in each store: its id (a hashed
// file name does not hold it) and its emitter id (event ids start with it).
var storeMigrations = []string{
	`CREATE TABLE fleet_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
}

// store is one store of the fleet, open or not. Guarded by Fleet.mu.
type store struct {
	id, file    string
	eid         string // emitter id: event ids are {eid}-c{bookmark number}
	db          *cdc.Store
	release     func() error  // the holder lock
	busy        chan struct{} // set while opening or closing; closed when done
	refs        int           // Do calls and reads using it
	elem        *list.Element // its element in Fleet.lru while open
	lastUsed    time.Time
	gen         int64     // its pending row's generation
	pendingRow  bool      // the index has its pending row (as of gen)
	since       int64     // ms: when it became pending (delivery order)
	unreadSince time.Time // when it was marked unread (lag)
	released    uint64    // position saved in the store itself
	// closedThrough is the store's bookmark number when it was last
	// closed: a watcher behind it opens the store again to read.
	closedThrough int64

	loaded      bool     // pos and read are known
	read        uint64   // changes read into q through this bookmark number
	q           []change // changes read, not yet delivered to every sink
	pos         []uint64 // per sink: delivered through
	saved       []uint64 // per sink: saved in the index through
	lastRelease time.Time
}

// change is one change read from a store and encoded.
type change struct {
	seq uint64
	ts  time.Time
	id  string
	typ string
	bm  cdc.Bookmark
	js  []byte
}

// newStore registers store id (f.mu held or not yet shared).
func (f *Fleet) newStore(id string) *store {
	st := &store{id: id, file: fileName(id)}
	f.stores[id] = st
	return st
}

// acquire returns store id open, with a reference the caller gives back
// with releaseStore. create allows creating its file; delivery counts the
// open as a reopen for delivery.
func (f *Fleet) acquire(ctx context.Context, id string, create, delivery bool) (*store, error) {
	f.mu.Lock()
	for {
		st := f.stores[id]
		if f.closed && !(delivery && st != nil && st.db != nil && st.busy == nil) {
			// Closing: only the last round reads the stores still open.
			f.mu.Unlock()
			return nil, ErrClosed
		}
		if st == nil {
			st = f.newStore(id)
		}
		if st.db != nil && st.busy == nil {
			st.refs++
			f.lru.MoveToFront(st.elem)
			f.mu.Unlock()
			return st, nil
		}
		var wait chan struct{}
		switch {
		case st.busy != nil:
			wait = st.busy
		case f.nOpen >= f.maxOpen:
			if victim := f.lruVictim(); victim != nil {
				f.beginClose(victim)
				f.mu.Unlock()
				if err := f.finishClose(ctx, victim); err != nil {
					f.log.Warn("fleet: closing an idle store failed", "store", victim.id, "error", err.Error())
				}
				f.mu.Lock()
				continue
			}
			if delivery {
				f.mu.Unlock()
				return nil, errNoSlot // every slot is in use: a later round reads it
			}
			wait = f.freed
		}
		if wait != nil {
			f.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			f.mu.Lock()
			continue
		}
		st.busy = make(chan struct{})
		f.nOpen++
		f.mu.Unlock()
		err := f.openStore(ctx, st, create)
		f.mu.Lock()
		close(st.busy)
		st.busy = nil
		if err != nil {
			f.nOpen--
			f.freeLocked()
			if f.stores[id] == st && !st.loaded && st.q == nil {
				if _, pending := f.unread[st]; !pending {
					delete(f.stores, id)
				}
			}
			f.mu.Unlock()
			return nil, err
		}
		st.elem = f.lru.PushFront(st)
		st.refs++
		if f.nOpen > f.maxOpen-f.headroom() {
			signal(f.evict) // Run closes the least recently used ahead of the next miss
		}
		if _, ok := f.unread[st]; !ok && !delivery {
			// Check the log once per open: a sink added since may not
			// have every change yet.
			f.unread[st] = struct{}{}
			st.unreadSince = time.Now()
		}
		f.counter.opens++
		f.storeOpened(id)
		if delivery {
			f.counter.deliveryOpens++
		}
		f.mu.Unlock()
		return st, nil
	}
}

// headroom is how many slots Run keeps free, closing idle stores in the
// background, so that a miss rarely waits for a close (a synced commit and
// a checkpoint).
func (f *Fleet) headroom() int { return max(1, f.maxOpen/64) }

// freeLocked wakes whoever waits for a slot or a store. f.mu is held.
func (f *Fleet) freeLocked() {
	close(f.freed)
	f.freed = make(chan struct{})
}

// releaseStore gives back a reference of acquire; wrote says the caller
// may have committed changes.
func (f *Fleet) releaseStore(st *store, wrote bool) {
	f.mu.Lock()
	st.refs--
	st.lastUsed = time.Now()
	if wrote {
		if _, ok := f.unread[st]; !ok {
			f.unread[st] = struct{}{}
			st.unreadSince = st.lastUsed
		}
		f.dirty++
		if f.dirty == 1 {
			signal(f.wake)
		}
		if f.dirty >= f.sinks0BatchSize() {
			signal(f.full)
		}
	}
	if st.refs == 0 {
		f.freeLocked()
	}
	f.mu.Unlock()
}

// sinks0BatchSize is the smallest batch size: that many changes make a
// round worth starting at once.
func (f *Fleet) sinks0BatchSize() int {
	n := defaultBatchSize
	for _, s := range f.sinks {
		n = min(n, s.batchSize)
	}
	return n
}

// lruVictim returns the least recently used idle open store. f.mu is held.
func (f *Fleet) lruVictim() *store {
	for e := f.lru.Back(); e != nil; e = e.Prev() {
		st := e.Value.(*store)
		if st.refs == 0 && st.busy == nil {
			return st
		}
	}
	return nil
}

// beginClose marks st closing and takes it off the LRU list. f.mu is held.
func (f *Fleet) beginClose(st *store) {
	st.busy = make(chan struct{})
	f.lru.Remove(st.elem)
	st.elem = nil
}

// finishClose moves st's position in the store itself up to what the index
// saved, closes it and gives up its holder lock. Its undelivered changes
// stay in its file (and in memory, when read): the index's pending row
// stays until they are delivered.
func (f *Fleet) finishClose(ctx context.Context, st *store) error {
	f.mu.Lock()
	through := st.minSaved()
	db, release := st.db, st.release
	f.mu.Unlock()
	var errs []error
	if through > st.released {
		if _, err := cdcx.Store(db).Release(ctx, consumer, changelog.BookmarkFromSeq(int64(through))); err != nil {
			errs = append(errs, fmt.Errorf("fleet: %s: release: %w", st.id, err))
		} else {
			st.released = through
		}
	}
	bm, err := db.Bookmark(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("fleet: %s: %w", st.id, err))
	}
	closedThrough, _ := bm.Seq()
	if err != nil {
		closedThrough = math.MaxInt64 // unknown: watchers open it again to look
	}
	errs = append(errs, db.Close(), release())
	f.mu.Lock()
	st.db, st.release = nil, nil
	st.closedThrough = closedThrough
	close(st.busy)
	st.busy = nil
	f.nOpen--
	f.counter.evictions++
	f.freeLocked()
	f.mu.Unlock()
	return errors.Join(errs...)
}

// minSaved is the lowest position saved in the index over the sinks.
func (st *store) minSaved() uint64 {
	if !st.loaded || len(st.saved) == 0 {
		return 0
	}
	m := st.saved[0]
	for _, v := range st.saved[1:] {
		m = min(m, v)
	}
	return m
}

// openStore opens st's file (creating it only with create), takes its
// holder lock, checks the id inside, records it as pending in the index
// and loads its positions. st.busy is set: no one else touches it.
func (f *Fleet) openStore(ctx context.Context, st *store, create bool) (err error) {
	path := filepath.Join(f.dir, st.file)
	if !create {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("fleet: store %q: %w", st.id, err)
		}
	}
	opts := append([]cdc.Option{cdcx.Lean()}, f.storeOpts...)
	db, err := cdc.Open(ctx, path, opts...)
	if err != nil {
		return fmt.Errorf("fleet: store %q: %w", st.id, err)
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	release, err := cdcx.Store(db).Hold()
	if err != nil {
		return fmt.Errorf("fleet: store %q: %w", st.id, err)
	}
	defer func() {
		if err != nil {
			_ = release()
		}
	}()
	fresh, err := f.storeMeta(ctx, db, st)
	if err != nil {
		return err
	}
	if fresh {
		// Register the fleet's position before anything is written: rule 4.
		if _, err := cdcx.Store(db).Release(ctx, consumer, changelog.BookmarkFromSeq(0)); err != nil {
			return fmt.Errorf("fleet: store %q: %w", st.id, err)
		}
	}
	if err := f.markPending(ctx, st, fresh); err != nil {
		return err
	}
	if !st.loaded {
		if err := f.loadPositions(ctx, db, st); err != nil {
			return err
		}
	}
	if f.init != nil {
		if err := f.init(ctx, db); err != nil {
			return fmt.Errorf("fleet: init %q: %w", st.id, err)
		}
	}
	st.db, st.release = db, release
	st.lastRelease = time.Now()
	return nil
}

// storeMeta reads (or, in a new store, writes) the id and emitter id kept
// in the store; fresh reports a new store.
func (f *Fleet) storeMeta(ctx context.Context, db *cdc.Store, st *store) (fresh bool, err error) {
	if err := cdcx.Store(db).Migrate(ctx, "fleet", storeMigrations); err != nil {
		return false, fmt.Errorf("fleet: store %q: %w", st.id, err)
	}
	var id string
	err = cdcx.Store(db).QueryRowContext(ctx, `SELECT
		(SELECT value FROM fleet_meta WHERE key = 'id'), (SELECT value FROM fleet_meta WHERE key = 'eid')`).Scan(&id, &st.eid)
	if err == nil && id != "" {
		if id != st.id {
			return false, fmt.Errorf("fleet: file %s holds store %q, not %q", st.file, id, st.id)
		}
		return false, nil
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return false, err
	}
	st.eid = hex.EncodeToString(b[:])
	err = db.Update(ctx, func(tx *cdc.Tx) error {
		_, err := cdcx.Tx(tx).ExecContext(ctx, `INSERT INTO fleet_meta (key, value) VALUES ('id', ?), ('eid', ?)`, st.id, st.eid)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("fleet: store %q: %w", st.id, err)
	}
	return true, nil
}

// markPending records in the index that st may get changes, before
// anything can write to it; a hashed file name also records the id.
func (f *Fleet) markPending(ctx context.Context, st *store, fresh bool) error {
	f.mu.Lock()
	st.gen++
	gen := st.gen
	if st.since == 0 {
		st.since = time.Now().UnixMilli()
	}
	since := st.since
	f.mu.Unlock()
	err := inTx(ctx, f.idx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pending (store, gen, since_ms) VALUES (?, ?, ?)
			ON CONFLICT (store) DO UPDATE SET gen = excluded.gen`, st.id, gen, since); err != nil {
			return err
		}
		if fresh && len(st.file) > maxEncoded {
			_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO names (file, store) VALUES (?, ?)`, st.file, st.id)
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fleet: index: %w", err)
	}
	f.mu.Lock()
	st.pendingRow = true
	f.mu.Unlock()
	return nil
}

// loadPositions reads st's positions per sink from the index.
func (f *Fleet) loadPositions(ctx context.Context, db *cdc.Store, st *store) error {
	var own int64
	err := cdcx.Store(db).QueryRowContext(ctx, `SELECT seq FROM cdc_positions WHERE consumer = ?`, consumer).Scan(&own)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("fleet: store %q: %w", st.id, err)
	}
	pos := make([]uint64, len(f.sinks))
	known := make([]bool, len(f.sinks))
	rows, err := f.idx.QueryContext(ctx, `SELECT sink, seq FROM positions WHERE store = ?`, st.id)
	if err != nil {
		return fmt.Errorf("fleet: index: %w", err)
	}
	defer rows.Close()
	seen := false
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			return fmt.Errorf("fleet: index: %w", err)
		}
		seen = true
		for i, s := range f.sinks {
			if s.name == name {
				pos[i], known[i] = uint64(seq), true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("fleet: index: %w", err)
	}
	for i := range pos {
		if !known[i] && !seen {
			// The index has nothing of the store (it was lost): every sink
			// resumes from the store's own, lagging, position. A sink added
			// since starts at the oldest retained change (0).
			pos[i] = uint64(own)
		}
	}
	f.mu.Lock()
	st.pos, st.saved = pos, append([]uint64(nil), pos...)
	st.read = slicesMin(pos)
	st.released = uint64(own)
	st.loaded = true
	f.mu.Unlock()
	return nil
}

// slicesMin is the smallest of v (0 when empty).
func slicesMin(v []uint64) uint64 {
	if len(v) == 0 {
		return 0
	}
	m := v[0]
	for _, x := range v[1:] {
		m = min(m, x)
	}
	return m
}
