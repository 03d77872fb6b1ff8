package emitter

import (
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

// Stats is a snapshot of an emitter's counters since New.
type Stats struct {
	// Emitted counts custom events accepted by Emit.
	Emitted uint64
	// Rejected counts Emit calls refused with ErrBacklogFull: no room in
	// memory or the outbox, or no sequence numbers reserved yet.
	Rejected uint64
	// Pending is the number of custom events waiting for some sink: InMemory
	// plus Outbox.
	Pending int
	// InMemory is the number of custom events waiting in memory.
	InMemory int
	// Outbox is the number of custom events in the outbox in the store.
	Outbox int
	// Spills counts the times memory reached MaxPending and moved to the
	// outbox.
	Spills uint64
	// HTTP and Lake are the sinks' figures (Enabled false when off).
	HTTP, Lake SinkStats
}

// SinkStats are one sink's figures.
type SinkStats struct {
	// Enabled reports whether the sink is on.
	Enabled bool
	// Delivered counts events the sink took.
	Delivered uint64
	// Batches counts batches the sink took.
	Batches uint64
	// DeadLettered counts events in batches the sink rejected for good;
	// they are kept in the store (DeadLetters).
	DeadLettered uint64
	// DeadBatches counts the rejected batches.
	DeadBatches uint64
	// Retries counts failed attempts that were scheduled for retry.
	Retries uint64
	// Attempt is the number of consecutive failed attempts (0: healthy).
	Attempt int
	// NextAttempt is when the sink is retried, zero when healthy.
	NextAttempt time.Time
	// LastError is the last failure's message (never the API key).
	LastError string
	// CDCCursor is the bookmark of the last change the sink took.
	CDCCursor cdc.Bookmark
	// CustomCursor is the sequence number of the last custom event it took.
	CustomCursor uint64
}

// Stats returns the emitter's figures.
func (e *Emitter) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Stats{
		Emitted:  e.emitted,
		Rejected: e.rejected,
		Pending:  len(e.live()) + e.outboxCount,
		InMemory: len(e.live()),
		Outbox:   e.outboxCount,
		Spills:   e.spills,
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
		if s.name == "http" {
			st.HTTP = ss
		} else {
			st.Lake = ss
		}
	}
	return st
}
