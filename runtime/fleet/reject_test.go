package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
)

// TestTooLargeAndRejected: an ingest that answers 413 above 7 events gets
// the batch again in halves (nothing lost); a 400 naming one event
// dead-letters only that event and delivery goes on.
func TestTooLargeAndRejected(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var got []wireEvent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Events []wireEvent `json:"events"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		if len(body.Events) > 7 {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		for i, ev := range body.Events {
			if ev.Type == "poison" {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":"bad event","index":%d}`, i)
				return
			}
		}
		mu.Lock()
		got = append(got, body.Events...)
		mu.Unlock()
	}))
	defer srv.Close()
	f := openFleet(t, fleet.Options{Dir: t.TempDir(), Emitter: emitter.Options{Endpoint: srv.URL}})
	want := map[string][]string{}
	for i := range 20 {
		putRecorded(t, f, fmt.Sprintf("s%02d", i), user{N: i}, want)
	}
	if err := f.Emit(ctx, "s00", events.Custom{Type: "poison"}); err != nil {
		t.Fatal(err)
	}
	err := f.Flush(ctx)
	if !errors.Is(err, emitter.ErrDeadLettered) {
		t.Fatalf("Flush = %v, want ErrDeadLettered", err)
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatalf("second Flush: %v", err)
	}
	checkDelivery(t, "http", got, want, nil, "", true)
	st := f.Stats().Sinks[0]
	if st.DeadLettered != 1 || st.Delivered != 20 || st.Pending != 0 {
		t.Errorf("http sink: %+v", st)
	}
}
