package fleet

import "time"

// Stats is a snapshot of a fleet's figures.
type Stats struct {
	// Open is the number of stores open now; Known the number the fleet
	// tracks (open, or with changes not yet delivered).
	Open, Known int
	// Unread is the number of stores that may have changes not read yet
	// (waiting in their files, e.g. after a restart or a memory cap).
	Unread int
	// Opens counts stores opened (for Do or for delivery), Evictions
	// stores closed (idle, beyond MaxOpen or by Close), DeliveryOpens the
	// opens only to deliver a closed store's changes.
	Opens, Evictions, DeliveryOpens uint64
	// Custom is the number of custom events waiting for some sink.
	Custom int
	// Sinks are the figures of each sink, in the pipeline's order.
	Sinks []SinkStats
}

// SinkStats are one sink's figures.
type SinkStats struct {
	// Name is the sink's name ("http", "lake" or a user sink's).
	Name string
	// Delivered counts events the sink took; Requests the sends (batches)
	// tried, Failures those that failed and will be retried; DeadLettered
	// events rejected for good (kept in the index).
	Delivered, Requests, Failures, DeadLettered uint64
	// Pending is the number of events read from the stores (and custom
	// events) the sink has not taken yet.
	Pending int
	// Lag is the age of the oldest change or event the sink has not taken
	// (0 when none waits); a store not read yet counts from its first
	// commit since it was last read.
	Lag time.Duration
	// Attempt is the number of consecutive failed sends (0: healthy);
	// NextAttempt when the sink is tried again; LastError the last failure.
	Attempt     int
	NextAttempt time.Time
	LastError   string
}

// Stats returns the fleet's figures now.
func (f *Fleet) Stats() Stats {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	st := Stats{Open: f.nOpen, Known: len(f.stores), Unread: len(f.unread), Opens: f.counter.opens,
		Evictions: f.counter.evictions, DeliveryOpens: f.counter.deliveryOpens, Custom: len(f.custom.evs)}
	var unreadSince time.Time
	for s := range f.unread {
		if t := s.unreadSince; !t.IsZero() && (unreadSince.IsZero() || t.Before(unreadSince)) {
			unreadSince = t
		}
	}
	for _, s := range f.sinks {
		ss := SinkStats{Name: s.name, Delivered: s.delivered, Requests: s.requests, Failures: s.failures,
			DeadLettered: s.deadLettered, Attempt: s.attempt, NextAttempt: s.nextAt, LastError: s.lastErr}
		oldest := unreadSince
		for q := range f.withQ {
			for k := len(q.q) - 1; k >= 0 && q.q[k].seq > q.pos[s.i]; k-- {
				ss.Pending++
				if oldest.IsZero() || q.q[k].ts.Before(oldest) {
					oldest = q.q[k].ts
				}
			}
		}
		for _, c := range f.custom.evs {
			if c.seq > s.customPos {
				ss.Pending++
				if oldest.IsZero() || c.ts.Before(oldest) {
					oldest = c.ts
				}
			}
		}
		if !oldest.IsZero() {
			ss.Lag = max(now.Sub(oldest), 0)
		}
		st.Sinks = append(st.Sinks, ss)
	}
	return st
}
