package emitter

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

// sink is one delivery target with its own cursors, retry state and stats.
type sink struct {
	name      string
	send      func(ctx context.Context, b *batch) error
	prep      func(b *batch) // builds what send needs, once b is finished (nil: nothing)
	batchSize int            // most events per batch
	wake      chan struct{}  // a batch is full: Run delivers now

	run      sync.Mutex // one delivery of this sink at a time; guards bufs and ahead
	bufs     []batch    // one per batch in flight
	ahead    batch      // with one batch in flight: the next one, prepared during the send
	aheadKey aheadKey   // what ahead holds

	// Guarded by Emitter.mu. cursor is written with run held too, so
	// whoever holds run may also read it without Emitter.mu.
	cursor      [numSources]uint64 // last delivered seq per source
	saved       [numSources]uint64 // cursor as saved in the store
	unsaved     int                // batches of stored events delivered since the last save
	attempt     int                // consecutive failed attempts
	nextAt      time.Time          // no retry before this time
	lastErr     string
	delivered   uint64
	batches     uint64
	deadEvents  uint64
	deadBatches uint64
	failures    uint64
}

// deliver sends what waits to every sink, concurrently; with force it
// ignores the sinks' backoff timers (an explicit Flush is a retry). A round
// delivers what was there when it began, so it ends even while events keep
// coming; busy reports that it stopped with full batches (more may wait).
func (e *Emitter) deliver(ctx context.Context, force bool) (busy bool, err error) {
	tgt, err := e.targets(ctx)
	if err != nil {
		return false, err
	}
	errs := make([]error, len(e.sinks)+1)
	busies := make([]bool, len(e.sinks))
	if len(e.sinks) == 1 {
		busies[0], errs[0] = e.deliverSink(ctx, e.sinks[0], force, tgt)
	} else {
		var wg sync.WaitGroup
		for i, s := range e.sinks {
			wg.Go(func() { busies[i], errs[i] = e.deliverSink(ctx, s, force, tgt) })
		}
		wg.Wait()
	}
	if e.cfg.CDC {
		errs[len(e.sinks)] = e.pruneCDC(ctx)
	}
	for _, b := range busies {
		busy = busy || b
	}
	return busy, errors.Join(errs...)
}

// targets are the last sequence numbers, per source, a round delivers.
type targets [numSources]uint64

// targets returns the newest sequence numbers now.
func (e *Emitter) targets(ctx context.Context) (targets, error) {
	var tgt targets
	e.mu.Lock()
	tgt[srcCustom] = e.nextSeq - 1
	e.mu.Unlock()
	if e.cfg.CDC {
		bm, err := e.store.Bookmark(ctx)
		if err != nil {
			return tgt, fmt.Errorf("emitter: %w", err)
		}
		seq, _ := bm.Seq()
		tgt[srcCDC] = uint64(seq)
	}
	return tgt, nil
}

// deliverSink sends batches to one sink, taking the sources in turn, until
// each reached its target or a send fails (then the sink backs off).
func (e *Emitter) deliverSink(ctx context.Context, s *sink, force bool, tgt targets) (busy bool, err error) {
	s.run.Lock()
	defer s.run.Unlock()
	// A batch prepared ahead serves only this round: the next one starts
	// from fresh state (e.g. an identity EnrichFromRequest changed).
	defer func() { s.aheadKey = aheadKey{} }()
	defer func() {
		e.mu.Lock()
		unsaved := s.unsaved > 0
		e.mu.Unlock()
		if unsaved {
			err = errors.Join(err, e.saveSink(context.WithoutCancel(ctx), s, false, nil))
		}
	}()
	if !force {
		e.mu.Lock()
		due := !e.cfg.Now().Before(s.nextAt)
		e.mu.Unlock()
		if !due {
			return false, nil
		}
	}
	var active []source
	if e.cfg.CDC {
		active = append(active, srcCDC)
	}
	active = append(active, srcCustom)
	for len(active) > 0 {
		next := active[:0]
		for _, src := range active {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			sent, full, err := e.deliverSome(ctx, s, src, tgt[src])
			if err != nil {
				return false, err
			}
			busy = busy || full
			if sent {
				next = append(next, src)
			}
		}
		active = next
	}
	// After full batches more probably came meanwhile: the caller may go on.
	return busy, nil
}

// deliverSome sends the next batches of src (up to seq through) to s: up to
// s.inFlight at once, their results applied in order. sent reports that at
// least one was taken or rejected for good (the source may have more); full
// that the last one applied was a full batch. After a failure the later
// batches of the same flight are not counted as delivered: they are sent
// again, and HTTP recognises them by id and batchId.
func (e *Emitter) deliverSome(ctx context.Context, s *sink, src source, through uint64) (sent, full bool, err error) {
	// Only advance moves the cursor, with s.run held: no need for e.mu,
	// which Emit holds most of the time during a burst.
	after := s.cursor[src]
	n := 0
	for n < len(s.bufs) {
		b := &s.bufs[n]
		if n > 0 || !s.takeAhead(src, after, through) {
			if err := e.prepare(ctx, s, src, after, through, b); err != nil {
				return false, false, err
			}
		}
		if b.len() == 0 {
			break
		}
		after = b.last()
		n++
		if b.len() < s.batchSize {
			break // nothing more waits now
		}
	}
	if n == 0 {
		return false, false, nil
	}
	errs := make([]error, n)
	if n == 1 {
		errs[0] = e.sendOne(ctx, s, through)
	} else {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.send(ctx, &s.bufs[i]) })
		}
		wg.Wait()
	}
	for i := range n {
		b := &s.bufs[i]
		full = b.len() == s.batchSize
		if errs[i] == nil {
			if err := e.advance(ctx, s, b, nil); err != nil {
				return false, false, err
			}
			sent = true
			continue
		}
		if ctx.Err() != nil {
			// The caller gave up, the sink did not fail: keep the events, do
			// not back off.
			perr := e.persist(context.WithoutCancel(ctx))
			return false, false, errors.Join(fmt.Errorf("emitter: %s: %w", s.name, ctx.Err()), perr)
		}
		var de *DeliveryError
		if !errors.As(errs[i], &de) {
			de = &DeliveryError{Sink: s.name, Msg: e.red.clean(errs[i].Error()), Err: e.red.wrap(errs[i])}
		}
		if !de.Permanent {
			return false, false, e.failed(ctx, s, de)
		}
		e.log.Warn("emitter: batch rejected, dead-lettered", "sink", s.name, "source", sourceNames[src],
			"events", b.len(), "first", b.first(), "last", b.last(), "error", de.Error())
		if err := e.advance(ctx, s, b, de); err != nil {
			return false, false, err
		}
		sent = true
	}
	return sent, full, nil
}

// aheadKey names the batch a sink prepared ahead: the events of src after
// seq after, up to seq through. The same key always means the same events
// (an event's JSON never changes once emitted), so a prepared batch is
// valid as long as the sink's cursor is still at after.
type aheadKey struct {
	ok             bool
	src            source
	after, through uint64
}

// takeAhead moves the batch prepared ahead into s.bufs[0] if it is the one
// wanted now: the sink took the batch before it (its cursor is at after) and
// the round has the same target. s.run is held.
func (s *sink) takeAhead(src source, after, through uint64) bool {
	if s.aheadKey != (aheadKey{ok: true, src: src, after: after, through: through}) {
		s.aheadKey = aheadKey{}
		return false
	}
	s.bufs[0], s.ahead = s.ahead, s.bufs[0]
	s.aheadKey = aheadKey{}
	return true
}

// sendOne sends s.bufs[0], the only batch in flight. When it is full, more
// events probably wait: the next batch is filled and encoded meanwhile (in
// s.ahead), so the next request leaves as soon as this one's response
// arrives, and delivery stays strictly sequential. If the send fails the
// cursor stays put and the prepared batch is simply not used. s.run is held.
func (e *Emitter) sendOne(ctx context.Context, s *sink, through uint64) error {
	b := &s.bufs[0]
	if b.len() < s.batchSize || b.last() >= through {
		return s.send(ctx, b)
	}
	key := aheadKey{ok: true, src: b.src, after: b.last(), through: through}
	var wg sync.WaitGroup
	var perr error
	wg.Go(func() { perr = e.prepare(ctx, s, key.src, key.after, key.through, &s.ahead) })
	err := s.send(ctx, b)
	wg.Wait()
	if perr == nil && s.ahead.len() > 0 {
		s.aheadKey = key
	}
	return err
}

// prepare fills b with the next batch of src for s and, unless it is empty,
// builds what the sink sends.
func (e *Emitter) prepare(ctx context.Context, s *sink, src source, after, through uint64, b *batch) error {
	if err := e.fill(ctx, s, src, after, through, b); err != nil || b.len() == 0 {
		return err
	}
	b.finish()
	if s.prep != nil {
		s.prep(b)
	}
	return nil
}

// fill loads the next batch of src for s, events after seq after up to
// through, into b (empty when nothing waits).
func (e *Emitter) fill(ctx context.Context, s *sink, src source, after, through uint64, b *batch) error {
	b.reset(src)
	if after >= through {
		return nil
	}
	limit := int(min(uint64(s.batchSize), through-after))
	if src == srcCDC {
		changes, err := cdcx.Store(e.store).ReadLog(ctx, changelog.BookmarkFromSeq(int64(after)), limit)
		if err != nil {
			return fmt.Errorf("emitter: read change log: %w", err)
		}
		for len(changes) > 0 && uint64(mustSeq(changes[len(changes)-1].Bookmark)) > through {
			changes = changes[:len(changes)-1]
		}
		if len(changes) > 0 { // never reissued once shipped, also after power loss
			if err := cdcx.Store(e.store).Shipping(ctx, changes[len(changes)-1].Bookmark); err != nil {
				return fmt.Errorf("emitter: %w", err)
			}
		}
		return e.encodeChanges(changes, b)
	}
	e.mu.Lock()
	if e.outboxMax > after {
		e.mu.Unlock()
		b.fromOutbox = true
		if err := e.readOutbox(ctx, after, limit, b); err != nil || b.len() > 0 {
			return err
		}
		// Nothing left in the outbox after all: fall through to memory.
		e.mu.Lock()
		b.fromOutbox = false
	}
	defer e.mu.Unlock()
	live := e.live()
	i := sort.Search(len(live), func(i int) bool { return live[i].seq > after })
	for _, m := range live[i:min(i+limit, len(live))] {
		if m.seq > through {
			break
		}
		b.add(m.seq, m.tsMs, m.js)
	}
	return nil
}

// mustSeq is Bookmark.Seq for bookmarks the store issued (-1 if malformed).
func mustSeq(b cdc.Bookmark) int64 {
	n, err := b.Seq()
	if err != nil {
		return -1
	}
	return n
}

// encodeChanges turns change-log rows into collection events in b.
func (e *Emitter) encodeChanges(changes []cdc.RawChange, b *batch) error {
	if len(changes) == 0 {
		return nil
	}
	env := events.Envelope{DO: e.Identity()}
	var idBuf []byte
	for _, ch := range changes {
		seq, err := ch.Bookmark.Seq()
		if err != nil {
			return fmt.Errorf("emitter: change log: %w", err)
		}
		idBuf = appendEventID(idBuf[:0], e.storeID, 'c', uint64(seq))
		ev := events.CollectionChange{
			Type:       ch.Op.EventType(),
			TS:         ch.TS,
			ID:         string(idBuf),
			Collection: ch.Collection,
			DocID:      ch.DocID,
			Bookmark:   string(ch.Bookmark),
		}
		if ch.Op != cdc.OpDelete {
			ev.Doc = ch.Doc
		}
		if e.cfg.TrackPrevious && ch.Op != cdc.OpInsert {
			ev.Prev = ch.Prev
		}
		off := len(b.buf)
		if b.buf, err = ev.AppendJSON(b.buf, env); err != nil {
			return fmt.Errorf("emitter: encode change %s: %w", ch.Bookmark, err)
		}
		b.items = append(b.items, item{seq: uint64(seq), tsMs: ch.TS.UnixMilli(), off: off, end: len(b.buf)})
	}
	return nil
}
