package emitter

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
)

// outboxChunk is how many rows one INSERT writes (3 parameters each).
const outboxChunk = 200

// load reads what a previous emitter left in the store: cursors, retry
// state and the outbox's extent.
func (e *Emitter) load(ctx context.Context) error {
	byName := map[string]*sink{}
	for _, s := range e.sinks {
		byName[s.name] = s
	}
	rows, err := cdcx.Store(e.store).QueryContext(ctx, `SELECT sink, source, seq FROM emitter_cursors`)
	if err != nil {
		return fmt.Errorf("emitter: load cursors: %w", err)
	}
	for rows.Next() {
		var name, src string
		var seq int64
		if err := rows.Scan(&name, &src, &seq); err != nil {
			rows.Close()
			return fmt.Errorf("emitter: load cursors: %w", err)
		}
		s := byName[name]
		if s == nil {
			continue // a sink this emitter does not have
		}
		for i, n := range sourceNames {
			if n == src {
				s.cursor[i] = uint64(seq)
				s.saved[i] = uint64(seq)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("emitter: load cursors: %w", err)
	}

	rows, err = cdcx.Store(e.store).QueryContext(ctx, `SELECT sink, attempt, next_ms, last_error FROM emitter_retry`)
	if err != nil {
		return fmt.Errorf("emitter: load retry state: %w", err)
	}
	for rows.Next() {
		var name, msg string
		var attempt int
		var next int64
		if err := rows.Scan(&name, &attempt, &next, &msg); err != nil {
			rows.Close()
			return fmt.Errorf("emitter: load retry state: %w", err)
		}
		if s := byName[name]; s != nil {
			s.attempt, s.nextAt, s.lastErr = attempt, time.UnixMilli(next).UTC(), msg
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("emitter: load retry state: %w", err)
	}

	var maxSeq, count int64
	if err := cdcx.Store(e.store).QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0), COUNT(*) FROM emitter_outbox`).Scan(&maxSeq, &count); err != nil {
		return fmt.Errorf("emitter: load outbox: %w", err)
	}
	e.ob.max, e.ob.count = uint64(maxSeq), int(count)
	if err := cdcx.Store(e.store).QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM emitter_redrive`).Scan(&maxSeq); err != nil {
		return fmt.Errorf("emitter: load redrive queue: %w", err)
	}
	e.marks.redriveMax = uint64(maxSeq)
	if err := cdcx.Store(e.store).QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM emitter_txevents`).Scan(&maxSeq); err != nil {
		return fmt.Errorf("emitter: load transactional events: %w", err)
	}
	e.marks.txOn = maxSeq > 0
	return nil
}

// minCursorLocked returns the lowest cursor of src over the sinks: what
// every sink has delivered. e.mu is held.
func (e *Emitter) minCursorLocked(src source) uint64 {
	m := e.sinks[0].cursor[src]
	for _, s := range e.sinks[1:] {
		m = min(m, s.cursor[src])
	}
	return m
}

// minSavedLocked returns the lowest saved cursor of src over the sinks:
// what may be pruned. e.mu is held.
func (e *Emitter) minSavedLocked(src source) uint64 {
	m := e.sinks[0].saved[src]
	for _, s := range e.sinks[1:] {
		m = min(m, s.saved[src])
	}
	return m
}

// persist moves every custom event in memory that some sink has not
// delivered yet to the outbox, with the sinks' cursors, in one transaction.
// It runs only when a send failed, memory is full, or PersistBatch or Close
// asks. e.mu is not held while it waits for the store's writer: the events
// are copied out first, and stay in memory (deliverable) until committed.
func (e *Emitter) persist(ctx context.Context) error {
	e.persistMu.Lock()
	defer e.persistMu.Unlock()
	e.mu.Lock()
	todo := e.q.after(e.minCursorLocked(srcCustom))
	if len(todo) == 0 {
		e.q.drop(e.q.len())
		e.mu.Unlock()
		return nil
	}
	var size int
	for _, m := range todo {
		size += len(m.js)
	}
	// Copied: chunks are reused once their events are released.
	buf := make([]byte, 0, size)
	rows := make([]memEvent, len(todo))
	for i, m := range todo {
		buf = append(buf, m.js...)
		rows[i] = memEvent{seq: m.seq, tsMs: m.tsMs, js: buf[len(buf)-len(m.js):]}
	}
	last := rows[len(rows)-1].seq
	prevPersisting := e.ob.persisting
	// A sink that delivers some of these events meanwhile saves its cursor
	// at once (see advance): after a crash it must not restart before them.
	e.ob.persisting = max(e.ob.persisting, last)
	e.mu.Unlock()

	var cursors [][numSources]uint64
	err := e.store.Update(ctx, func(tx *cdc.Tx) error {
		args := make([]any, 0, 3*outboxChunk)
		for start := 0; start < len(rows); start += outboxChunk {
			part := rows[start:min(start+outboxChunk, len(rows))]
			args = args[:0]
			for _, m := range part {
				args = append(args, int64(m.seq), m.tsMs, m.js)
			}
			q := `INSERT INTO emitter_outbox (seq, ts_ms, body) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?),", len(part)), ",")
			if _, err := cdcx.Tx(tx).ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		// The cursors as they are now, inside the transaction (taking e.mu
		// here is safe: nobody holds it while waiting for the writer).
		e.mu.Lock()
		cursors = cursors[:0]
		for _, s := range e.sinks {
			cursors = append(cursors, s.cursor)
		}
		e.mu.Unlock()
		for i, s := range e.sinks {
			if err := saveCursor(ctx, tx, s.name, srcCustom, cursors[i][srcCustom]); err != nil {
				return err
			}
		}
		return nil
	})
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.ob.persisting = prevPersisting
		return fmt.Errorf("emitter: persist %d events: %w", len(rows), err)
	}
	for i, s := range e.sinks {
		s.saved[srcCustom] = max(s.saved[srcCustom], cursors[i][srcCustom])
	}
	e.ob.max = max(e.ob.max, last)
	e.ob.count += len(rows)
	e.q.releaseThrough(last)
	return nil
}

// saveCursor records a sink's cursor; it never moves one back, so writers
// racing with stale values are harmless.
func saveCursor(ctx context.Context, tx *cdc.Tx, sinkName string, src source, seq uint64) error {
	_, err := cdcx.Tx(tx).ExecContext(ctx, `INSERT INTO emitter_cursors (sink, source, seq) VALUES (?, ?, ?)
		ON CONFLICT (sink, source) DO UPDATE SET seq = max(seq, excluded.seq)`, sinkName, sourceNames[src], int64(seq))
	return err
}

// readOutbox appends the JSON of at most limit outbox events after seq to b,
// up to maxBytes.
func (e *Emitter) readOutbox(ctx context.Context, after uint64, limit, maxBytes int, b *batch) error {
	rows, err := cdcx.Store(e.store).QueryContext(ctx, `SELECT seq, ts_ms, body FROM emitter_outbox WHERE seq > ? ORDER BY seq LIMIT ?`, int64(after), limit)
	if err != nil {
		return fmt.Errorf("emitter: read outbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq, ts int64
		var body []byte
		if err := rows.Scan(&seq, &ts, &body); err != nil {
			return fmt.Errorf("emitter: read outbox: %w", err)
		}
		if !b.fits(len(body), maxBytes) {
			break
		}
		b.add(uint64(seq), ts, body)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("emitter: read outbox: %w", err)
	}
	return nil
}
