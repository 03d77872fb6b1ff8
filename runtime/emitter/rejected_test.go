package emitter_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/emitter"
)

// TestIngestNamesRejectedEvent: an ingest that answers 400 naming the
// index of the event it refuses gets the other events of the batch again
// at once, under another batchId; only the named events are dead-lettered,
// and every other event arrives once, in order.
func TestIngestNamesRejectedEvent(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	var batchIDs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b, err := events.DecodeBatch(body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		in.mu.Lock()
		batchIDs = append(batchIDs, b.BatchID)
		in.mu.Unlock()
		for i, ev := range b.Events {
			if ev.EventType() == "poison.pill" {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":"event %d is refused","index":%d}`, i, i)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		in.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	em, err := emitter.New(openStore(t), emitter.Options{Endpoint: srv.URL, BatchSize: 10, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)
	var want []int
	for n := range 20 {
		typ := "user.action"
		if n == 3 || n == 7 || n == 15 {
			typ = "poison.pill"
		} else {
			want = append(want, n)
		}
		mustEmit(t, em, custom(typ, n))
	}
	err = em.Flush(ctx)
	if !errors.Is(err, emitter.ErrDeadLettered) || errors.Is(withoutNotices(err), emitter.ErrDelivery) {
		t.Fatalf("flush: %v", err)
	}
	if got := customNs(in.events(), "user.action"); !equalInts(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	dead, err := em.DeadLetters(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var poisoned int
	for _, d := range dead {
		poisoned += d.Events
		if d.Status != 400 || bytes.Contains(d.Body, []byte("user.action")) {
			t.Fatalf("dead letter %+v", d)
		}
	}
	if len(dead) != 2 || poisoned != 3 {
		t.Fatalf("%d dead letters with %d events", len(dead), poisoned)
	}
	if st := em.Stats().HTTP; st.Delivered != 17 || st.DeadLettered != 3 || st.Attempt != 0 {
		t.Fatalf("stats %+v", st)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	seen := map[string]bool{}
	for _, id := range batchIDs {
		if seen[id] {
			t.Fatalf("batch id %s used for two compositions: %v", id, batchIDs)
		}
		seen[id] = true
	}
	if !strings.HasSuffix(batchIDs[len(batchIDs)-1], "-x5") {
		t.Fatalf("batch ids %v", batchIDs)
	}
}

// withoutNotices keeps the errors of err that are not dead-letter notices.
func withoutNotices(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var keep []error
		for _, e := range j.Unwrap() {
			if e = withoutNotices(e); e != nil {
				keep = append(keep, e)
			}
		}
		return errors.Join(keep...)
	}
	if errors.Is(err, emitter.ErrDeadLettered) {
		return nil
	}
	return err
}
