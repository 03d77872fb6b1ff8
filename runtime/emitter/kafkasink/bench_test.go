package kafkasink_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/dotdo/events/internal/sinkbench"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/emitter/kafkasink"
)

// BenchmarkKafkaSinkCPU measures the producer's CPU per delivered change
// through the Kafka sink, to a kfake broker in a process of its own,
// against the HTTP sink to a receiver in another process (interleaved
// runs, sinkbench.Compare), and reports the ratio (goal: ≤ 1.5). Run it
// once: -benchtime 1x. EVENTS_SINK_BENCH_N sets the changes per run.
func BenchmarkKafkaSinkCPU(b *testing.B) {
	n := 20_000
	if s := os.Getenv("EVENTS_SINK_BENCH_N"); s != "" {
		if _, err := fmt.Sscan(s, &n); err != nil {
			b.Fatal(err)
		}
	}
	addr := sinkbench.StartChild(b, exec.Command(os.Args[0], "-test.run=^$"), brokerChildEnv+"=3")
	for b.Loop() {
		r := sinkbench.Compare(b, n, 7, func() emitter.Sink {
			s, err := kafkasink.New(newClient(b, []string{addr}), topic)
			if err != nil {
				b.Fatal(err)
			}
			return s
		})
		b.ReportMetric(r.Ratio(), "cpu-ratio")
		b.ReportMetric(float64(median(r.Sink).Nanoseconds()), "kafka-ns/event")
		b.ReportMetric(float64(median(r.HTTP).Nanoseconds()), "http-ns/event")
		b.Logf("CPU per event: kafka %v, http %v; ratio of medians %.2f", r.Sink, r.HTTP, r.Ratio())
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(d))
	return s[len(s)/2]
}

// nopSink takes every batch and does nothing: the cost of the emitter's
// path for any user sink (a cursor saved per batch), without Kafka.
type nopSink struct{}

func (nopSink) Name() string                               { return "nop" }
func (nopSink) Send(context.Context, *emitter.Batch) error { return nil }

// BenchmarkNopSinkCPU is BenchmarkKafkaSinkCPU's reference: a user sink
// that does nothing, against the same HTTP baseline.
func BenchmarkNopSinkCPU(b *testing.B) {
	for b.Loop() {
		r := sinkbench.Compare(b, 20_000, 5, func() emitter.Sink { return nopSink{} })
		b.ReportMetric(r.Ratio(), "cpu-ratio")
		b.Logf("CPU per event: nop %v, http %v; ratio of medians %.2f", r.Sink, r.HTTP, r.Ratio())
	}
}
