// Package fleet runs many stores (one SQLite file each: a tenant, a room, a
// device) in one process behind one delivery pipeline.
//
// Stores open on demand (Do) and close when idle or beyond MaxOpen, least
// recently used first. Their changes and custom events go through the
// sinks of one emitter.Options: an HTTP request carries up to BatchSize
// events of many stores, a lake object many stores' events of one UTC hour;
// per store and per sink, events arrive in bookmark order. Each event
// carries do.id = the store's id and do.class = Options.Class.
//
// A store closed by eviction, by Close or by a crash keeps its undelivered
// changes: the fleet reopens it to deliver them (at most MaxOpen stores at
// once, oldest pending first). The fleet's own index (Dir/_fleet.db)
// records which stores may have undelivered changes, so a new fleet over
// many store files opens only those, and every (sink, store) position,
// saved in one transaction per delivery round.
//
// An idle open store costs no goroutine of this package and 4 file
// descriptors: its one SQLite connection (database, WAL, shared memory)
// and the holder lock. Reads and writes of a fleet's store share that
// connection: inside Store.Update, read through the transaction (as on a
// ":memory:" store), or the read waits for the transaction.
package fleet

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/emitterhook"
	"github.com/dotdo/events/internal/holdlock"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
)

// Defaults of Options.
const (
	defaultMaxOpen     = 1000
	defaultIdleTimeout = time.Minute
	defaultBatchSize   = 1000
	// maxQueued bounds the changes read from stores and waiting in memory
	// for some sink; beyond it stores wait in their files.
	maxQueued = 200_000
	// maxClass bounds Options.Class.
	maxClass = 256
)

// Errors of the fleet; match them with errors.Is. Invalid store ids match
// events.ErrInvalidStoreID.
var (
	// ErrInvalidOptions is matched by every error of Open about Options.
	ErrInvalidOptions = errors.New("fleet: invalid options")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("fleet: closed")
)

// Options configure a Fleet.
type Options struct {
	// Dir holds one SQLite file per store, and the fleet's index
	// (_fleet.db). It is created if needed. One fleet at a time uses it.
	Dir string
	// Class is the do.class of every store's events.
	Class string
	// Emitter are the sinks and batching shared by every store. BatchSize
	// defaults to 1000 here; Identity is ignored (each store's events carry
	// its own id and Class); CDC is implied.
	Emitter emitter.Options
	// MaxOpen is how many stores may be open at once (default 1000); beyond
	// it the least recently used idle one is closed.
	MaxOpen int
	// IdleTimeout closes a store unused for this long (default one minute;
	// negative: never). Run does it.
	IdleTimeout time.Duration
	// Init runs each time a store is opened, before it is used (e.g. to
	// create collections); an error closes the store again.
	Init func(ctx context.Context, s *cdc.Store) error
	// Store are options of each store's cdc.Open (e.g. cdc.WithRetention).
	Store []cdc.Option
}

// Fleet is a set of stores in Dir behind one delivery pipeline. It is safe
// for concurrent use.
type Fleet struct {
	dir, class  string
	maxOpen     int
	idleTimeout time.Duration
	init        func(ctx context.Context, s *cdc.Store) error
	storeOpts   []cdc.Option
	p           emitterhook.Pipeline
	sinks       []*sink
	idx         *sql.DB
	dirLock     *holdlock.Lock
	writer      string
	log         *slog.Logger
	batchBase   string // makes batch ids unique across fleets and runs

	wake  chan struct{} // something to deliver
	full  chan struct{} // a batch's worth waits: do not linger
	evict chan struct{} // few slots are free: close idle stores ahead
	stop  chan struct{} // closed by Close
	round sync.Mutex    // one delivery round at a time

	mu      sync.Mutex
	closed  bool
	stores  map[string]*store
	lru     list.List // open stores, most recently used first
	nOpen   int
	freed   chan struct{} // closed (and replaced) when a slot or a store frees
	dirty   int           // Do calls since the last round
	queued  int           // changes in memory, all stores
	custom  customQueue
	unread  map[*store]struct{} // stores that may have changes not read yet
	withQ   map[*store]struct{} // stores with changes in memory
	counter counters
	opened  map[string]chan struct{} // per store: closed when it opens (Watch waits)
	named   map[string]bool          // store id + "\x00" + name: named watchers watching
	running bool
	batchN  uint64 // numbers batch ids
}

// counters are what Stats reports of stores.
type counters struct {
	opens, evictions, deliveryOpens uint64
}

// Open opens the fleet of Dir: it reads its index and schedules the
// delivery of every store the index says may have undelivered changes
// (without opening any store yet). Call Run to deliver, Close when done.
func Open(ctx context.Context, opts Options) (_ *Fleet, err error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("%w: empty Dir", ErrInvalidOptions)
	}
	if opts.MaxOpen < 0 {
		return nil, fmt.Errorf("%w: negative MaxOpen %d", ErrInvalidOptions, opts.MaxOpen)
	}
	if opts.MaxOpen == 0 {
		opts.MaxOpen = defaultMaxOpen
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = defaultIdleTimeout
	}
	if len(opts.Class) > maxClass || !utf8.ValidString(opts.Class) || strings.ContainsFunc(opts.Class, unicode.IsControl) {
		return nil, fmt.Errorf("%w: Class must be at most %d bytes of UTF-8 without control characters", ErrInvalidOptions, maxClass)
	}
	eo := opts.Emitter
	if eo.BatchSize == 0 {
		eo.BatchSize = defaultBatchSize
	}
	eo.CDC = true
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	lock, err := holdlock.Acquire(filepath.Join(opts.Dir, indexName))
	if err != nil {
		return nil, fmt.Errorf("fleet: %s: %w", opts.Dir, err)
	}
	defer func() {
		if err != nil {
			_ = lock.Release()
		}
	}()
	idx, err := openIndex(ctx, opts.Dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			idx.Close()
		}
	}()
	writer, err := writerID(ctx, idx)
	if err != nil {
		return nil, err
	}
	p, err := emitterhook.Get().Resolve(eo, writer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	f := &Fleet{
		dir: opts.Dir, class: opts.Class, maxOpen: opts.MaxOpen, idleTimeout: opts.IdleTimeout,
		init: opts.Init, storeOpts: opts.Store, p: p, idx: idx, dirLock: lock, writer: writer, log: p.Logger,
		batchBase: fmt.Sprintf("%s-%x", writer, time.Now().UnixNano()),
		wake:      make(chan struct{}, 1), full: make(chan struct{}, 1), evict: make(chan struct{}, 1), stop: make(chan struct{}),
		stores: map[string]*store{}, freed: make(chan struct{}),
		unread: map[*store]struct{}{}, withQ: map[*store]struct{}{}, opened: map[string]chan struct{}{}, named: map[string]bool{},
	}
	for i, s := range p.Sinks {
		f.sinks = append(f.sinks, &sink{i: i, out: s.(emitter.Sink), name: s.(emitter.Sink).Name(), batchSize: p.BatchSizes[i]})
	}
	if err := f.loadPending(ctx); err != nil {
		return nil, err
	}
	if err := f.loadCustom(ctx); err != nil {
		return nil, err
	}
	if err := f.loadRetry(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// loadPending schedules the stores the index lists for delivery.
func (f *Fleet) loadPending(ctx context.Context) error {
	rows, err := f.idx.QueryContext(ctx, `SELECT store, gen, since_ms FROM pending ORDER BY since_ms`)
	if err != nil {
		return fmt.Errorf("fleet: index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var gen, since int64
		if err := rows.Scan(&id, &gen, &since); err != nil {
			return fmt.Errorf("fleet: index: %w", err)
		}
		st := f.newStore(id)
		st.gen, st.since = gen, since
		st.unreadSince = time.UnixMilli(since)
		f.unread[st] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("fleet: index: %w", err)
	}
	if len(f.unread) > 0 {
		f.signal(f.wake)
	}
	return nil
}

// signal wakes whoever waits on ch, without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (f *Fleet) signal(ch chan struct{}) { signal(ch) }

// Do runs fn with the store of id, opening it (creating its file if
// needed) first; the store stays open while fn runs. What fn commits is
// delivered to every sink. An invalid id gives an error matching
// events.ErrInvalidStoreID and creates nothing.
func (f *Fleet) Do(ctx context.Context, id string, fn func(s *cdc.Store) error) error {
	if fn == nil {
		return fmt.Errorf("%w: nil fn", ErrInvalidOptions)
	}
	if err := events.ValidateStoreID(id); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	st, err := f.acquire(ctx, id, true, false)
	if err != nil {
		return err
	}
	defer f.releaseStore(st, true)
	return fn(st.db)
}

// IDs returns the id of every store in Dir, sorted.
func (f *Fleet) IDs(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	var ids []string
	var hashed []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		id, h, ok := idFromName(e.Name())
		switch {
		case !ok:
		case h:
			hashed = append(hashed, e.Name())
		default:
			ids = append(ids, id)
		}
	}
	for _, name := range hashed {
		var id string
		err := f.idx.QueryRowContext(ctx, `SELECT store FROM names WHERE file = ?`, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			if id, err = idInFile(ctx, filepath.Join(f.dir, name)); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, fmt.Errorf("fleet: index: %w", err)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// idInFile reads the id kept inside a store file.
func idInFile(ctx context.Context, path string) (string, error) {
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?mode=ro")
	if err != nil {
		return "", fmt.Errorf("fleet: %w", err)
	}
	defer db.Close()
	var id string
	if err := db.QueryRowContext(ctx, `SELECT value FROM fleet_meta WHERE key = 'id'`).Scan(&id); err != nil {
		return "", fmt.Errorf("fleet: id of %s: %w", filepath.Base(path), err)
	}
	return id, nil
}

// Close delivers what it can (one round, not waiting for sinks in
// backoff), sets the rest aside (custom events go to the index; changes
// stay in their stores), saves every position and closes every store.
// The fleet cannot be used afterwards.
func (f *Fleet) Close(ctx context.Context) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	close(f.stop)
	for id := range f.opened {
		f.storeOpened(id) // watchers waiting for a store end now
	}
	f.mu.Unlock()
	var errs []error
	if _, err := f.deliverRound(ctx, false); err != nil && ctx.Err() == nil {
		errs = append(errs, err)
	}
	f.round.Lock()
	defer f.round.Unlock()
	errs = append(errs, f.persistCustom(context.WithoutCancel(ctx)))
	// Close every store (waiting for those in use).
	for {
		f.mu.Lock()
		var victim *store
		var busy chan struct{}
		for _, st := range f.stores {
			if st.db == nil && st.busy == nil {
				continue
			}
			if st.busy != nil || st.refs > 0 {
				busy = f.freed
				if st.busy != nil {
					busy = st.busy
				}
				continue
			}
			victim = st
			break
		}
		if victim == nil && busy == nil {
			f.mu.Unlock()
			break
		}
		if victim != nil {
			f.beginClose(victim)
			f.mu.Unlock()
			errs = append(errs, f.finishClose(context.WithoutCancel(ctx), victim))
			continue
		}
		f.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			errs = append(errs, ctx.Err())
			f.mu.Lock()
			f.stores = map[string]*store{} // give up on those in use
			f.mu.Unlock()
		}
	}
	// The stores every sink has wholly are no longer pending.
	errs = append(errs, f.save(context.WithoutCancel(ctx)))
	errs = append(errs, f.idx.Close(), f.dirLock.Release())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fleet: close: %w", err)
	}
	return nil
}

// identity is the do of store id's events.
func (f *Fleet) identity(id string) events.Identity {
	return events.Identity{ID: id, Class: f.class}
}
