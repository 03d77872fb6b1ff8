package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRun: two runs on one folder; each consumer (typed watcher, durable
// watcher, Kafka, JetStream) decodes every change of the run once, and the
// durable watcher sees on the second run only that run's changes.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	const each = "18 changes: 8 inserts, 8 updates, 2 deletes" // 8 orders
	for round := range 2 {
		var buf bytes.Buffer
		if err := run(context.Background(), config{Dir: dir, Orders: 8}, &buf); err != nil {
			t.Fatalf("run %d: %v\n%s", round, err, buf.String())
		}
		out := buf.String()
		t.Log(out)
		for _, want := range []string{
			"watch (typed, in process): " + each,
			`watch "shipping" (durable, resumes where it stopped): ` + each + " new to it, 8 orders to ship",
			"kafka topic shop-events: " + each,
			"nats stream SHOP: " + each + " of this run",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("run %d: output lacks %q", round, want)
			}
		}
		if total := []string{"18 messages in all", "36 messages in all"}[round]; !strings.Contains(out, total) {
			t.Errorf("run %d: the stream should hold %q", round, total)
		}
	}
}
