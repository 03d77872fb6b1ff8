package kafkasink_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// firstCopies returns evs without later copies of an id (what a consumer
// de-duplicating by the events-id header keeps), and the number dropped.
func firstCopies(evs []decoded) ([]decoded, int) {
	seen := map[string]bool{}
	var out []decoded
	for _, d := range evs {
		if !seen[d.ev.ID] {
			seen[d.ev.ID] = true
			out = append(out, d)
		}
	}
	return out, len(evs) - len(out)
}

// fastRetries make a client retry and refresh metadata at once (franz-go
// waits up to 5s for fresh metadata by default), so outage tests are quick.
var fastRetries = []kgo.Opt{kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }),
	kgo.MetadataMinAge(20 * time.Millisecond)}

// TestOutage: while the broker refuses every produce, Flush fails with a
// delivery error, the sink backs off on the emitter's schedule (Stats show
// the attempts) and events keep coming; once the broker is back, the due
// retry delivers everything, each store's changes in order.
func TestOutage(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, 2)
	store := openStore(t)
	users := newUsers(t, store)
	clk := &clock{t: time.Now()}
	em, err := emitter.New(store, emitter.Options{CDC: true, BatchSize: 5, RequestTimeout: time.Second,
		Sinks: []emitter.Sink{newSink(t, c.ListenAddrs(), fastRetries...)}, Now: clk.Now, Jitter: func() time.Duration { return 0 },
		Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close(ctx) })
	n := 0
	write := func(k int) {
		for range k {
			if err := users.Put(ctx, fmt.Sprintf("u%d", n%4), user{Age: n}); err != nil {
				t.Fatal(err)
			}
			if err := em.Emit(events.Custom{Type: "tick", Fields: map[string]any{"n": n}}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	write(7)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	down := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: -1})
	write(12)
	err = em.Flush(ctx)
	var de *emitter.DeliveryError
	if !errors.Is(err, emitter.ErrDelivery) || !errors.As(err, &de) || de.Sink != "kafka" || de.Permanent || len(de.Rejected) != 0 {
		t.Fatalf("flush while the broker is down: %v", err)
	}
	st := em.Stats().Sinks["kafka"]
	if st.Attempt != 1 || st.Retries != 1 || st.LastError == "" || st.NextAttempt.IsZero() || st.Delivered != 14 {
		t.Fatalf("stats while down: %+v", st)
	}
	// The next retry is due in 1s: it fails too, and the next waits 2s.
	clk.Advance(time.Second)
	write(3)
	if err := em.HandleAlarm(ctx); !errors.Is(err, emitter.ErrDelivery) {
		t.Fatalf("retry while down: %v", err)
	}
	if st := em.Stats().Sinks["kafka"]; st.Attempt != 2 || !st.NextAttempt.Equal(clk.Now().Add(2*time.Second)) {
		t.Fatalf("stats after the second failure: %+v", st)
	}
	if down.Hits() == 0 {
		t.Fatal("the broker was never asked")
	}

	down.Remove()
	for i := 0; em.Stats().Sinks["kafka"].Attempt != 0; i++ {
		if i == 10 {
			t.Fatalf("no recovery: %+v", em.Stats().Sinks["kafka"])
		}
		clk.Advance(time.Minute)
		_ = em.HandleAlarm(ctx)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	bms := logBookmarks(t, store)
	evs, dups := firstCopies(decodeAll(t, readTopic(t, c.ListenAddrs(), 2)))
	if len(evs) != len(bms)+n {
		t.Fatalf("%d distinct events, want %d changes + %d custom events", len(evs), len(bms), n)
	}
	checkStoreOrder(t, evs, map[string][]cdc.Bookmark{em.StoreID(): bms}, map[string]int{em.StoreID(): n})
	st = em.Stats().Sinks["kafka"]
	if st.Attempt != 0 || st.Retries < 2 || st.Delivered != uint64(len(evs)) || st.DeadLettered != 0 {
		t.Fatalf("stats after recovery: %+v", st)
	}
	t.Logf("%d events, %d duplicates, %d produce requests refused", len(evs), dups, down.Hits())
}

// incompressible returns n random hex digits (the client compresses
// batches: a large record must stay large).
func incompressible(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestTooLarge: a record larger than the broker takes (message.max.bytes),
// or than the client's batch limit, is dead-lettered alone; the events
// around it, in the same batch, are delivered.
func TestTooLarge(t *testing.T) {
	for name, setup := range map[string]struct {
		broker []kfake.Opt
		client []kgo.Opt
	}{
		"broker limit": {broker: []kfake.Opt{kfake.BrokerConfigs(map[string]string{"message.max.bytes": "2048"})}},
		"client limit": {client: []kgo.Opt{kgo.ProducerBatchMaxBytes(2048)}},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newCluster(t, 1, setup.broker...)
			store := openStore(t)
			em, err := emitter.New(store, emitter.Options{BatchSize: 100,
				Sinks: []emitter.Sink{newSink(t, c.ListenAddrs(), setup.client...)}, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { em.Close(ctx) })
			const n, big = 30, 17
			for i := range n {
				f := map[string]any{"n": i, "pad": strings.Repeat("x", 100)}
				if i == big {
					f["pad"] = incompressible(8192)
				}
				if err := em.Emit(events.Custom{Type: "tick", Fields: f}); err != nil {
					t.Fatal(err)
				}
			}
			err = em.Flush(ctx)
			var de *emitter.DeliveryError
			if !errors.Is(err, emitter.ErrDeadLettered) || !errors.As(err, &de) || !errors.Is(err, kerr.MessageTooLarge) ||
				len(de.Rejected) != 1 || de.Rejected[0] != big {
				t.Fatalf("flush: %v (%+v)", err, de)
			}
			dead, err := em.DeadLetters(ctx, 0)
			if err != nil || len(dead) != 1 || dead[0].Sink != "kafka" || dead[0].Events != 1 ||
				!bytes.Contains(dead[0].Body, []byte(`"n":17`)) || bytes.Count(dead[0].Body, []byte("\n")) != 1 {
				t.Fatalf("dead letters %+v: %v", dead, err)
			}
			evs, _ := firstCopies(decodeAll(t, readTopic(t, c.ListenAddrs(), 1)))
			var ns []int
			for _, d := range evs {
				ns = append(ns, *d.ev.N)
			}
			if len(ns) != n-1 {
				t.Fatalf("delivered %v", ns)
			}
			for _, k := range ns {
				if k == big {
					t.Fatalf("the large event was delivered: %v", ns)
				}
			}
			if st := em.Stats().Sinks["kafka"]; st.Delivered != n-1 || st.DeadLettered != 1 || st.Attempt != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestBrokerRestart: the broker process goes away (closed, its port
// refusing connections) while the emitter delivers, and comes back on the
// same port with its data; the sink's sends fail meanwhile and are
// retried without queueing more copies behind the unanswered produce, and
// afterwards the topic holds every event, in order per store, duplicates at
// most of the batch in flight.
func TestBrokerRestart(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	c := newCluster(t, 2, kfake.DataDir(data))
	addr := c.ListenAddrs()[0]
	_, portStr, _ := strings.Cut(addr, ":")
	port, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatal(addr, err)
	}
	store := openStore(t)
	users := newUsers(t, store)
	clk := &clock{t: time.Now()}
	em, err := emitter.New(store, emitter.Options{CDC: true, BatchSize: 5, RequestTimeout: time.Second,
		Sinks: []emitter.Sink{newSink(t, []string{addr}, fastRetries...)}, Now: clk.Now, Jitter: func() time.Duration { return 0 },
		Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close(ctx) })
	n := 0
	write := func(k int) {
		for range k {
			if err := users.Put(ctx, fmt.Sprintf("u%d", n%4), user{Age: n}); err != nil {
				t.Fatal(err)
			}
			if err := em.Emit(events.Custom{Type: "tick", Fields: map[string]any{"n": n}}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	write(6)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close()
	write(9)
	if err := em.Flush(ctx); !errors.Is(err, emitter.ErrDelivery) {
		t.Fatalf("flush while the broker is gone: %v", err)
	}
	if st := em.Stats().Sinks["kafka"]; st.Attempt != 1 || st.Delivered != 12 {
		t.Fatalf("stats while the broker is gone: %+v", st)
	}
	c2 := newCluster(t, 2, kfake.DataDir(data), kfake.Ports(port))
	for i := 0; em.Stats().Sinks["kafka"].Attempt != 0; i++ {
		if i == 20 {
			t.Fatalf("no recovery: %+v", em.Stats().Sinks["kafka"])
		}
		clk.Advance(time.Minute)
		_ = em.HandleAlarm(ctx)
	}
	write(4)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	bms := logBookmarks(t, store)
	evs, dups := firstCopies(decodeAll(t, readTopic(t, c2.ListenAddrs(), 2)))
	if len(evs) != len(bms)+n {
		t.Fatalf("%d distinct events, want %d changes + %d custom events", len(evs), len(bms), n)
	}
	checkStoreOrder(t, evs, map[string][]cdc.Bookmark{em.StoreID(): bms}, map[string]int{em.StoreID(): n})
	if st := em.Stats().Sinks["kafka"]; st.Retries == 0 || st.Delivered != uint64(len(evs)) {
		t.Fatalf("stats after recovery: %+v", st)
	}
	if dups > 5 {
		t.Fatalf("%d duplicates, more than the batch in flight", dups)
	}
	t.Logf("%d events, %d duplicates", len(evs), dups)
}
