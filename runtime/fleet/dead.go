package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"time"

	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
)

// DeadLetters returns up to limit of the events the fleet's sinks rejected
// for good (all when limit ≤ 0), oldest first, one emitter.DeadLetter per
// rejected batch: its ID, Sink, Events, BatchID, Status, Error, Body (the
// rejected events as JSON Lines) and At; Source is "fleet".
func (f *Fleet) DeadLetters(ctx context.Context, limit int) ([]emitter.DeadLetter, error) {
	if limit <= 0 {
		limit = -1
	}
	return f.deadLetters(ctx, `SELECT id, sink, batch_id, events, status, error, body, ts_ms FROM dead ORDER BY id LIMIT ?`, limit)
}

func (f *Fleet) deadLetters(ctx context.Context, query string, args ...any) ([]emitter.DeadLetter, error) {
	rows, err := f.idx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("fleet: dead letters: %w", err)
	}
	defer rows.Close()
	var out []emitter.DeadLetter
	for rows.Next() {
		d := emitter.DeadLetter{Source: "fleet"}
		var ts int64
		if err := rows.Scan(&d.ID, &d.Sink, &d.BatchID, &d.Events, &d.Status, &d.Error, &d.Body, &ts); err != nil {
			return nil, fmt.Errorf("fleet: dead letters: %w", err)
		}
		d.At = time.UnixMilli(ts).UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fleet: dead letters: %w", err)
	}
	return out, nil
}

// Redrive sends the dead letters with these ids (every one when no id is
// given) again, now, to the sink that rejected each, once its cause is
// fixed: each as one batch of its events, with their own ids, so receivers
// de-duplicate as usual. A dead letter the sink takes is deleted; what it
// rejects for good again stays (only the events it names, with the new
// reason); any other failure (the sink is down) stops Redrive with an
// error (a *emitter.DeliveryError) and leaves that dead letter and the
// rest as they were. It
// returns how many events the sinks took. An id that names no dead letter,
// or one of a sink this fleet does not have, gives an error matching
// fs.ErrNotExist and sends nothing.
func (f *Fleet) Redrive(ctx context.Context, ids ...int64) (int, error) {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	letters, err := f.deadForRedrive(ctx, ids)
	if err != nil {
		return 0, err
	}
	sinks := map[string]*sink{}
	for _, s := range f.sinks {
		sinks[s.name] = s
	}
	for _, d := range letters {
		if sinks[d.Sink] == nil {
			return 0, fmt.Errorf("fleet: redrive: %w: dead letter %d is of sink %q, which this fleet does not have", fs.ErrNotExist, d.ID, d.Sink)
		}
	}
	taken := 0
	for _, d := range letters {
		n, err := f.redriveOne(ctx, sinks[d.Sink], d)
		taken += n
		if err != nil {
			return taken, err
		}
	}
	return taken, nil
}

// deadForRedrive reads the dead letters named by ids (all when none).
func (f *Fleet) deadForRedrive(ctx context.Context, ids []int64) ([]emitter.DeadLetter, error) {
	const cols = `SELECT id, sink, batch_id, events, status, error, body, ts_ms FROM dead`
	if len(ids) == 0 {
		return f.deadLetters(ctx, cols+` ORDER BY id`)
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var out []emitter.DeadLetter
	for _, id := range ids {
		d, err := f.deadLetters(ctx, cols+` WHERE id = ?`, id)
		if err != nil {
			return nil, err
		}
		if len(d) == 0 {
			return nil, fmt.Errorf("fleet: redrive: %w: no dead letter %d", fs.ErrNotExist, id)
		}
		out = append(out, d[0])
	}
	return out, nil
}

// redriveOne sends dead letter d to s and records the outcome.
func (f *Fleet) redriveOne(ctx context.Context, s *sink, d emitter.DeadLetter) (int, error) {
	lines := bytes.Split(bytes.TrimRight(d.Body, "\n"), []byte("\n"))
	b := &formed{}
	b.b.ID = d.BatchID + "-redrive-" + strconv.FormatInt(d.ID, 10)
	for i, line := range lines {
		ev, err := batchEvent(line)
		if err != nil {
			return 0, fmt.Errorf("fleet: redrive: dead letter %d, event %d: %w", d.ID, i, err)
		}
		b.b.Events = append(b.b.Events, ev)
	}
	err := f.send(ctx, s, b)
	var de *emitter.DeliveryError
	if err != nil && !errors.As(err, &de) {
		de = &emitter.DeliveryError{Sink: s.name, Msg: f.p.Clean(err.Error()), Err: err}
	}
	switch {
	case err == nil:
		if _, err := f.idx.ExecContext(ctx, `DELETE FROM dead WHERE id = ?`, d.ID); err != nil {
			return 0, fmt.Errorf("fleet: redrive: %w", err)
		}
		return len(lines), nil
	case de.Permanent || len(de.Rejected) > 0:
		// Rejected again for good: what was rejected stays, with the new reason.
		kept, n := d.Body, len(lines)
		if len(de.Rejected) > 0 {
			kept, n = nil, 0
			for _, i := range de.Rejected {
				if i >= 0 && i < len(lines) {
					kept = append(append(kept, lines[i]...), '\n')
					n++
				}
			}
		}
		if _, err := f.idx.ExecContext(ctx, `UPDATE dead SET body = ?, events = ?, status = ?, error = ?, ts_ms = ? WHERE id = ?`,
			kept, n, de.Status, f.p.Clean(de.Error()), f.p.Now().UnixMilli(), d.ID); err != nil {
			return 0, fmt.Errorf("fleet: redrive: %w", err)
		}
		return len(lines) - n, nil
	default:
		return 0, fmt.Errorf("fleet: redrive: dead letter %d: %w", d.ID, de)
	}
}

// batchEvent reads what a sink is told of an event from its wire form.
func batchEvent(js []byte) (emitter.BatchEvent, error) {
	h, err := wire.ParseHead(js)
	if err != nil {
		return emitter.BatchEvent{}, err
	}
	return emitter.BatchEvent{Store: h.Store, ID: h.ID, Type: h.Type, TS: h.TS, Bookmark: cdc.Bookmark(h.Bookmark), JSON: js}, nil
}
