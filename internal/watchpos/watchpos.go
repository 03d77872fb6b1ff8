// Package watchpos decides when a named watcher (cdc.Store.WatchAs,
// fleet.Fleet.WatchAs) saves its position: every Every changes and, once
// it has caught up, at most every Interval, and when its loop ends. After a
// crash the watcher sees again at most what was not saved.
package watchpos

import (
	"context"
	"time"
)

// The saving policy.
const (
	Every    = 256
	Interval = time.Second
	// closeTimeout bounds the save of a loop that ends.
	closeTimeout = 5 * time.Second
)

// Position is a named watcher's position while its loop runs.
type Position struct {
	saved   int64 // the position the store has
	done    int64 // the position the loop has reached
	savedAt time.Time
	save    func(ctx context.Context, seq int64) error
}

// New returns the position of a watcher whose store has saved, and which
// save writes.
func New(saved int64, save func(ctx context.Context, seq int64) error) *Position {
	return &Position{saved: saved, done: saved, savedAt: time.Now(), save: save}
}

// Start is where the loop starts: after the saved position.
func (p *Position) Start() int64 { return p.saved }

// Consumed notes that the loop is done with everything through seq, saving
// it every Every changes. A nil Position (an unnamed watcher) does nothing.
func (p *Position) Consumed(ctx context.Context, seq int64) error {
	if p == nil || seq <= p.done {
		return nil
	}
	p.done = seq
	if seq-p.saved >= Every {
		return p.flush(ctx)
	}
	return nil
}

// Idle saves the position of a loop that has caught up, at most every
// Interval.
func (p *Position) Idle(ctx context.Context) error {
	if p == nil || p.done == p.saved || time.Since(p.savedAt) < Interval {
		return nil
	}
	return p.flush(ctx)
}

// Close saves what the loop consumed, even when ctx has ended (the loop
// did consume it). A failed save only means those changes are seen again.
func (p *Position) Close(ctx context.Context) {
	if p == nil || p.done == p.saved {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	_ = p.flush(sctx)
}

func (p *Position) flush(ctx context.Context) error {
	seq := p.done
	if err := p.save(ctx, seq); err != nil {
		return err
	}
	p.saved, p.savedAt = seq, time.Now()
	return nil
}

// MaxName bounds the name of a consumer of a change log: a named watcher
// or a sink (they name saved positions).
const MaxName = 64

// CheckName says what is wrong with a consumer's name ("" when nothing):
// 1-64 bytes of a-z, 0-9, '.', '_' and '-'.
func CheckName(name string) string {
	if name == "" || len(name) > MaxName {
		return "must be 1-64 bytes"
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "may hold only a-z, 0-9, '.', '_' and '-'"
		}
	}
	return ""
}
