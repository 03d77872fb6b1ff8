package emitter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

// lazySaves is how many batches the HTTP sink may deliver before its
// cursors are saved (they are also saved at the end of every round). A
// crash re-sends at most that many batches, which HTTP de-duplicates by id
// and batchId; the lake saves after every batch, as its exactly-once keys
// need a retry to start where the failed attempt started.
const lazySaves = 16

// advance records that s took b (de == nil) or rejected it for good (de is
// the rejection: the batch is dead-lettered). Cursors of events that are in
// the store (changes, outbox rows) are saved; memory-only events need not be.
func (e *Emitter) advance(ctx context.Context, s *sink, b *batch, de *DeliveryError) error {
	// The sink has the batch: record it even if the caller stops waiting.
	ctx = context.WithoutCancel(ctx)
	e.mu.Lock()
	s.cursor[b.src] = b.last()
	durable := b.src == srcCDC || b.fromOutbox || e.ob.max >= b.first() || e.ob.persisting >= b.first()
	switch {
	case de == nil:
		s.delivered += uint64(b.len())
		s.batches++
	case len(de.Rejected) > 0:
		s.delivered += uint64(b.len() - len(de.Rejected))
		s.batches++
		s.deadEvents += uint64(len(de.Rejected))
		s.deadBatches++
	default:
		s.deadEvents += uint64(b.len())
		s.deadBatches++
	}
	recovered := s.attempt > 0
	if recovered {
		s.attempt, s.nextAt = 0, time.Time{}
	}
	if b.src == srcCustom {
		e.q.releaseThrough(e.minCursorLocked(srcCustom))
	}
	if durable {
		s.unsaved++
	}
	lazy := s.name == "http" && de == nil && !recovered && s.unsaved < lazySaves
	e.mu.Unlock()
	if de == nil && !recovered && (!durable || lazy) {
		return nil
	}
	var dead func(tx *cdc.Tx) error
	if de != nil {
		dead = func(tx *cdc.Tx) error { return e.deadLetter(ctx, tx, s, b, de) }
	}
	return e.saveSink(ctx, s, recovered, dead)
}

// saveSink saves s's cursors (and, with recovered, clears its retry state;
// with extra, runs more statements) in one transaction, then deletes the
// outbox rows every sink's saved cursor has passed. Only saved cursors
// allow pruning: a restarted process resumes from them.
func (e *Emitter) saveSink(ctx context.Context, s *sink, recovered bool, extra func(tx *cdc.Tx) error) error {
	e.mu.Lock()
	cursors, saved := s.cursor, s.saved
	s.unsaved = 0
	redrive := e.marks.redriveMax > 0
	e.mu.Unlock()
	err := e.store.Update(ctx, func(tx *cdc.Tx) error {
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		for src := range numSources {
			if cursors[src] == saved[src] {
				continue // saved already (cursors never move back)
			}
			if err := saveCursor(ctx, tx, s.name, source(src), cursors[src]); err != nil {
				return err
			}
		}
		if redrive && cursors[srcRedrive] > saved[srcRedrive] {
			if _, err := cdcx.Tx(tx).ExecContext(ctx, `DELETE FROM emitter_redrive WHERE sink = ? AND seq <= ?`,
				s.name, int64(cursors[srcRedrive])); err != nil {
				return err
			}
		}
		if recovered {
			if _, err := cdcx.Tx(tx).ExecContext(ctx, `DELETE FROM emitter_retry WHERE sink = ?`, s.name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("emitter: %s: save cursor: %w", s.name, err)
	}
	e.mu.Lock()
	for src := range numSources {
		s.saved[src] = max(s.saved[src], cursors[src])
	}
	e.mu.Unlock()
	if err := e.pruneTxEvents(ctx); err != nil {
		return err
	}
	e.mu.Lock()
	through := e.minSavedLocked(srcCustom)
	prune := e.ob.count > 0 && through > e.ob.pruned
	e.mu.Unlock()
	if !prune {
		return nil
	}
	var pruned int64
	err = e.store.Update(ctx, func(tx *cdc.Tx) error {
		res, err := cdcx.Tx(tx).ExecContext(ctx, `DELETE FROM emitter_outbox WHERE seq <= ?`, int64(through))
		if err != nil {
			return err
		}
		pruned, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("emitter: prune outbox: %w", err)
	}
	e.mu.Lock()
	e.ob.count -= int(pruned)
	e.ob.pruned = max(e.ob.pruned, through)
	e.mu.Unlock()
	return nil
}

// deadLetter keeps what s rejected of b: the whole batch, or only the
// events de.Rejected names.
func (e *Emitter) deadLetter(ctx context.Context, tx *cdc.Tx, s *sink, b *batch, de *DeliveryError) error {
	first, last, n := b.first(), b.last(), b.len()
	var body []byte
	switch {
	case len(de.Rejected) > 0:
		first, last, n = b.items[de.Rejected[0]].seq, b.items[de.Rejected[len(de.Rejected)-1]].seq, len(de.Rejected)
		for _, i := range de.Rejected {
			body = append(append(body, b.raw[i]...), '\n')
		}
	case s.name == "http":
		body = b.body
	default:
		body = jsonLines(b)
	}
	_, err := cdcx.Tx(tx).ExecContext(ctx, `INSERT INTO emitter_dead
		(sink, source, first_seq, last_seq, events, batch_id, status, error, body, ts_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.name, sourceNames[b.src], int64(first), int64(last), n, b.pub.ID,
		de.Status, de.Error(), body, e.cfg.Now().UnixMilli())
	return err
}

// jsonLines is the batch as JSON Lines (how a dead letter of a sink other
// than HTTP is kept).
func jsonLines(b *batch) []byte {
	out := make([]byte, 0, len(b.buf)+b.len())
	for _, js := range b.raw {
		out = append(out, js...)
		out = append(out, '\n')
	}
	return out
}

// failed schedules the next attempt of s after a failed send, saves the
// schedule (a restarted process resumes it) and moves the custom events in
// memory to the outbox, so they survive a crash while the sink is down.
func (e *Emitter) failed(ctx context.Context, s *sink, de *DeliveryError) error {
	ctx = context.WithoutCancel(ctx)
	e.mu.Lock()
	s.attempt++
	s.failures++
	delay := retryDelay(s.attempt, de.RetryAfter, e.cfg.jitterFunc())
	s.nextAt = e.cfg.Now().Add(delay)
	s.lastErr = de.Error()
	attempt, next, msg := s.attempt, s.nextAt, s.lastErr
	e.mu.Unlock()
	perr := e.persist(ctx)
	e.log.Warn("emitter: delivery failed, will retry", "sink", s.name, "attempt", attempt,
		"retry_in", delay, "error", msg)
	err := e.store.Update(ctx, func(tx *cdc.Tx) error {
		_, err := cdcx.Tx(tx).ExecContext(ctx, `INSERT INTO emitter_retry (sink, attempt, next_ms, last_error) VALUES (?, ?, ?, ?)
			ON CONFLICT (sink) DO UPDATE SET attempt = excluded.attempt, next_ms = excluded.next_ms, last_error = excluded.last_error`,
			s.name, attempt, next.UnixMilli(), msg)
		return err
	})
	if err != nil {
		err = fmt.Errorf("emitter: %s: save retry state: %w", s.name, err)
	}
	return errors.Join(de, perr, err)
}

// pruneCDC deletes the change-log rows every sink has delivered.
func (e *Emitter) pruneCDC(ctx context.Context) error {
	e.mu.Lock()
	through := e.minSavedLocked(srcCDC)
	stale := through > e.marks.prunedCDC
	e.mu.Unlock()
	if !stale {
		return nil
	}
	if _, err := cdcx.Store(e.store).Release(ctx, "emitter", changelog.BookmarkFromSeq(int64(through))); err != nil {
		return fmt.Errorf("emitter: prune change log: %w", err)
	}
	e.mu.Lock()
	e.marks.prunedCDC = max(e.marks.prunedCDC, through)
	e.mu.Unlock()
	return nil
}
