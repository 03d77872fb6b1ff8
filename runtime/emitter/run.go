package emitter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Flush delivers everything that waits to every sink now, ignoring backoff
// timers (an explicit flush is a retry; a failure advances the schedule like
// any failed attempt). It returns nil when every sink took every event; on a
// failure the custom events not yet delivered everywhere are in the outbox
// before Flush returns, so none is lost if the process dies. Events a sink
// rejected for good are set aside (DeadLetters, Redrive) and delivery goes
// on; the error then matches ErrDeadLettered.
func (e *Emitter) Flush(ctx context.Context) error {
	if e.isClosed() {
		return ErrClosed
	}
	_, err := e.deliver(ctx, true)
	return err
}

// HandleAlarm runs what is due: it delivers what waits to every sink whose
// backoff has elapsed, and skips the others. Call it from a timer of your
// own (NextAlarm says when), or let Run do it.
func (e *Emitter) HandleAlarm(ctx context.Context) error {
	if e.isClosed() {
		return ErrClosed
	}
	_, err := e.deliver(ctx, false)
	return err
}

// NextAlarm returns when HandleAlarm next has work: the earliest retry time
// of a sink that is backing off, or now plus FlushInterval when nothing is
// backing off.
func (e *Emitter) NextAlarm() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	next := e.cfg.Now().Add(e.cfg.FlushInterval)
	for _, s := range e.sinks {
		if s.attempt > 0 && s.nextAt.Before(next) {
			next = s.nextAt
		}
	}
	return next
}

// PersistBatch writes the custom events waiting in memory to the outbox in
// the store (call it before the process may stop, e.g. before hibernation).
// A new emitter on the same store delivers them, once each.
func (e *Emitter) PersistBatch(ctx context.Context) error {
	if e.isClosed() {
		return ErrClosed
	}
	return e.persist(ctx)
}

// Run delivers until ctx ends or Close is called: each sink on its own
// goroutine (a slow sink never holds the other back), every FlushInterval
// (which also polls the change log), as soon as BatchSize custom events
// wait, at once again while a backlog remains, and when its retry is due.
// Failures are logged, counted in Stats and retried. Run returns nil when
// ctx ends or the emitter closes, or ErrClosed when it was closed before.
func (e *Emitter) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.life.closing {
		e.mu.Unlock()
		return ErrClosed
	}
	if e.life.runDone != nil {
		e.mu.Unlock()
		return errors.New("emitter: Run is already running")
	}
	done := make(chan struct{})
	e.life.runDone = done
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.life.runDone, e.life.runCancel = nil, nil
		e.mu.Unlock()
		close(done)
	}()
	// Close lets the rounds in flight finish (cancelling a send whose
	// answer is on its way would only make a duplicate), unless its own
	// ctx ends first: then it cancels them, and their events stay pending.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.mu.Lock()
	e.life.runCancel = cancel
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range e.sinks {
		wg.Go(func() { e.runSink(ctx, s) })
	}
	wg.Wait()
	return nil
}

// runSink is Run's loop for one sink.
func (e *Emitter) runSink(ctx context.Context, s *sink) {
	timer := time.NewTimer(e.cfg.FlushInterval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.stop:
			return
		case <-s.wake:
		case <-timer.C:
		}
		select {
		case <-e.stop: // select picks at random among ready cases
			return
		default:
		}
		if ctx.Err() != nil {
			return
		}
		busy, err := e.roundSink(ctx, s)
		if err != nil && ctx.Err() == nil {
			// Failures are logged where they happen and counted in Stats.
			e.log.Debug("emitter: delivery round failed", "sink", s.name, "error", err.Error())
		}
		wait := e.cfg.FlushInterval
		e.mu.Lock()
		if s.attempt > 0 {
			// The clock may be a test's; the timer measures the same span.
			wait = min(wait, s.nextAt.Sub(e.cfg.Now()))
		} else if busy {
			wait = 0 // a backlog: go on at once
		}
		e.mu.Unlock()
		timer.Reset(max(wait, 0))
	}
}

// roundSink delivers what is due to one sink, then prunes the change log.
func (e *Emitter) roundSink(ctx context.Context, s *sink) (bool, error) {
	tgt, err := e.targets(ctx)
	if err != nil {
		return false, err
	}
	busy, err := e.deliverSink(ctx, s, false, tgt)
	if e.cfg.CDC {
		err = errors.Join(err, e.pruneCDC(ctx))
	}
	return busy, err
}

// Close stops Run, delivers what it can (bounded by ctx) and persists the
// rest to the outbox, so a later emitter on the store delivers it. After
// Close, Emit returns ErrClosed. It does not close the store.
func (e *Emitter) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.life.closing {
		e.mu.Unlock()
		return nil
	}
	e.life.closing = true
	close(e.stop)
	runDone := e.life.runDone
	e.mu.Unlock()
	if runDone != nil {
		select {
		case <-runDone:
		case <-ctx.Done():
			e.mu.Lock()
			if e.life.runCancel != nil {
				e.life.runCancel()
			}
			e.mu.Unlock()
			<-runDone
		}
	}
	_, derr := e.deliver(ctx, true)
	e.bg.Wait() // Emit starts no more background work once closing
	perr := e.persist(context.WithoutCancel(ctx))
	e.mu.Lock()
	e.life.closed = true
	left := e.ob.count
	e.mu.Unlock()
	_ = e.release() // the next emitter may start (also after an error below)
	if perr != nil {
		return errors.Join(derr, fmt.Errorf("emitter: close: %w", perr))
	}
	if fail := withoutDead(derr); fail != nil {
		return fmt.Errorf("emitter: close: %d events left in the outbox: %w", left, fail)
	}
	return derr // nil, or what was set aside
}

func (e *Emitter) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.life.closed
}
