package emitter

import (
	"context"
	"fmt"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
)

// EmitTx writes ev into the store within tx, the caller's transaction
// (from Store.Update): it commits or rolls back with the data, and is
// shipped to every sink after the commit, at the next delivery round (Run
// polls every FlushInterval). ev is validated and stamped as by Emit; its
// id is "{StoreID}-t{n}". Unlike Emit, the event is durable once tx
// commits, and none is sent for a transaction that rolls back. It gives
// the errors of Emit (ErrClosed, events.ErrInvalidEvent, ErrChangeEvent)
// and tx's own; then the caller should let tx roll back.
func (e *Emitter) EmitTx(ctx context.Context, tx *cdc.Tx, ev events.Event) error {
	if ev == nil {
		return fmt.Errorf("%w: nil event", events.ErrInvalidEvent)
	}
	if tx == nil {
		return fmt.Errorf("%w: nil transaction", events.ErrInvalidEvent)
	}
	now := e.cfg.Now().UTC().Truncate(time.Millisecond)
	e.mu.Lock()
	if e.life.closing {
		e.mu.Unlock()
		return ErrClosed
	}
	env := events.Envelope{TS: now, DO: e.identity}
	e.marks.txOn = true // before the insert: a round after the commit must look
	e.mu.Unlock()
	ts, err := checkEvent(ev, env)
	if err != nil {
		return err
	}
	// The transaction is the only writer: the next seq is the table's next.
	var seq int64
	err = cdcx.Tx(tx).QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'emitter_txevents'), 0) + 1`).Scan(&seq)
	if err != nil {
		return fmt.Errorf("emitter: emit in transaction: %w", err)
	}
	env.ID = string(appendEventID(nil, e.storeID, srcTx.kind(), uint64(seq)))
	js, err := ev.AppendJSON(nil, env)
	if err == nil && !trusted(ev) {
		err = checkJSON(js)
	}
	if err != nil {
		return fmt.Errorf("emitter: encode %s: %w", ev.EventType(), err)
	}
	if _, err := cdcx.Tx(tx).ExecContext(ctx, `INSERT INTO emitter_txevents (seq, ts_ms, event_id, body) VALUES (?, ?, ?, ?)`,
		seq, ts.UnixMilli(), env.ID, js); err != nil {
		return fmt.Errorf("emitter: emit in transaction: %w", err)
	}
	e.mu.Lock()
	e.tally.emitted++
	e.mu.Unlock()
	return nil
}

// readTxEvents loads the events of EmitTx after seq after, up to through,
// into b.
func (e *Emitter) readTxEvents(ctx context.Context, after, through uint64, limit int, b *batch) error {
	return e.readQueued(ctx, b, "transactional events", `SELECT seq, ts_ms, event_id, body FROM emitter_txevents
		WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, int64(after), int64(through), limit)
}

// readQueued adds to b the rows (seq, ts_ms, event_id, body) of a queue
// table that query selects, in order, while they fit the batch's byte cap;
// what names the queue in errors.
func (e *Emitter) readQueued(ctx context.Context, b *batch, what, query string, args ...any) error {
	rows, err := cdcx.Store(e.store).QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("emitter: read %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq, ts int64
		var id string
		var body []byte
		if err := rows.Scan(&seq, &ts, &id, &body); err != nil {
			return fmt.Errorf("emitter: read %s: %w", what, err)
		}
		if !b.fits(len(body), e.cfg.MaxBatchBytes) {
			break
		}
		b.add(uint64(seq), ts, body)
		b.items[len(b.items)-1].id = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("emitter: read %s: %w", what, err)
	}
	return nil
}

// pruneTxEvents deletes the events of EmitTx every sink's saved cursor has
// passed.
func (e *Emitter) pruneTxEvents(ctx context.Context) error {
	e.mu.Lock()
	through := e.minSavedLocked(srcTx)
	stale := e.marks.txOn && through > e.marks.txPruned
	e.mu.Unlock()
	if !stale {
		return nil
	}
	err := e.store.Update(ctx, func(tx *cdc.Tx) error {
		_, err := cdcx.Tx(tx).ExecContext(ctx, `DELETE FROM emitter_txevents WHERE seq <= ?`, int64(through))
		return err
	})
	if err != nil {
		return fmt.Errorf("emitter: prune transactional events: %w", err)
	}
	e.mu.Lock()
	e.marks.txPruned = max(e.marks.txPruned, through)
	e.mu.Unlock()
	return nil
}
