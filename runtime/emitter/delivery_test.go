package emitter_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// TestDeliveryWireFormat: every event arrives once, in order, in batches of
// at most BatchSize, with the exact wire format and headers, to both sinks.
func TestDeliveryWireFormat(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	bucket := lake.Dir(t.TempDir())
	clk := newClock(t0)
	id := events.Identity{ID: "room-1", Name: "Room", Class: "ChatRoom"}
	em, err := emitter.New(openStore(t), emitter.Options{
		Endpoint: in.URL, APIKey: testKey, BatchSize: 100, Bucket: bucket, Identity: id, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 250
	for i := range n {
		mustEmit(t, em, custom("user.action", i))
		clk.Advance(time.Millisecond)
	}
	if got := em.PendingCount(); got != n {
		t.Fatalf("PendingCount = %d, want %d", got, n)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := em.PendingCount(); got != 0 {
		t.Fatalf("PendingCount after flush = %d", got)
	}
	reqs := in.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	batchID := regexp.MustCompile(`^[0-9a-f]{16}-e\d+-\d+$`)
	for i, r := range reqs {
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("request %d: Content-Type %q", i, ct)
		}
		if auth := r.header.Get("Authorization"); auth != "Bearer "+testKey {
			t.Errorf("request %d: Authorization %q", i, auth)
		}
		if want := []int{100, 100, 50}[i]; len(r.batch.Events) != want {
			t.Errorf("request %d: %d events, want %d", i, len(r.batch.Events), want)
		}
		if !batchID.MatchString(r.batch.BatchID) {
			t.Errorf("request %d: batchId %q", i, r.batch.BatchID)
		}
	}
	evs := in.events()
	if ns := customNs(evs, "user.action"); !slices.Equal(ns, seq(0, n)) {
		t.Fatalf("order: %v", ns)
	}
	first := evs[0].(events.Custom)
	if first.DO != id || !first.TS.Equal(t0) || !strings.HasPrefix(first.ID, em.StoreID()+"-e") {
		t.Fatalf("first event stamped wrong: %+v", first)
	}
	// The exact bytes of one event.
	want := fmt.Sprintf(`{"type":"user.action","ts":"2026-03-01T12:00:00.000Z","do":{"id":"room-1","name":"Room","class":"ChatRoom"},"id":%q,"n":0}`, first.ID)
	if !strings.Contains(string(reqs[0].body), want) || !strings.HasPrefix(string(reqs[0].body), `{"events":[`+want+",") {
		t.Fatalf("body %s\nwant it to start with %s", reqs[0].body[:300], want)
	}
	counts := idCounts(evs)
	if len(counts) != n {
		t.Fatalf("%d distinct ids, want %d", len(counts), n)
	}
	// The lake has the same events, once each, in order.
	lakeEvs := lakeEvents(t, bucket)
	if ns := customNs(lakeEvs, "user.action"); !slices.Equal(ns, seq(0, n)) {
		t.Fatalf("lake order: %v", ns)
	}
	st := em.Stats()
	if st.HTTP.Delivered != n || st.Lake.Delivered != n || st.Emitted != n || st.HTTP.Batches != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestBatchLimits: batches never exceed BatchSize nor 1000 events.
func TestBatchLimits(t *testing.T) {
	if _, err := emitter.New(openStore(t), emitter.Options{Endpoint: "http://x", BatchSize: 1001}); !errors.Is(err, emitter.ErrInvalidOptions) {
		t.Fatalf("BatchSize 1001: %v", err)
	}
	in := newIngest(t)
	em, err := emitter.New(openStore(t), emitter.Options{Endpoint: in.URL, BatchSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2345 {
		mustEmit(t, em, custom("t", i))
	}
	if err := em.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range in.requests() {
		sizes = append(sizes, len(r.batch.Events))
	}
	if !slices.Equal(sizes, []int{1000, 1000, 345}) {
		t.Fatalf("batch sizes %v", sizes)
	}
}

// TestRetrySchedule: 1s doubling to 60s plus jitter, driven by HandleAlarm
// and the injected clock; the schedule survives a restart.
func TestRetrySchedule(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	in.script(mode500)
	clk := newClock(t0)
	store := openStore(t)
	opts := emitter.Options{
		Endpoint: in.URL, Now: clk.Now, Logger: discardLogger(),
		Jitter: func() time.Duration { return 250 * time.Millisecond },
	}
	em, err := emitter.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		mustEmit(t, em, custom("t", i))
	}
	if err := em.HandleAlarm(ctx); !errors.Is(err, emitter.ErrDelivery) {
		t.Fatalf("first attempt: %v", err)
	}
	var de *emitter.DeliveryError
	if err := em.HandleAlarm(ctx); err != nil {
		t.Fatalf("not due yet, but: %v", err)
	}
	if got := len(in.requests()); got != 1 {
		t.Fatalf("%d requests before the retry is due", got)
	}
	wantDelays := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60}
	for i, d := range wantDelays {
		delay := d*time.Second + 250*time.Millisecond
		st := em.Stats().HTTP
		if st.Attempt != i+1 || !st.NextAttempt.Equal(clk.Now().Add(delay)) {
			t.Fatalf("after attempt %d: attempt %d next %s, want next %s", i+1, st.Attempt, st.NextAttempt, clk.Now().Add(delay))
		}
		clk.Advance(delay - time.Millisecond)
		if err := em.HandleAlarm(ctx); err != nil {
			t.Fatalf("early alarm: %v", err)
		}
		if got := len(in.requests()); got != i+1 {
			t.Fatalf("retry %d sent %s early", i+1, time.Millisecond)
		}
		clk.Advance(time.Millisecond)
		if i == 3 {
			// Restart between attempts: the new emitter resumes the schedule.
			emitter.Abandon(em)
			em, err = emitter.New(store, opts)
			if err != nil {
				t.Fatal(err)
			}
			if st := em.Stats().HTTP; st.Attempt != 4 {
				t.Fatalf("restart lost the schedule: %+v", st)
			}
		}
		err := em.HandleAlarm(ctx)
		if !errors.As(err, &de) || de.Status != 500 || de.Permanent {
			t.Fatalf("retry %d: %v", i+1, err)
		}
	}
	in.script(modeOK)
	clk.Advance(61 * time.Second)
	if err := em.HandleAlarm(ctx); err != nil {
		t.Fatal(err)
	}
	if ns := customNs(in.events(), "t"); !slices.Equal(ns, seq(0, 5)) {
		t.Fatalf("delivered %v", ns)
	}
	if st := em.Stats().HTTP; st.Attempt != 0 || !st.NextAttempt.IsZero() {
		t.Fatalf("not recovered: %+v", st)
	}
}

// TestRetryAfter: a 429 is retried after the server's Retry-After, in
// seconds or as an HTTP date.
func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct{ header string }{{"7"}, {t0.Add(7 * time.Second).Format(httpDate)}} {
		t.Run(tc.header, func(t *testing.T) {
			ctx := context.Background()
			in := newIngest(t)
			in.retryAfter = tc.header
			in.script(modeOK, mode429)
			clk := newClock(t0)
			em, err := emitter.New(openStore(t), emitter.Options{Endpoint: in.URL, Now: clk.Now, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			mustEmit(t, em, custom("t", 1))
			var de *emitter.DeliveryError
			if err := em.HandleAlarm(ctx); !errors.As(err, &de) || de.Status != 429 || de.RetryAfter != 7*time.Second {
				t.Fatalf("got %v", err)
			}
			if next := em.Stats().HTTP.NextAttempt; !next.Equal(t0.Add(7 * time.Second)) {
				t.Fatalf("next attempt %s", next)
			}
			clk.Advance(6 * time.Second)
			_ = em.HandleAlarm(ctx)
			if len(in.requests()) != 1 {
				t.Fatal("retried before Retry-After")
			}
			clk.Advance(time.Second)
			if err := em.HandleAlarm(ctx); err != nil {
				t.Fatal(err)
			}
			if len(in.events()) != 1 {
				t.Fatal("not delivered")
			}
		})
	}
}

const httpDate = "Mon, 02 Jan 2006 15:04:05 GMT"

// TestTransientFailures: 408, 503, a timeout and a reset connection are all
// retried; nothing is dead-lettered and every event arrives once.
func TestTransientFailures(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	in.script(modeOK, mode408, mode503, modeSlow, modeReset)
	clk := newClock(t0)
	em, err := emitter.New(openStore(t), emitter.Options{
		Endpoint: in.URL, Now: clk.Now, RequestTimeout: 200 * time.Millisecond, Logger: discardLogger(),
		Jitter: func() time.Duration { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustEmit(t, em, custom("t", i))
	}
	for attempt := 1; attempt <= 4; attempt++ {
		err := em.HandleAlarm(ctx)
		var de *emitter.DeliveryError
		if !errors.As(err, &de) || de.Permanent {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		clk.Advance(time.Minute)
	}
	if err := em.HandleAlarm(ctx); err != nil {
		t.Fatal(err)
	}
	st := em.Stats()
	if st.HTTP.Retries != 4 || st.HTTP.DeadLettered != 0 || st.HTTP.Delivered != 10 {
		t.Fatalf("stats %+v", st.HTTP)
	}
	if ns := customNs(in.events(), "t"); !slices.Equal(ns, seq(0, 10)) {
		t.Fatalf("delivered %v", ns)
	}
}

// TestPoisonBatchDeadLettered: a 400 sets aside only its batch; delivery
// goes on with the next one.
func TestPoisonBatchDeadLettered(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	in.script(modeBadBatch)
	em, err := emitter.New(openStore(t), emitter.Options{Endpoint: in.URL, BatchSize: 10, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		typ := "t"
		if i == 15 {
			typ = "poison"
		}
		mustEmit(t, em, custom(typ, i))
	}
	// A dead letter is not a delivery failure: Flush delivers the rest and
	// says what it set aside.
	if err := em.Flush(ctx); !errors.Is(err, emitter.ErrDeadLettered) || !strings.Contains(err.Error(), "10 of 10 events") {
		t.Fatalf("flush with a poison batch: %v", err)
	}
	want := append(seq(0, 10), seq(20, 30)...)
	if ns := customNs(in.events(), "t"); !slices.Equal(ns, want) {
		t.Fatalf("delivered %v", ns)
	}
	st := em.Stats().HTTP
	if st.DeadLettered != 10 || st.DeadBatches != 1 || st.Delivered != 20 || st.Attempt != 0 {
		t.Fatalf("stats %+v", st)
	}
	dead, err := em.DeadLetters(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Status != 400 || dead[0].Events != 10 || dead[0].Sink != "http" || !strings.Contains(string(dead[0].Body), "poison") {
		t.Fatalf("dead letters %+v", dead)
	}
	if em.PendingCount() != 0 {
		t.Fatal("dead batch still pending")
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestHTTPInFlight: with several batches in flight every event arrives;
// after a failure in the middle of a flight the later batches are sent
// again, recognisable by their ids and batchIds.
func TestHTTPInFlight(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	in.script(modeOK, modeOK, mode500)
	clk := newClock(t0)
	em, err := emitter.New(openStore(t), emitter.Options{
		Endpoint: in.URL, BatchSize: 10, HTTPInFlight: 4, Now: clk.Now, Logger: discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		mustEmit(t, em, custom("t", i))
	}
	if err := em.Flush(ctx); !errors.Is(err, emitter.ErrDelivery) {
		t.Fatalf("flush: %v", err)
	}
	clk.Advance(time.Minute)
	if err := em.HandleAlarm(ctx); err != nil {
		t.Fatal(err)
	}
	byID := map[string]int{}
	batches := map[string][]string{}
	for _, ev := range in.events() {
		byID[eventID(ev)] = int(ev.(events.Custom).Fields["n"].(float64))
	}
	for _, r := range in.requests() {
		if r.status != 200 {
			continue
		}
		var ids []string
		for _, ev := range r.batch.Events {
			ids = append(ids, eventID(ev))
		}
		if prev, ok := batches[r.batch.BatchID]; ok && !slices.Equal(prev, ids) {
			t.Fatalf("batchId %s names two different batches", r.batch.BatchID)
		}
		batches[r.batch.BatchID] = ids
	}
	var ns []int
	for _, n := range byID {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	if !slices.Equal(ns, seq(0, 100)) {
		t.Fatalf("delivered %v", ns)
	}
	if st := em.Stats().HTTP; st.Delivered != 100 || st.Retries != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(in.events()) < 100 {
		t.Fatal("lost events")
	}
}

// TestPreparedBatchAfterFailure: with one batch in flight the next batch is
// prepared during each send; when a send fails in the middle of a backlog
// that batch is not sent, the retry starts at the failed batch, and the
// ingest takes every batch once, in order, one request at a time.
func TestPreparedBatchAfterFailure(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	in.script(modeOK, modeOK, mode503)
	clk := newClock(t0)
	em, err := emitter.New(openStore(t), emitter.Options{
		Endpoint: in.URL, BatchSize: 10, Now: clk.Now, Logger: discardLogger(),
		Jitter: func() time.Duration { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 45 {
		mustEmit(t, em, custom("t", i))
	}
	var de *emitter.DeliveryError
	if err := em.HandleAlarm(ctx); !errors.As(err, &de) || de.Status != 503 {
		t.Fatalf("first round: %v", err)
	}
	if n := len(in.requests()); n != 2 {
		t.Fatalf("%d requests before the retry, want 2 (the prepared batch must wait)", n)
	}
	clk.Advance(time.Minute)
	if err := em.HandleAlarm(ctx); err != nil {
		t.Fatal(err)
	}
	if ns := customNs(in.events(), "t"); !slices.Equal(ns, seq(0, 45)) {
		t.Fatalf("delivered %v", ns)
	}
	var firsts []int
	for _, r := range in.requests() {
		firsts = append(firsts, int(r.batch.Events[0].(events.Custom).Fields["n"].(float64)))
	}
	if want := []int{0, 10, 10, 20, 30, 40}; !slices.Equal(firsts, want) {
		t.Fatalf("batches start at %v, want %v", firsts, want)
	}
}
