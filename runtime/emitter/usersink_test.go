package emitter_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/emitter"
)

// memSink is a user sink that keeps what it takes. It fails the next
// failures sends, and rejects for good the events whose JSON holds poison.
type memSink struct {
	name string

	mu       sync.Mutex
	failures int
	poison   string
	got      []emitter.BatchEvent // copies: a batch is valid only during Send
	batchIDs []string
}

func (m *memSink) Name() string { return m.name }

func (m *memSink) Send(ctx context.Context, b *emitter.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batchIDs = append(m.batchIDs, b.ID)
	if m.failures > 0 {
		m.failures--
		return errors.New("mem sink is down")
	}
	var rejected []int
	for i, ev := range b.Events {
		if m.poison != "" && bytes.Contains(ev.JSON, []byte(m.poison)) {
			rejected = append(rejected, i)
			continue
		}
		ev.JSON = bytes.Clone(ev.JSON)
		m.got = append(m.got, ev)
	}
	if len(rejected) > 0 {
		return &emitter.DeliveryError{Rejected: rejected, Msg: "poisoned events"}
	}
	return nil
}

func (m *memSink) events() []emitter.BatchEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]emitter.BatchEvent(nil), m.got...)
}

// TestUserSink: a sink of Options.Sinks beside HTTP gets every change and
// custom event with its id, type, time, store and bookmark; while it fails
// it backs off on its own (HTTP is not re-sent anything); the events it
// rejects, and only those, are dead-lettered; it recovers.
func TestUserSink(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	store := openStore(t)
	users := newUsers(t, store)
	clk := newClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ms := &memSink{name: "mem", failures: 1, poison: "poison"}
	em, err := emitter.New(store, emitter.Options{Endpoint: in.URL, CDC: true, Sinks: []emitter.Sink{ms},
		Now: clk.Now, Jitter: func() time.Duration { return 0 }, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Put(ctx, "u1", user{Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	for n := range 10 {
		typ := "user.action"
		if n%4 == 3 {
			typ = "poison.pill"
		}
		mustEmit(t, em, custom(typ, n))
	}
	err = em.Flush(ctx)
	var de *emitter.DeliveryError
	if !errors.Is(err, emitter.ErrDelivery) || !errors.As(err, &de) || de.Sink != "mem" {
		t.Fatalf("flush while the sink is down: %v", err)
	}
	st := em.Stats()
	if ms := st.Sinks["mem"]; ms.Attempt != 1 || ms.Delivered != 0 || !strings.Contains(ms.LastError, "down") {
		t.Fatalf("mem sink stats while down: %+v", ms)
	}
	if st.HTTP.Delivered != 11 || st.HTTP.Attempt != 0 {
		t.Fatalf("HTTP stats: %+v", st.HTTP)
	}
	// HandleAlarm before the retry is due does not try the sink again.
	if err := em.HandleAlarm(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(ms.events()); n != 0 {
		t.Fatalf("the sink got %d events before its retry was due", n)
	}
	clk.Advance(2 * time.Second)
	if err := em.HandleAlarm(ctx); !errors.Is(err, emitter.ErrDeadLettered) || !strings.Contains(err.Error(), "2 of 10 events") {
		t.Fatalf("HandleAlarm: %v", err)
	}

	got := ms.events()
	if len(got) != 1+8 {
		t.Fatalf("the sink got %d events, want 9", len(got))
	}
	ch := got[0]
	if ch.Type != events.TypeCollectionInsert || ch.Bookmark == "" || ch.Store != em.StoreID() ||
		!strings.HasPrefix(ch.ID, em.StoreID()+"-c") || !bytes.Contains(ch.JSON, []byte(`"Ann"`)) {
		t.Fatalf("change: %+v", ch)
	}
	var ns []int
	for _, ev := range got[1:] {
		if ev.Type != "user.action" || ev.Bookmark != "" || !ev.TS.Equal(clk.Now()) && !ev.TS.Before(clk.Now()) ||
			!strings.HasPrefix(ev.ID, em.StoreID()+"-e") {
			t.Fatalf("custom event: %+v", ev)
		}
		dec, err := events.DecodeEvent(ev.JSON)
		if err != nil || eventID(dec) != ev.ID {
			t.Fatalf("event JSON %s: %v", ev.JSON, err)
		}
		ns = append(ns, customNs([]events.Event{dec}, "user.action")...)
	}
	if want := []int{0, 1, 2, 4, 5, 6, 8, 9}; !equalInts(ns, want) {
		t.Fatalf("custom events %v, want %v", ns, want)
	}
	// The retried batch had the id of the failed attempt.
	ms.mu.Lock()
	ids := append([]string(nil), ms.batchIDs...)
	ms.mu.Unlock()
	if len(ids) != 3 || ids[0] != ids[1] || !strings.Contains(ids[2], "-e") {
		t.Fatalf("batch ids %v", ids)
	}

	st = em.Stats()
	if s := st.Sinks["mem"]; s.Attempt != 0 || s.Delivered != 9 || s.DeadLettered != 2 || s.DeadBatches != 1 {
		t.Fatalf("mem sink stats after recovery: %+v", s)
	}
	if st.HTTP.Delivered != 11 || len(in.events()) != 11 {
		t.Fatalf("HTTP was re-sent events: %+v, %d received", st.HTTP, len(in.events()))
	}
	dead, err := em.DeadLetters(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Sink != "mem" || dead[0].Events != 2 || dead[0].Source != "custom" ||
		bytes.Count(dead[0].Body, []byte("poison.pill")) != 2 || bytes.Contains(dead[0].Body, []byte("user.action")) {
		t.Fatalf("dead letters: %+v", dead)
	}
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// A new emitter resumes the sink's cursor: nothing is sent again.
	ms2 := &memSink{name: "mem"}
	em2, err := emitter.New(store, emitter.Options{Sinks: []emitter.Sink{ms2}, CDC: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer em2.Close(ctx)
	if err := em2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(ms2.events()); n != 0 {
		t.Fatalf("a new emitter re-sent %d events", n)
	}
}

// TestUserSinkOptions: bad sinks are refused with ErrInvalidOptions.
func TestUserSinkOptions(t *testing.T) {
	store := openStore(t)
	for _, sinks := range [][]emitter.Sink{
		{nil},
		{&memSink{name: ""}},
		{&memSink{name: "Has Space"}},
		{&memSink{name: "http"}},
		{&memSink{name: "a"}, &memSink{name: "a"}},
		{&memSink{name: strings.Repeat("a", 65)}},
	} {
		if _, err := emitter.New(store, emitter.Options{Sinks: sinks}); !errors.Is(err, emitter.ErrInvalidOptions) {
			t.Errorf("%v: %v", sinks, err)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRedrive: dead letters re-queued with Redrive go again to the sink
// that rejected them, only to it, with their own ids; once fixed, the sink
// takes them and the dead letters are gone. Unknown ids change nothing.
func TestRedrive(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	store := openStore(t)
	ms := &memSink{name: "mem", poison: "poison"}
	opts := emitter.Options{Endpoint: in.URL, Sinks: []emitter.Sink{ms}, Logger: discardLogger()}
	em, err := emitter.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	var poisonIDs []string
	for n := range 6 {
		typ := "user.action"
		if n%3 == 1 {
			typ = "poison.pill"
		}
		mustEmit(t, em, custom(typ, n))
	}
	if err := em.Flush(ctx); !errors.Is(err, emitter.ErrDeadLettered) {
		t.Fatalf("flush: %v", err)
	}
	dead, err := em.DeadLetters(ctx, 0)
	if err != nil || len(dead) != 1 || dead[0].Events != 2 {
		t.Fatalf("dead letters %+v: %v", dead, err)
	}
	if _, err := em.Redrive(ctx, dead[0].ID+100); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("redrive of an unknown dead letter: %v", err)
	}
	// Still poisoned: rejected again, dead-lettered again (as "redrive").
	if n, err := em.Redrive(ctx); err != nil || n != 2 {
		t.Fatalf("redrive: %d, %v", n, err)
	}
	if err := em.Flush(ctx); !errors.Is(err, emitter.ErrDeadLettered) {
		t.Fatalf("flush of still poisoned events: %v", err)
	}
	dead, err = em.DeadLetters(ctx, 0)
	if err != nil || len(dead) != 1 || dead[0].Events != 2 || dead[0].Source != "redrive" {
		t.Fatalf("dead letters after a failed redrive %+v: %v", dead, err)
	}
	// Fixed (and restarted): Redrive delivers them.
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}
	ms.mu.Lock()
	ms.poison = ""
	ms.mu.Unlock()
	em, err = emitter.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)
	if n, err := em.Redrive(ctx, dead[0].ID); err != nil || n != 2 {
		t.Fatalf("redrive: %d, %v", n, err)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := ms.events()
	for _, ev := range got {
		if ev.Type == "poison.pill" {
			poisonIDs = append(poisonIDs, ev.ID)
		}
	}
	if len(got) != 6 || len(poisonIDs) != 2 || poisonIDs[0] != em.StoreID()+"-e2" || poisonIDs[1] != em.StoreID()+"-e5" {
		t.Fatalf("the sink has %d events, poison ids %v", len(got), poisonIDs)
	}
	if dead, err := em.DeadLetters(ctx, 0); err != nil || len(dead) != 0 {
		t.Fatalf("dead letters left: %+v, %v", dead, err)
	}
	if n := len(in.events()); n != 6 {
		t.Fatalf("HTTP got %d events, want each once", n)
	}
	var left int
	if err := cdcx.Store(store).QueryRowContext(ctx, `SELECT count(*) FROM emitter_redrive`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("redrive queue keeps %d rows: %v", left, err)
	}
}

// scriptedSink answers each Send with the next error of its script (nil
// once the script is used up).
type scriptedSink struct {
	mu     sync.Mutex
	script []error
	sends  int
}

func (s *scriptedSink) Name() string { return "scripted" }

func (s *scriptedSink) Send(ctx context.Context, b *emitter.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sends++
	if len(s.script) == 0 {
		return nil
	}
	err := s.script[0]
	s.script = s.script[1:]
	return err
}

// TestUserSinkErrors: a user sink's DeliveryError decides: RetryAfter sets
// the next attempt, Permanent sets the whole batch aside; the emitter names
// the sink in it.
func TestUserSinkErrors(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ss := &scriptedSink{script: []error{
		&emitter.DeliveryError{RetryAfter: 30 * time.Second, Msg: "slow down"},
		&emitter.DeliveryError{Permanent: true, Msg: "never"},
	}}
	em, err := emitter.New(openStore(t), emitter.Options{Sinks: []emitter.Sink{ss}, Now: clk.Now,
		Jitter: func() time.Duration { return 0 }, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)
	mustEmit(t, em, custom("user.action", 1))
	var de *emitter.DeliveryError
	if err := em.Flush(ctx); !errors.As(err, &de) || de.Sink != "scripted" || de.Permanent {
		t.Fatalf("first flush: %v", err)
	}
	if next := em.Stats().Sinks["scripted"].NextAttempt; !next.Equal(clk.Now().Add(30 * time.Second)) {
		t.Fatalf("next attempt %v, want Retry-After 30s", next)
	}
	if err := em.Flush(ctx); !errors.Is(err, emitter.ErrDeadLettered) {
		t.Fatalf("second flush: %v", err)
	}
	mustEmit(t, em, custom("user.action", 2))
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := em.Stats().Sinks["scripted"]
	ss.mu.Lock()
	sends := ss.sends
	ss.mu.Unlock()
	if st.DeadLettered != 1 || st.Delivered != 1 || st.Attempt != 0 || sends != 3 {
		t.Fatalf("stats %+v after %d sends", st, sends)
	}
}
