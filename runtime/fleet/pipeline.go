package fleet

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/internal/changeevent"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/emitter"
)

// readLimit is how many changes one read of a store's log takes.
const readLimit = 1000

// errNoSlot: every open slot is in use; a delivery open waits for the next round.
var errNoSlot = errors.New("fleet: no free slot")

// sink is one destination of the pipeline, with its retry state.
type sink struct {
	i         int
	out       emitter.Sink
	name      string
	batchSize int

	// Guarded by Fleet.mu.
	split        int     // after a 413: most events per batch for now
	cur          *formed // a batch that failed: sent again as is
	customPos    uint64  // custom events delivered through
	customSaved  uint64
	attempt      int
	nextAt       time.Time
	retrySaved   bool // the index holds a retry schedule of the sink
	lastErr      string
	delivered    uint64
	requests     uint64
	failures     uint64
	deadLettered uint64
}

// limit is the most events of s's next batch.
func (s *sink) limit() int {
	if s.split > 0 {
		return min(s.split, s.batchSize)
	}
	return s.batchSize
}

// formed is a batch of many stores' events and what it advances.
type formed struct {
	b      emitter.Batch
	parts  []part
	custom uint64 // custom events through this seq (0: none)
	bytes  int
}

// part is the events of one store in a batch: through bookmark number.
type part struct {
	st      *store
	through uint64
}

// customEv is a custom event waiting for some sink.
type customEv struct {
	seq   uint64
	store string
	ts    time.Time
	id    string
	typ   string
	js    []byte
}

// customQueue holds custom events until every sink took them.
type customQueue struct {
	evs       []customEv
	next, end uint64 // next sequence number; end of the reserved block
	persisted uint64 // events through this seq are in the index's outbox
}

// Emit queues a custom event of store id (do.id = id, do.class = Class;
// ts: now when it has none; id: a unique event id). An event that carries
// an identity of its own with another id is refused (events.ErrInvalidEvent). Like emitter.Emit it
// is not durable on return: events wait in memory and are set aside in the
// index when a sink fails or the fleet closes. An event that must commit
// with the data goes through the store's transactional path inside Do.
// It neither opens nor creates the store.
func (f *Fleet) Emit(ctx context.Context, id string, ev events.Event) error {
	if err := events.ValidateStoreID(id); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	if ev == nil {
		return fmt.Errorf("%w: nil event", events.ErrInvalidEvent)
	}
	env := events.Envelope{TS: f.p.Now().UTC().Truncate(time.Millisecond), DO: f.identity(id)}
	ts, err := f.p.Check(ev, env)
	typ := ev.EventType()
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	if len(f.custom.evs) >= f.p.MaxBacklog {
		return fmt.Errorf("%w: %d custom events wait for delivery", emitter.ErrBacklogFull, len(f.custom.evs))
	}
	if f.custom.next >= f.custom.end {
		first, err := reserveCustom(ctx, f.idx) // the index, never a store: cheap
		if err != nil {
			return err
		}
		f.custom.next, f.custom.end = first, first+customBlock
	}
	seq := f.custom.next
	env.ID = f.writer + "-e" + strconv.FormatUint(seq, 10)
	js, err := ev.AppendJSON(nil, env)
	if err != nil {
		return fmt.Errorf("fleet: encode %s: %w", typ, err)
	}
	if doID, ok := encodedDOID(js); !ok {
		return fmt.Errorf("%w: AppendJSON must write one JSON object without raw newlines", events.ErrInvalidEvent)
	} else if doID != id {
		return fmt.Errorf("%w: %s carries do.id %q, not the store's %q", events.ErrInvalidEvent, typ, doID, id)
	}
	f.custom.next++
	f.custom.evs = append(f.custom.evs, customEv{seq: seq, store: id, ts: ts.UTC(), id: env.ID, typ: typ, js: js})
	signal(f.wake)
	if len(f.custom.evs) >= f.sinks0BatchSize() {
		signal(f.full)
	}
	return nil
}

// encodedDOID returns the do.id of an encoded event; ok is false unless js
// is one JSON object on one line.
func encodedDOID(js []byte) (string, bool) {
	if len(js) == 0 || js[0] != '{' || bytes.ContainsAny(js, "\r\n") {
		return "", false
	}
	var head struct {
		DO struct {
			ID string `json:"id"`
		} `json:"do"`
	}
	if json.Unmarshal(js, &head) != nil {
		return "", false
	}
	return head.DO.ID, true
}

// Run delivers until ctx ends or Close is called: woken by commits (Do)
// and Emit, it lets events gather for FlushInterval (less when a batch's
// worth waits), then delivers; it retries failed sinks on their schedule
// and closes stores idle for IdleTimeout.
func (f *Fleet) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	if f.running {
		f.mu.Unlock()
		return errors.New("fleet: Run is already running")
	}
	f.running = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running = false
		f.mu.Unlock()
	}()
	var idle <-chan time.Time
	if f.idleTimeout > 0 {
		t := time.NewTicker(max(f.idleTimeout/2, 10*time.Millisecond))
		defer t.Stop()
		idle = t.C
	}
	// Closing stores ahead of misses runs beside the rounds.
	evictDone := make(chan struct{})
	defer func() { <-evictDone }()
	evictCtx, stopEvict := context.WithCancel(ctx)
	defer stopEvict()
	go func() {
		defer close(evictDone)
		for {
			select {
			case <-evictCtx.Done():
				return
			case <-f.stop:
				return
			case <-f.evict:
				f.evictAhead(evictCtx)
			}
		}
	}()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.stop:
			return nil
		case <-idle:
			f.evictIdle(ctx)
			continue
		case <-retry.C:
		case <-f.full:
		case <-f.wake:
			t := time.NewTimer(f.p.FlushInterval)
			select {
			case <-t.C:
			case <-f.full:
			case <-f.stop:
			case <-ctx.Done():
			}
			t.Stop()
		}
		more, err := f.deliverRound(ctx, false)
		if err != nil && ctx.Err() == nil {
			f.log.Warn("fleet: delivery", "error", err.Error())
		}
		if more {
			// What came during the round waits for its own batch (or a
			// batch's worth, which signals full).
			signal(f.wake)
		}
		if at, ok := f.nextRetry(); ok {
			retry.Reset(max(time.Until(at), time.Millisecond))
		}
	}
}

// nextRetry is the earliest time a failed sink with events waiting is due.
func (f *Fleet) nextRetry() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var at time.Time
	for _, s := range f.sinks {
		if s.attempt > 0 && (at.IsZero() || s.nextAt.Before(at)) {
			at = s.nextAt
		}
	}
	return at, !at.IsZero()
}

// evictIdle closes stores unused for IdleTimeout.
func (f *Fleet) evictIdle(ctx context.Context) {
	cutoff := time.Now().Add(-f.idleTimeout)
	for {
		f.mu.Lock()
		e := f.lru.Back()
		if e == nil {
			f.mu.Unlock()
			return
		}
		st := e.Value.(*store)
		if st.refs > 0 || st.busy != nil || st.lastUsed.After(cutoff) {
			f.mu.Unlock()
			return
		}
		f.beginClose(st)
		f.mu.Unlock()
		if err := f.finishClose(ctx, st); err != nil {
			f.log.Warn("fleet: closing an idle store failed", "store", st.id, "error", err.Error())
		}
	}
}

// evictAhead closes least recently used idle stores until headroom slots
// are free.
func (f *Fleet) evictAhead(ctx context.Context) {
	for {
		f.mu.Lock()
		if f.nOpen <= f.maxOpen-f.headroom() {
			f.mu.Unlock()
			return
		}
		st := f.lruVictim()
		if st == nil {
			f.mu.Unlock()
			return
		}
		f.beginClose(st)
		f.mu.Unlock()
		if err := f.finishClose(ctx, st); err != nil {
			f.log.Warn("fleet: closing an idle store failed", "store", st.id, "error", err.Error())
		}
	}
}

// Flush delivers everything waiting now to every sink, also sinks waiting
// for a retry, reopening stores as needed; it returns the first failure.
func (f *Fleet) Flush(ctx context.Context) error {
	for range 1_000_000 {
		more, err := f.deliverRound(ctx, true)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return errors.New("fleet: flush did not finish")
}

// deliverRound reads what stores committed, sends it to every sink and
// saves the positions in one index transaction. more reports that events
// still wait (not read yet, or a batch's worth arrived meanwhile).
func (f *Fleet) deliverRound(ctx context.Context, force bool) (more bool, err error) {
	f.round.Lock()
	defer f.round.Unlock()
	f.mu.Lock()
	f.dirty = 0
	var customTarget uint64 // a round delivers the custom events there now
	if n := len(f.custom.evs); n > 0 {
		customTarget = f.custom.evs[n-1].seq
	}
	f.mu.Unlock()
	rerr := f.readStores(ctx)
	errs := make([]error, len(f.sinks))
	var wg sync.WaitGroup
	for i, s := range f.sinks {
		wg.Go(func() { errs[i] = f.deliverSink(ctx, s, force, customTarget) })
	}
	wg.Wait()
	serr := f.save(context.WithoutCancel(ctx))
	var failed bool
	for _, e := range errs {
		if e != nil && !errors.Is(e, emitter.ErrDeadLettered) {
			failed = true
		}
	}
	var perr error
	if failed {
		perr = f.persistCustom(context.WithoutCancel(ctx))
	}
	f.mu.Lock()
	more = len(f.unread) > 0 && f.queued < maxQueued
	if !failed {
		more = more || f.waitingLocked()
	}
	f.mu.Unlock()
	return more && ctx.Err() == nil, errors.Join(append(errs, rerr, serr, perr)...)
}

// waitingLocked reports whether a sink has events in memory it has not taken.
func (f *Fleet) waitingLocked() bool {
	for _, s := range f.sinks {
		if n := len(f.custom.evs); n > 0 && f.custom.evs[n-1].seq > s.customPos {
			return true
		}
		for st := range f.withQ {
			if n := len(st.q); n > 0 && st.q[n-1].seq > st.pos[s.i] {
				return true
			}
		}
	}
	return false
}

// readStores reads the changes of the stores that committed (or may have:
// the index listed them) into memory, oldest pending first, opening those
// that are closed (up to MaxOpen at once) until maxQueued changes wait.
func (f *Fleet) readStores(ctx context.Context) error {
	f.mu.Lock()
	list := make([]*store, 0, len(f.unread))
	for st := range f.unread {
		list = append(list, st)
	}
	f.mu.Unlock()
	slices.SortFunc(list, func(a, b *store) int { return cmp.Or(cmp.Compare(a.since, b.since), cmp.Compare(a.id, b.id)) })
	var errs []error
	for _, st := range list {
		if ctx.Err() != nil {
			break
		}
		f.mu.Lock()
		full := f.queued >= maxQueued
		if !full {
			delete(f.unread, st) // a commit from now on marks it again
		}
		f.mu.Unlock()
		if full {
			break
		}
		if err := f.readStore(ctx, st); err != nil {
			f.mu.Lock()
			f.unread[st] = struct{}{}
			f.mu.Unlock()
			switch {
			case errors.Is(err, errNoSlot):
				return errors.Join(errs...)
			case errors.Is(err, ErrClosed): // closing: only open stores are read
			case errors.Is(err, fs.ErrNotExist):
				// The file was removed: nothing is left to deliver.
				f.log.Warn("fleet: a pending store's file is gone", "store", st.id)
				errs = append(errs, f.forget(ctx, st))
			default:
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// forget drops a store whose file is gone from the pending record.
func (f *Fleet) forget(ctx context.Context, st *store) error {
	f.mu.Lock()
	delete(f.unread, st)
	if f.stores[st.id] == st && st.db == nil && st.busy == nil {
		delete(f.stores, st.id)
	}
	f.mu.Unlock()
	if _, err := f.idx.ExecContext(ctx, `DELETE FROM pending WHERE store = ?`, st.id); err != nil {
		return fmt.Errorf("fleet: index: %w", err)
	}
	return nil
}

// readStore reads st's new changes into memory.
func (f *Fleet) readStore(ctx context.Context, st *store) error {
	st2, err := f.acquire(ctx, st.id, false, true)
	if err != nil {
		return err
	}
	defer f.releaseStore(st2, false)
	st = st2
	db := st.db
	for {
		f.mu.Lock()
		after, room := st.read, maxQueued-f.queued
		f.mu.Unlock()
		if room <= 0 {
			f.mu.Lock()
			f.unread[st] = struct{}{}
			f.mu.Unlock()
			return nil
		}
		changes, err := cdcx.Store(db).ReadLog(ctx, changelog.BookmarkFromSeq(int64(after)), min(readLimit, room))
		if err != nil {
			return fmt.Errorf("fleet: %s: read change log: %w", st.id, err)
		}
		if len(changes) == 0 {
			return nil
		}
		// Never reissued once shipped, also after a power loss (rule 6).
		if err := cdcx.Store(db).Shipping(ctx, changes[len(changes)-1].Bookmark); err != nil {
			return fmt.Errorf("fleet: %s: %w", st.id, err)
		}
		enc, err := f.encode(st, changes)
		if err != nil {
			return err
		}
		f.mu.Lock()
		st.q = append(st.q, enc...)
		st.read = enc[len(enc)-1].seq
		f.queued += len(enc)
		f.withQ[st] = struct{}{}
		f.mu.Unlock()
		if len(changes) < readLimit {
			return nil
		}
	}
}

// encode turns change-log rows of st into collection events.
func (f *Fleet) encode(st *store, changes []cdc.RawChange) ([]change, error) {
	env := events.Envelope{DO: f.identity(st.id)}
	out := make([]change, 0, len(changes))
	for _, ch := range changes {
		seq, err := ch.Bookmark.Seq()
		if err != nil {
			return nil, fmt.Errorf("fleet: %s: change log: %w", st.id, err)
		}
		ev := changeevent.Of(ch, st.eid+"-c"+strconv.FormatInt(seq, 10), f.p.TrackPrevious)
		js, err := ev.AppendJSON(nil, env)
		if err != nil {
			return nil, fmt.Errorf("fleet: %s: encode change %s: %w", st.id, ch.Bookmark, err)
		}
		out = append(out, change{seq: uint64(seq), ts: ch.TS.UTC(), id: ev.ID, typ: ev.Type, bm: ch.Bookmark, js: js})
	}
	return out, nil
}

// deliverSink sends s batches until it has everything read (and the
// custom events up to customTarget) or a send fails.
func (f *Fleet) deliverSink(ctx context.Context, s *sink, force bool, customTarget uint64) error {
	f.mu.Lock()
	due := force || !f.p.Now().Before(s.nextAt)
	f.mu.Unlock()
	if !due {
		return nil
	}
	var dead []error
	for range 1_000_000 {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.mu.Lock()
		b := s.cur
		if b == nil {
			b = f.formLocked(s, customTarget)
		}
		f.mu.Unlock()
		if b == nil {
			break
		}
		err := f.send(ctx, s, b)
		if err == nil {
			f.advance(s, b, nil)
			continue
		}
		if ctx.Err() != nil {
			f.mu.Lock()
			s.cur = b
			f.mu.Unlock()
			return fmt.Errorf("fleet: %s: %w", s.name, ctx.Err())
		}
		var de *emitter.DeliveryError
		if !errors.As(err, &de) {
			de = &emitter.DeliveryError{Sink: s.name, Msg: f.p.Clean(err.Error()), Err: err}
		}
		if de.Status == http.StatusRequestEntityTooLarge && len(b.b.Events) > 1 {
			f.mu.Lock()
			s.split, s.cur = len(b.b.Events)/2, nil
			f.mu.Unlock()
			continue
		}
		if de.Permanent || len(de.Rejected) > 0 {
			if derr := f.deadLetter(ctx, s, b, de); derr != nil {
				return derr
			}
			f.advance(s, b, de)
			dead = append(dead, fmt.Errorf("%w: %s: %w", emitter.ErrDeadLettered, s.name, de))
			continue
		}
		f.mu.Lock()
		s.cur = b
		s.attempt++
		s.failures++
		s.nextAt = f.p.Now().Add(f.p.RetryDelay(s.attempt, de.RetryAfter))
		s.lastErr = de.Error()
		attempt, next := s.attempt, s.nextAt
		s.retrySaved = true
		f.mu.Unlock()
		// The schedule survives a restart: a new fleet does not hammer a
		// sink that is down.
		_, perr := f.idx.ExecContext(context.WithoutCancel(ctx), `INSERT INTO retry (sink, attempt, next_ms, last_error)
			VALUES (?, ?, ?, ?) ON CONFLICT (sink) DO UPDATE SET attempt = excluded.attempt,
			next_ms = excluded.next_ms, last_error = excluded.last_error`, s.name, attempt, next.UnixMilli(), de.Error())
		return errors.Join(append(dead, de, perr)...)
	}
	return errors.Join(dead...)
}

// send hands b to s, within RequestTimeout for a user's sink (the built-in
// ones apply it themselves).
func (f *Fleet) send(ctx context.Context, s *sink, b *formed) error {
	ctx, cancel := context.WithTimeout(ctx, f.p.RequestTimeout+time.Second)
	defer cancel()
	f.mu.Lock()
	s.requests++
	f.mu.Unlock()
	return s.out.Send(ctx, &b.b)
}

// formLocked forms s's next batch: the oldest pending stores' events after
// s's position (each store's in bookmark order), then custom events, up to
// s's limit and MaxBatchBytes; nil when nothing waits. f.mu is held.
func (f *Fleet) formLocked(s *sink, customTarget uint64) *formed {
	limit, maxBytes := s.limit(), f.p.MaxBatchBytes
	b := &formed{}
	fits := func(n int) bool {
		if len(b.b.Events) >= limit {
			return false
		}
		if len(b.b.Events) > 0 && b.bytes+n+1+128 > maxBytes {
			return false
		}
		b.bytes += n + 1
		return true
	}
	stores := make([]*store, 0, len(f.withQ))
	for st := range f.withQ {
		if n := len(st.q); n > 0 && st.q[n-1].seq > st.pos[s.i] {
			stores = append(stores, st)
		}
	}
	slices.SortFunc(stores, func(a, b *store) int { return cmp.Or(cmp.Compare(a.since, b.since), cmp.Compare(a.id, b.id)) })
	full := false
	for _, st := range stores {
		pos := st.pos[s.i]
		i, _ := slices.BinarySearchFunc(st.q, pos+1, func(c change, seq uint64) int { return cmp.Compare(c.seq, seq) })
		var through uint64
		for ; i < len(st.q); i++ {
			c := &st.q[i]
			if !fits(len(c.js)) {
				full = true
				break
			}
			b.b.Events = append(b.b.Events, emitter.BatchEvent{Store: st.id, ID: c.id, Type: c.typ, TS: c.ts, Bookmark: c.bm, JSON: c.js})
			through = c.seq
		}
		if through > 0 {
			b.parts = append(b.parts, part{st: st, through: through})
		}
		if full {
			break
		}
	}
	if !full {
		evs := f.custom.evs
		i, _ := slices.BinarySearchFunc(evs, s.customPos+1, func(c customEv, seq uint64) int { return cmp.Compare(c.seq, seq) })
		for ; i < len(evs) && evs[i].seq <= customTarget; i++ {
			c := &evs[i]
			if !fits(len(c.js)) {
				break
			}
			b.b.Events = append(b.b.Events, emitter.BatchEvent{Store: c.store, ID: c.id, Type: c.typ, TS: c.ts, JSON: c.js})
			b.custom = c.seq
		}
	}
	if len(b.b.Events) == 0 {
		return nil
	}
	f.batchN++
	b.b.ID = f.batchBase + "-" + strconv.FormatUint(f.batchN, 10)
	return b
}

// advance records that s took b (de == nil) or rejected it for good.
func (f *Fleet) advance(s *sink, b *formed, de *emitter.DeliveryError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range b.parts {
		p.st.pos[s.i] = max(p.st.pos[s.i], p.through)
	}
	if b.custom > 0 {
		s.customPos = max(s.customPos, b.custom)
	}
	n := uint64(len(b.b.Events))
	switch {
	case de == nil:
		s.delivered += n
	case len(de.Rejected) > 0:
		s.delivered += n - uint64(len(de.Rejected))
		s.deadLettered += uint64(len(de.Rejected))
	default:
		s.deadLettered += n
	}
	s.cur, s.attempt, s.nextAt, s.lastErr = nil, 0, time.Time{}, ""
	if s.split > 0 && de == nil {
		if s.split = 2 * s.split; s.split >= s.batchSize {
			s.split = 0
		}
	}
}

// deadLetter keeps what s rejected of b in the index.
func (f *Fleet) deadLetter(ctx context.Context, s *sink, b *formed, de *emitter.DeliveryError) error {
	var body []byte
	n := 0
	add := func(i int) {
		if i >= 0 && i < len(b.b.Events) {
			body = append(append(body, b.b.Events[i].JSON...), '\n')
			n++
		}
	}
	if len(de.Rejected) > 0 {
		for _, i := range de.Rejected {
			add(i)
		}
	} else {
		for i := range b.b.Events {
			add(i)
		}
	}
	f.log.Warn("fleet: events rejected, dead-lettered", "sink", s.name, "events", n, "error", de.Error())
	_, err := f.idx.ExecContext(context.WithoutCancel(ctx), `INSERT INTO dead (sink, batch_id, events, status, error, body, ts_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.name, b.b.ID, n, de.Status, de.Error(), body, f.p.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("fleet: %s: dead letter: %w", s.name, err)
	}
	return nil
}

// posUpdate is one position to save.
type posUpdate struct {
	sink, store string
	seq         uint64
}

// save writes every moved position, and drops the pending rows of the
// closed stores that are delivered, in one index transaction; then frees
// what every sink took and lets stores' own positions follow (lazily).
func (f *Fleet) save(ctx context.Context) error {
	f.mu.Lock()
	var ups []posUpdate
	for st := range f.withQ {
		for i, s := range f.sinks {
			if st.pos[i] != st.saved[i] {
				ups = append(ups, posUpdate{s.name, st.id, st.pos[i]})
			}
		}
	}
	type unpend struct {
		st  *store
		gen int64
	}
	var unpends []unpend
	for _, st := range f.stores {
		if st.pendingRow && st.db == nil && st.busy == nil && st.loaded && st.caughtUpLocked(f) {
			unpends = append(unpends, unpend{st, st.gen})
		}
	}
	var healthy []string // sinks that recovered since their schedule was saved
	for _, s := range f.sinks {
		if s.attempt == 0 && s.retrySaved {
			healthy = append(healthy, s.name)
			s.retrySaved = false
		}
	}
	customs := make([]uint64, len(f.sinks))
	minCustom := uint64(0)
	for i, s := range f.sinks {
		customs[i] = s.customPos
		if i == 0 || s.customPos < minCustom {
			minCustom = s.customPos
		}
	}
	f.mu.Unlock()
	err := inTx(ctx, f.idx, func(tx *sql.Tx) error {
		for _, u := range ups {
			if _, err := tx.ExecContext(ctx, `INSERT INTO positions (sink, store, seq) VALUES (?, ?, ?)
				ON CONFLICT (sink, store) DO UPDATE SET seq = max(seq, excluded.seq)`, u.sink, u.store, int64(u.seq)); err != nil {
				return err
			}
		}
		for i, s := range f.sinks {
			if customs[i] != s.customSaved {
				if _, err := tx.ExecContext(ctx, `INSERT INTO custom_pos (sink, seq) VALUES (?, ?)
					ON CONFLICT (sink) DO UPDATE SET seq = max(seq, excluded.seq)`, s.name, int64(customs[i])); err != nil {
					return err
				}
			}
		}
		for _, name := range healthy {
			if _, err := tx.ExecContext(ctx, `DELETE FROM retry WHERE sink = ?`, name); err != nil {
				return err
			}
		}
		if minCustom > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE seq <= ?`, int64(minCustom)); err != nil {
				return err
			}
		}
		for _, u := range unpends {
			if _, err := tx.ExecContext(ctx, `DELETE FROM pending WHERE store = ? AND gen = ?`, u.st.id, u.gen); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fleet: save positions: %w", err)
	}
	now := time.Now()
	var follow []*store
	f.mu.Lock()
	for st := range f.withQ {
		copy(st.saved, st.pos)
		low := slicesMin(st.pos)
		k := 0
		for k < len(st.q) && st.q[k].seq <= low {
			k++
		}
		if k > 0 {
			f.queued -= k
			st.q = slices.Delete(st.q, 0, k)
		}
		if len(st.q) == 0 {
			st.q = nil
			delete(f.withQ, st)
		}
		if st.db != nil && st.busy == nil && st.minSaved() > st.released && now.Sub(st.lastRelease) >= releaseEvery {
			follow = append(follow, st)
		}
	}
	for i, s := range f.sinks {
		s.customSaved = max(s.customSaved, customs[i])
	}
	k := 0
	for k < len(f.custom.evs) && f.custom.evs[k].seq <= minCustom {
		k++
	}
	f.custom.evs = slices.Delete(f.custom.evs, 0, k)
	for _, u := range unpends {
		if u.st.gen == u.gen {
			u.st.pendingRow, u.st.since = false, 0
			if u.st.db == nil && u.st.busy == nil && u.st.refs == 0 && f.stores[u.st.id] == u.st {
				delete(f.stores, u.st.id) // forget it: the index has its positions
			}
		}
	}
	f.mu.Unlock()
	var errs []error
	for _, st := range follow {
		errs = append(errs, f.follow(ctx, st))
	}
	return errors.Join(errs...)
}

// caughtUpLocked reports whether every sink has every change of st that
// exists (none unread, none in memory, all saved). f.mu is held.
func (st *store) caughtUpLocked(f *Fleet) bool {
	if _, ok := f.unread[st]; ok || len(st.q) > 0 {
		return false
	}
	for i := range st.saved {
		if st.saved[i] < st.read || st.pos[i] != st.saved[i] {
			return false
		}
	}
	return true
}

// follow moves st's position in the store itself up to the index's, so
// its log may be pruned (never above what every sink has, saved).
func (f *Fleet) follow(ctx context.Context, st *store) error {
	f.mu.Lock()
	if st.db == nil || st.busy != nil {
		f.mu.Unlock()
		return nil
	}
	st.refs++
	through := st.minSaved()
	db := st.db
	f.mu.Unlock()
	defer f.releaseStore(st, false)
	if _, err := cdcx.Store(db).Release(ctx, consumer, changelog.BookmarkFromSeq(int64(through))); err != nil {
		return fmt.Errorf("fleet: %s: release: %w", st.id, err)
	}
	f.mu.Lock()
	st.released = max(st.released, through)
	st.lastRelease = time.Now()
	f.mu.Unlock()
	return nil
}

// persistCustom sets the custom events in memory aside in the index.
func (f *Fleet) persistCustom(ctx context.Context) error {
	f.mu.Lock()
	var evs []customEv
	for _, c := range f.custom.evs {
		if c.seq > f.custom.persisted {
			evs = append(evs, c)
		}
	}
	f.mu.Unlock()
	if len(evs) == 0 {
		return nil
	}
	err := inTx(ctx, f.idx, func(tx *sql.Tx) error {
		for _, c := range evs {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO outbox (seq, store, ts_ms, type, json) VALUES (?, ?, ?, ?, ?)`,
				int64(c.seq), c.store, c.ts.UnixMilli(), c.typ, c.js); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fleet: set custom events aside: %w", err)
	}
	f.mu.Lock()
	f.custom.persisted = max(f.custom.persisted, evs[len(evs)-1].seq)
	f.mu.Unlock()
	return nil
}

// loadRetry resumes the retry schedules a previous fleet saved.
func (f *Fleet) loadRetry(ctx context.Context) error {
	rows, err := f.idx.QueryContext(ctx, `SELECT sink, attempt, next_ms, last_error FROM retry`)
	if err != nil {
		return fmt.Errorf("fleet: index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, msg string
		var attempt int
		var next int64
		if err := rows.Scan(&name, &attempt, &next, &msg); err != nil {
			return fmt.Errorf("fleet: index: %w", err)
		}
		for _, s := range f.sinks {
			if s.name == name {
				s.attempt, s.nextAt, s.lastErr, s.retrySaved = attempt, time.UnixMilli(next), msg, true
			}
		}
	}
	return rows.Err()
}

// loadCustom resumes the custom events a previous fleet set aside.
func (f *Fleet) loadCustom(ctx context.Context) error {
	rows, err := f.idx.QueryContext(ctx, `SELECT sink, seq FROM custom_pos`)
	if err != nil {
		return fmt.Errorf("fleet: index: %w", err)
	}
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			rows.Close()
			return fmt.Errorf("fleet: index: %w", err)
		}
		for _, s := range f.sinks {
			if s.name == name {
				s.customPos, s.customSaved = uint64(seq), uint64(seq)
			}
		}
	}
	rows.Close()
	rows, err = f.idx.QueryContext(ctx, `SELECT seq, store, ts_ms, type, json FROM outbox ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("fleet: index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c customEv
		var seq, ms int64
		if err := rows.Scan(&seq, &c.store, &ms, &c.typ, &c.js); err != nil {
			return fmt.Errorf("fleet: index: %w", err)
		}
		c.seq, c.ts = uint64(seq), time.UnixMilli(ms).UTC()
		c.id = f.writer + "-e" + strconv.FormatInt(seq, 10)
		f.custom.evs = append(f.custom.evs, c)
		f.custom.persisted = c.seq
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("fleet: index: %w", err)
	}
	// A sink added since starts with the oldest event set aside.
	if n := len(f.custom.evs); n > 0 {
		signal(f.wake)
	}
	return nil
}
