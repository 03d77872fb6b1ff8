package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
)

// TestRedrive: an event the ingest rejects for good is a dead letter of
// the fleet; redriven while the ingest still rejects it, it stays (with
// the new reason); redriven while the ingest is down, Redrive fails and
// it stays; once the ingest takes it, Redrive delivers it with its own id
// and deletes the dead letter. Unknown ids are fs.ErrNotExist.
func TestRedrive(t *testing.T) {
	ctx := context.Background()
	var (
		mu       sync.Mutex
		got      []wireEvent
		rejectOK atomic.Bool // take "poison" events
		down     atomic.Bool
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var body struct {
			Events []wireEvent `json:"events"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		for i, ev := range body.Events {
			if ev.Type == "poison" && !rejectOK.Load() {
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
	putRecorded(t, f, "s1", user{N: 1}, want)
	if err := f.Emit(ctx, "s1", events.Custom{Type: "poison"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(ctx); !errors.Is(err, emitter.ErrDeadLettered) {
		t.Fatalf("Flush = %v, want ErrDeadLettered", err)
	}
	dead, err := f.DeadLetters(ctx, 0)
	if err != nil || len(dead) != 1 || dead[0].Sink != "http" || dead[0].Events != 1 || !strings.Contains(string(dead[0].Body), `"type":"poison"`) {
		t.Fatalf("dead letters: %+v, %v", dead, err)
	}
	var poison wireEvent
	if err := json.Unmarshal(dead[0].Body, &poison); err != nil || poison.ID == "" {
		t.Fatalf("dead letter body %s: %v", dead[0].Body, err)
	}

	if _, err := f.Redrive(ctx, dead[0].ID+1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Redrive of an unknown id: %v, want fs.ErrNotExist", err)
	}
	if n, err := f.Redrive(ctx); err != nil || n != 0 {
		t.Errorf("Redrive while still rejected: %d, %v; want 0, nil", n, err)
	}
	down.Store(true)
	rejectOK.Store(true)
	var de *emitter.DeliveryError
	if n, err := f.Redrive(ctx, dead[0].ID); !errors.As(err, &de) || n != 0 {
		t.Errorf("Redrive while the ingest is down: %d, %v; want 0 and a DeliveryError", n, err)
	}
	if again, _ := f.DeadLetters(ctx, 0); len(again) != 1 {
		t.Fatalf("after failed redrives: %d dead letters, want 1", len(again))
	}
	down.Store(false)
	if n, err := f.Redrive(ctx); err != nil || n != 1 {
		t.Fatalf("Redrive: %d, %v; want 1, nil", n, err)
	}
	if left, err := f.DeadLetters(ctx, 0); err != nil || len(left) != 0 {
		t.Errorf("after Redrive: %d dead letters, %v", len(left), err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[1].ID != poison.ID || got[1].DO.ID != "s1" {
		t.Errorf("the ingest got %+v; want the change, then the poison event with id %s", got, poison.ID)
	}
}
