package emitter

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/cdc"
)

// Redrive puts dead letters back in the queue of the sink that rejected
// them (the ones with these ids; every one of this emitter's sinks when no
// id is given) and deletes them, in one transaction: once the cause is
// fixed, the sink is sent those events again, with their own ids, and
// rejects or takes them like any other. Other sinks are not sent them
// again. It returns how many events were re-queued. An id that names no
// dead letter, or one of a sink this emitter does not have, gives an error
// matching fs.ErrNotExist and re-queues nothing.
func (e *Emitter) Redrive(ctx context.Context, ids ...int64) (int, error) {
	if e.isClosed() {
		return 0, ErrClosed
	}
	ours := map[string]bool{}
	for _, s := range e.sinks {
		ours[s.name] = true
	}
	var n int
	var last int64
	err := e.store.Update(ctx, func(tx *cdc.Tx) error {
		n, last = 0, 0
		letters, err := deadForRedrive(ctx, tx, ids)
		if err != nil {
			return err
		}
		for _, d := range letters {
			if !ours[d.Sink] {
				if len(ids) == 0 {
					continue
				}
				return fmt.Errorf("%w: dead letter %d is of sink %q, which this emitter does not have", fs.ErrNotExist, d.ID, d.Sink)
			}
			evs, err := splitDeadBody(d.Body)
			if err != nil {
				return fmt.Errorf("dead letter %d: %w", d.ID, err)
			}
			for _, js := range evs {
				head, _ := wire.ParseHead(js) // ts zero when missing: the lake puts it at 1970
				res, err := cdcx.Tx(tx).ExecContext(ctx, `INSERT INTO emitter_redrive (sink, ts_ms, event_id, body) VALUES (?, ?, ?, ?)`,
					d.Sink, head.TS.UnixMilli(), head.ID, js)
				if err != nil {
					return err
				}
				if last, err = res.LastInsertId(); err != nil {
					return err
				}
				n++
			}
			if _, err := cdcx.Tx(tx).ExecContext(ctx, `DELETE FROM emitter_dead WHERE id = ?`, d.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("emitter: redrive: %w", err)
	}
	if n > 0 {
		e.mu.Lock()
		e.marks.redriveMax = max(e.marks.redriveMax, uint64(last))
		e.mu.Unlock()
		for _, s := range e.sinks {
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
	return n, nil
}

// deadForRedrive reads the dead letters with these ids (all when none).
func deadForRedrive(ctx context.Context, tx *cdc.Tx, ids []int64) ([]DeadLetter, error) {
	var out []DeadLetter
	if len(ids) == 0 {
		rows, err := cdcx.Tx(tx).QueryContext(ctx, `SELECT id, sink, body FROM emitter_dead ORDER BY id`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var d DeadLetter
			if err := rows.Scan(&d.ID, &d.Sink, &d.Body); err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		return out, rows.Err()
	}
	for _, id := range ids {
		d := DeadLetter{ID: id}
		err := cdcx.Tx(tx).QueryRowContext(ctx, `SELECT sink, body FROM emitter_dead WHERE id = ?`, id).Scan(&d.Sink, &d.Body)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: no dead letter %d", fs.ErrNotExist, id)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// splitDeadBody returns the events of a dead letter's body: an HTTP batch
// body or JSON Lines.
func splitDeadBody(body []byte) ([][]byte, error) {
	if bytes.HasPrefix(body, []byte(`{"events":`)) {
		var b struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		out := make([][]byte, len(b.Events))
		for i, ev := range b.Events {
			out[i] = ev
		}
		return out, nil
	}
	var out [][]byte
	for line := range bytes.SplitSeq(body, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			out = append(out, line)
		}
	}
	return out, nil
}

// readRedrive loads the next re-queued events of s, after seq after up to
// through, into b. When none is left for s, its cursor moves to through:
// the queue's other rows are other sinks'.
func (e *Emitter) readRedrive(ctx context.Context, s *sink, after, through uint64, limit int, b *batch) error {
	if err := e.readQueued(ctx, b, "re-queued events", `SELECT seq, ts_ms, event_id, body FROM emitter_redrive
		WHERE sink = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, s.name, int64(after), int64(through), limit); err != nil {
		return err
	}
	if b.len() == 0 {
		e.mu.Lock()
		s.cursor[srcRedrive] = max(s.cursor[srcRedrive], through)
		e.mu.Unlock()
	}
	return nil
}
