package sinkbench_test

import (
	"context"
	"os"
	"sync/atomic"
	"testing"

	"github.com/dotdo/events/internal/sinkbench"
	"github.com/dotdo/events/runtime/emitter"
)

func TestMain(m *testing.M) {
	sinkbench.Serve()
	os.Exit(m.Run())
}

// countSink takes every batch and counts its events.
type countSink struct{ n atomic.Int64 }

func (c *countSink) Name() string { return "count" }

func (c *countSink) Send(_ context.Context, b *emitter.Batch) error {
	c.n.Add(int64(len(b.Events)))
	return nil
}

// TestCompare: the harness delivers every change through both sinks (the
// HTTP one to a receiver in a child process) and measures some CPU for
// each.
func TestCompare(t *testing.T) {
	var sinks []*countSink
	r := sinkbench.Compare(t, 500, 2, func() emitter.Sink {
		s := &countSink{}
		sinks = append(sinks, s)
		return s
	})
	if len(r.Sink) != 2 || len(r.HTTP) != 2 {
		t.Fatalf("runs: %d and %d, want 2 and 2", len(r.Sink), len(r.HTTP))
	}
	t.Logf("CPU per event: sink %v, HTTP %v (ratio %.2f)", r.Sink, r.HTTP, r.Ratio())
	for _, s := range sinks {
		if got := s.n.Load(); got != 500 {
			t.Errorf("the sink took %d events, want 500", got)
		}
	}
	for i := range r.HTTP {
		if r.HTTP[i] <= 0 || r.Sink[i] <= 0 {
			t.Errorf("run %d: CPU per event %v (sink) and %v (HTTP), want both > 0", i, r.Sink[i], r.HTTP[i])
		}
	}
}
