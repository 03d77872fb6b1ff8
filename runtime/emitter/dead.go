package emitter

import (
	"context"
	"fmt"
	"time"

	"github.com/dotdo/events/internal/cdcx"
)

// DeadLetter is a batch a sink rejected for good, kept in the store.
type DeadLetter struct {
	// ID numbers the dead letter in the store.
	ID int64
	// Sink is the sink's name: "http", "lake" or a user sink's.
	Sink string
	// Source is "cdc", "custom", "tx" (EmitTx) or "redrive" (Redrive).
	Source string
	// FirstSeq and LastSeq are the batch's first and last sequence numbers
	// (bookmark numbers for "cdc").
	FirstSeq, LastSeq uint64
	// Events is the number of events in the batch.
	Events int
	// BatchID is the batch's batchId.
	BatchID string
	// Status is the HTTP status of the rejection (0 for the lake).
	Status int
	// Error is the rejection's message.
	Error string
	// Body is what was sent: the HTTP batch body, or the JSON Lines for the lake.
	Body []byte
	// At is when the batch was rejected.
	At time.Time
}

// DeadLetters returns up to limit dead letters (all when limit ≤ 0), oldest
// first.
func (e *Emitter) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := cdcx.Store(e.store).QueryContext(ctx, `SELECT id, sink, source, first_seq, last_seq, events, batch_id, status, error, body, ts_ms
		FROM emitter_dead ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("emitter: dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var first, last, ts int64
		if err := rows.Scan(&d.ID, &d.Sink, &d.Source, &first, &last, &d.Events, &d.BatchID, &d.Status, &d.Error, &d.Body, &ts); err != nil {
			return nil, fmt.Errorf("emitter: dead letters: %w", err)
		}
		d.FirstSeq, d.LastSeq, d.At = uint64(first), uint64(last), time.UnixMilli(ts).UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("emitter: dead letters: %w", err)
	}
	return out, nil
}
