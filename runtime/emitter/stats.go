package emitter

import (
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

// Stats is a snapshot of an emitter's counters since New.
type Stats struct {
	// Emitted counts custom events accepted by Emit.
	Emitted uint64 `json:"emitted"`
	// Rejected counts Emit calls refused with ErrBacklogFull: no room in
	// memory or the outbox, or no sequence numbers reserved yet.
	Rejected uint64 `json:"rejected"`
	// Pending is the number of custom events waiting for some sink: InMemory
	// plus Outbox.
	Pending int `json:"pending"`
	// InMemory is the number of custom events waiting in memory.
	InMemory int `json:"inMemory"`
	// Outbox is the number of custom events in the outbox in the store.
	Outbox int `json:"outbox"`
	// Spills counts the times memory reached MaxPending and moved to the
	// outbox.
	Spills uint64 `json:"spills"`
	// HTTP and Lake are the built-in sinks' figures (Enabled false when off).
	HTTP SinkStats `json:"http"`
	Lake SinkStats `json:"lake"`
	// Sinks are the figures of Options.Sinks, by name.
	Sinks map[string]SinkStats `json:"sinks,omitempty"`
}

// SinkStats are one sink's figures.
type SinkStats struct {
	// Enabled reports whether the sink is on.
	Enabled bool `json:"enabled"`
	// Delivered counts events the sink took.
	Delivered uint64 `json:"delivered"`
	// Batches counts batches the sink took.
	Batches uint64 `json:"batches"`
	// DeadLettered counts events in batches the sink rejected for good;
	// they are kept in the store (DeadLetters).
	DeadLettered uint64 `json:"deadLettered"`
	// DeadBatches counts the rejected batches.
	DeadBatches uint64 `json:"deadBatches"`
	// Retries counts failed attempts that were scheduled for retry.
	Retries uint64 `json:"retries"`
	// Attempt is the number of consecutive failed attempts (0: healthy).
	Attempt int `json:"attempt"`
	// NextAttempt is when the sink is retried, zero when healthy.
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	// LastError is the last failure's message (never the API key).
	LastError string `json:"lastError,omitempty"`
	// CDCCursor is the bookmark of the last change the sink took.
	CDCCursor cdc.Bookmark `json:"cdcCursor,omitempty"`
	// CustomCursor is the sequence number of the last custom event it took.
	CustomCursor uint64 `json:"customCursor"`
}

// Stats returns the emitter's figures.
func (e *Emitter) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Stats{
		Emitted:  e.tally.emitted,
		Rejected: e.tally.rejected,
		Pending:  e.q.len() + e.ob.count,
		InMemory: e.q.len(),
		Outbox:   e.ob.count,
		Spills:   e.tally.spills,
	}
	for _, s := range e.sinks {
		ss := SinkStats{
			Enabled:      true,
			Delivered:    s.delivered,
			Batches:      s.batches,
			DeadLettered: s.deadEvents,
			DeadBatches:  s.deadBatches,
			Retries:      s.failures,
			Attempt:      s.attempt,
			NextAttempt:  s.nextAt,
			LastError:    s.lastErr,
			CDCCursor:    changelog.BookmarkFromSeq(int64(s.cursor[srcCDC])),
			CustomCursor: s.cursor[srcCustom],
		}
		switch {
		case s.user:
			if st.Sinks == nil {
				st.Sinks = map[string]SinkStats{}
			}
			st.Sinks[s.name] = ss
		case s.name == "http":
			st.HTTP = ss
		default:
			st.Lake = ss
		}
	}
	return st
}
