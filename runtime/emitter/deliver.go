package emitter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/internal/changeevent"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

// sink is one delivery target with its own cursors, retry state and stats.
type sink struct {
	name      string
	out       Sink
	user      bool          // a user's sink: it reads Batch.Events
	batchSize int           // most events per batch
	split     int           // after a 413: most events per batch for now (0: batchSize)
	dead      []error       // what this round dead-lettered (ErrDeadLettered)
	wake      chan struct{} // a batch is full: Run delivers now

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
	tgt[srcCustom] = e.seq.next - 1
	tgt[srcRedrive] = e.marks.redriveMax
	txOn := e.marks.txOn
	e.mu.Unlock()
	if txOn {
		var seq int64
		if err := cdcx.Store(e.store).QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM emitter_txevents`).Scan(&seq); err != nil {
			return tgt, fmt.Errorf("emitter: %w", err)
		}
		tgt[srcTx] = uint64(seq)
	}
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
	s.dead = nil
	defer func() {
		// What was set aside is reported, after any failure.
		err = errors.Join(append([]error{err}, s.dead...)...)
		s.dead = nil
	}()
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
	for _, src := range []source{srcRedrive, srcTx} {
		if tgt[src] > s.cursor[src] {
			active = append(active, src)
		}
	}
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
		if !b.full {
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
			wg.Go(func() { errs[i] = e.send(ctx, s, &s.bufs[i]) })
		}
		wg.Wait()
	}
	for i := range n {
		b := &s.bufs[i]
		full = b.full
		if errs[i] == nil {
			if s.split > 0 {
				s.split = min(2*s.split, s.batchSize) // grow back
				if s.split == s.batchSize {
					s.split = 0
				}
			}
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
		de := e.deliveryError(s, b, errs[i])
		if de.Status == http.StatusRequestEntityTooLarge && b.len() > 1 {
			// Too large for the receiver: send it again in halves (at
			// once: nothing failed), and go back to full batches step by
			// step. A single event that is still too large is set aside.
			s.split = b.len() / 2
			e.log.Info("emitter: batch too large for the sink, splitting", "sink", s.name, "events", b.len(), "bytes", len(b.buf))
			return true, false, nil
		}
		if !de.Permanent && len(de.Rejected) == 0 {
			return false, false, e.failed(ctx, s, de)
		}
		rejected := len(de.Rejected)
		if rejected == 0 {
			rejected = b.len()
		}
		e.log.Warn("emitter: events rejected, dead-lettered", "sink", s.name, "source", sourceNames[src],
			"events", b.len(), "rejected", rejected, "first", b.first(), "last", b.last(), "error", de.Error())
		if err := e.advance(ctx, s, b, de); err != nil {
			return false, false, err
		}
		s.dead = append(s.dead, &deadNotice{msg: fmt.Sprintf("%s: %s: %d of %d events (%s %d-%d): %s", ErrDeadLettered, s.name,
			rejected, b.len(), sourceNames[src], b.first(), b.last(), de.Error()), err: de})
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
	split          int // the sink's split when it was prepared
}

// takeAhead moves the batch prepared ahead into s.bufs[0] if it is the one
// wanted now: the sink took the batch before it (its cursor is at after) and
// the round has the same target. s.run is held.
func (s *sink) takeAhead(src source, after, through uint64) bool {
	if s.aheadKey != (aheadKey{ok: true, src: src, after: after, through: through, split: s.split}) {
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
	if !b.full || b.last() >= through {
		return e.send(ctx, s, b)
	}
	key := aheadKey{ok: true, src: b.src, after: b.last(), through: through, split: s.split}
	var wg sync.WaitGroup
	var perr error
	wg.Go(func() { perr = e.prepare(ctx, s, key.src, key.after, key.through, &s.ahead) })
	err := e.send(ctx, s, b)
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
	var doID string
	if s.user {
		doID = e.Identity().ID
	}
	b.finish(e.storeID, doID, s.user)
	if p, ok := s.out.(preparer); ok {
		p.prepare(b)
	}
	return nil
}

// send hands b to s. User sinks get Options.RequestTimeout per call; the
// built-in ones apply it themselves.
func (e *Emitter) send(ctx context.Context, s *sink, b *batch) error {
	if s.user {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.RequestTimeout)
		defer cancel()
	}
	b.pub.prep = b // here: batches move between s.bufs and s.ahead
	return s.out.Send(ctx, &b.pub)
}

// fill loads the next batch of src for s, events after seq after up to
// through, into b (empty when nothing waits).
func (e *Emitter) fill(ctx context.Context, s *sink, src source, after, through uint64, b *batch) error {
	b.reset(src)
	if after >= through {
		return nil
	}
	limit := int(min(uint64(s.limit()), through-after))
	defer func() { b.full = b.len() == s.limit() || b.capped }()
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
		if err := e.encodeChanges(changes, b); err != nil {
			return err
		}
		b.capBytes(e.cfg.MaxBatchBytes)
		return nil
	}
	switch src {
	case srcRedrive:
		b.fromOutbox = true // in the store
		return e.readRedrive(ctx, s, after, through, limit, b)
	case srcTx:
		b.fromOutbox = true
		return e.readTxEvents(ctx, after, through, limit, b)
	}
	e.mu.Lock()
	if e.ob.max > after {
		e.mu.Unlock()
		b.fromOutbox = true
		if err := e.readOutbox(ctx, after, limit, e.cfg.MaxBatchBytes, b); err != nil || b.len() > 0 {
			return err
		}
		// Nothing left in the outbox after all: fall through to memory.
		e.mu.Lock()
		b.fromOutbox = false
	}
	defer e.mu.Unlock()
	live := e.q.after(after)
	for _, m := range live[:min(limit, len(live))] {
		if m.seq > through || !b.fits(len(m.js), e.cfg.MaxBatchBytes) {
			break
		}
		b.add(m.seq, m.tsMs, m.js)
	}
	return nil
}

// limit is the most events of s's next batch.
func (s *sink) limit() int {
	if s.split > 0 {
		return min(s.split, s.batchSize)
	}
	return s.batchSize
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
		ev := changeevent.Of(ch, string(idBuf), e.cfg.TrackPrevious)
		off := len(b.buf)
		if b.buf, err = ev.AppendJSON(b.buf, env); err != nil {
			return fmt.Errorf("emitter: encode change %s: %w", ch.Bookmark, err)
		}
		b.items = append(b.items, item{seq: uint64(seq), tsMs: ch.TS.UnixMilli(), off: off, end: len(b.buf),
			bookmark: ch.Bookmark, typ: ev.Type})
	}
	return nil
}

// deliveryError makes a sink's error a *DeliveryError that names the sink,
// never shows the API key and rejects only valid, distinct event indexes
// of b, in order.
func (e *Emitter) deliveryError(s *sink, b *batch, err error) *DeliveryError {
	var de *DeliveryError
	if !errors.As(err, &de) {
		return &DeliveryError{Sink: s.name, Msg: e.red.clean(err.Error()), Err: e.red.wrap(err)}
	}
	c := *de
	c.Sink, c.Msg, c.Err = s.name, e.red.clean(de.Msg), e.red.wrap(de.Err)
	if len(de.Rejected) > 0 {
		seen := make([]bool, b.len())
		c.Rejected = nil
		for _, i := range de.Rejected {
			if i >= 0 && i < b.len() && !seen[i] {
				seen[i] = true
			}
		}
		for i, r := range seen {
			if r {
				c.Rejected = append(c.Rejected, i)
			}
		}
		if len(c.Rejected) == b.len() {
			c.Rejected, c.Permanent = nil, true // all of them: the batch
		}
	}
	return &c
}
