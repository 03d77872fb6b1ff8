package natssink_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/emitter/natssink"
)

// streamNames lists the server's streams.
func streamNames(t *testing.T, js jetstream.JetStream) []string {
	t.Helper()
	var names []string
	l := js.StreamNames(context.Background())
	for n := range l.Name() {
		names = append(names, n)
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// noConn is a JetStream without a connection.
type noConn struct{ jetstream.JetStream }

func (noConn) Conn() *nats.Conn { return nil }

// TestNewBadInput: a nil JetStream (or connection), bad prefixes and a non-positive window
// are emitter.ErrInvalidOptions; no stream capturing the prefix is
// ErrNoStream, a short duplicate window ErrDuplicateWindow; New creates
// nothing on the server.
func TestNewBadInput(t *testing.T) {
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	if _, err := natssink.New(nil, testPrefix); !errors.Is(err, emitter.ErrInvalidOptions) {
		t.Errorf("nil js: %v", err)
	}
	if _, err := natssink.New(noConn{}, testPrefix); !errors.Is(err, emitter.ErrInvalidOptions) {
		t.Errorf("js without a connection: %v", err)
	}
	for _, p := range []string{"", ".", "a.", ".a", "a..b", "a.*", "a.>", "*", ">", "a*", "a>b", "a b", "a\tb", "a\nb", "ü", "a\x00"} {
		if s, err := natssink.New(js, p); !errors.Is(err, emitter.ErrInvalidOptions) || s != nil {
			t.Errorf("prefix %q: %v", p, err)
		}
	}
	if _, err := natssink.New(js, testPrefix, natssink.WithMinDuplicateWindow(0)); !errors.Is(err, emitter.ErrInvalidOptions) {
		t.Errorf("zero window: %v", err)
	}
	if _, err := natssink.New(js, testPrefix); !errors.Is(err, natssink.ErrNoStream) {
		t.Errorf("no stream: %v", err)
	}
	// A stream capturing only part of the prefix's subjects does not do.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "PART", Subjects: []string{testPrefix + ".x.*"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := natssink.New(js, testPrefix); !errors.Is(err, natssink.ErrNoStream) {
		t.Errorf("stream of part of the prefix: %v", err)
	}
	if err := js.DeleteStream(ctx, "PART"); err != nil {
		t.Fatal(err)
	}
	createStream(t, js, 30*time.Second)
	_, err := natssink.New(js, testPrefix)
	if !errors.Is(err, natssink.ErrDuplicateWindow) || !strings.Contains(err.Error(), "30s") {
		t.Errorf("30s window: %v", err)
	}
	if s, err := natssink.New(js, testPrefix, natssink.WithMinDuplicateWindow(20*time.Second)); err != nil || s.Named("nats-eu").Name() != "nats-eu" || s.Name() != "nats" {
		t.Errorf("20s minimum on a 30s window: %v", err)
	}
	if names := streamNames(t, js); len(names) != 1 || names[0] != testStream {
		t.Errorf("streams %v, want only the test's", names)
	}
	// A stream with a wider subject ("ev.>") captures the prefix.
	if err := js.DeleteStream(ctx, testStream); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ALL", Subjects: []string{"ev.>"}, Duplicates: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if s, err := natssink.New(js, testPrefix); err != nil || s.Name() != "nats" {
		t.Errorf("stream on ev.>: %v", err)
	}
}

// TestCheckWaitsForServer: with the server down New succeeds; Send fails
// (retryable) while it is down, then finds the missing stream and says so.
func TestCheckWaitsForServer(t *testing.T) {
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	b.stop()
	s, err := natssink.New(js, testPrefix)
	if err != nil {
		t.Fatalf("New with the server down: %v", err)
	}
	one := &emitter.Batch{ID: "b", Events: []emitter.BatchEvent{{Store: "s", ID: "s-1", Type: "t", JSON: []byte(`{}`)}}}
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	err = s.Send(sctx, one)
	cancel()
	var de *emitter.DeliveryError
	if err == nil || errors.As(err, &de) {
		t.Fatalf("Send with the server down: %v", err)
	}
	b.start()
	for range 100 { // bounded: the client reconnects within 50 ms
		if err = s.Send(ctx, one); errors.Is(err, natssink.ErrNoStream) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(err, natssink.ErrNoStream) || errors.As(err, &de) {
		t.Fatalf("Send without a stream: %v", err)
	}
	createStream(t, js, time.Hour)
	if err := s.Send(ctx, one); err != nil {
		t.Fatal(err)
	}
	if msgs := readStream(t, js); len(msgs) != 1 || msgs[0].msgID != "s-1" {
		t.Fatalf("stream: %+v", msgs)
	}
}

// TestRejectedAlone: events the server can never take (over the client's
// max payload, over the stream's max message size), and ids that cannot be
// a header, are rejected by index; the others of the batch are stored. In
// an emitter, the rejected event is dead-lettered alone and delivery goes on.
func TestRejectedAlone(t *testing.T) {
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: testStream, Subjects: []string{testPrefix + ".>"},
		Duplicates: 2 * time.Minute, MaxMsgSize: 8 << 10}); err != nil {
		t.Fatal(err)
	}
	sink := newSink(t, js)
	ev := func(id string, size int) emitter.BatchEvent {
		return emitter.BatchEvent{Store: "s", ID: id, Type: "t",
			JSON: fmt.Appendf(nil, `{"id":%q,"type":"t","do":{"id":"s"},"pad":%q}`, id, strings.Repeat("x", size))}
	}
	batch := &emitter.Batch{ID: "b", Events: []emitter.BatchEvent{
		ev("s-0", 10), ev("s-1", 2<<20), ev("s-2", 10), ev("s-3", 16<<10), ev("s-4", 10), ev(" s-5", 10), ev("s-6\r\nX: y", 10), ev("s-7", 10),
	}}
	err := sink.Send(ctx, batch)
	var de *emitter.DeliveryError
	if !errors.As(err, &de) || fmt.Sprint(de.Rejected) != "[1 3 5 6]" || de.Permanent {
		t.Fatalf("Send: %v (%+v)", err, de)
	}
	var ids []string
	for _, m := range readStream(t, js) {
		ids = append(ids, m.ID)
	}
	if fmt.Sprint(ids) != "[s-0 s-2 s-4 s-7]" {
		t.Fatalf("stored %v", ids)
	}

	// Through an emitter: the big custom event is dead-lettered, alone.
	store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	em, err := emitter.New(store, emitter.Options{Sinks: []emitter.Sink{sink}, Logger: discardLogger(),
		Identity: events.Identity{ID: "big"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		f := map[string]any{"n": i}
		if i == 2 {
			f["pad"] = strings.Repeat("y", 20<<10)
		}
		if err := em.Emit(events.Custom{Type: "t", Fields: f}); err != nil {
			t.Fatal(err)
		}
	}
	if err := em.Flush(ctx); !errors.Is(err, emitter.ErrDeadLettered) {
		t.Fatalf("Flush: %v", err)
	}
	st := em.Stats().Sinks["nats"]
	if st.DeadLettered != 1 || st.Delivered != 4 || st.Attempt != 0 {
		t.Fatalf("stats %+v", st)
	}
	var ns []int
	for _, m := range readStream(t, js) {
		if m.store == "big" {
			ns = append(ns, *m.N)
		}
	}
	if fmt.Sprint(ns) != "[0 1 3 4]" {
		t.Fatalf("custom events stored: %v", ns)
	}
}

// TestStreamDeleted: a stream deleted after New makes Send fail with an
// error matching ErrNoStream that the emitter retries (not a rejection);
// once the stream is back, the same batch goes through.
func TestStreamDeleted(t *testing.T) {
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	createStream(t, js, 2*time.Minute)
	sink := newSink(t, js)
	if err := js.DeleteStream(ctx, testStream); err != nil {
		t.Fatal(err)
	}
	batch := &emitter.Batch{ID: "b", Events: []emitter.BatchEvent{
		{Store: "s", ID: "s-1", Type: "t", JSON: []byte(`{"id":"s-1","type":"t","do":{"id":"s"}}`)},
		{Store: "s", ID: "s-2", Type: "t", JSON: []byte(`{"id":"s-2","type":"t","do":{"id":"s"}}`)},
	}}
	err := sink.Send(ctx, batch)
	var de *emitter.DeliveryError
	if !errors.Is(err, natssink.ErrNoStream) || errors.As(err, &de) {
		t.Fatalf("Send without the stream: %v", err)
	}
	createStream(t, js, 2*time.Minute)
	if err := sink.Send(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if msgs := readStream(t, js); len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
}
