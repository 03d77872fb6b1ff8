package emitter_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// TestEnrichFromRequest: colo from the CF-Ray suffix, worker, class; a
// missing header keeps the known value; safe under concurrency.
func TestEnrichFromRequest(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	em, err := emitter.New(openStore(t), emitter.Options{Endpoint: in.URL, Identity: events.Identity{ID: "do-1", Name: "n"}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("CF-Ray", "8a1b2c3d4e5f-SJC")
	r.Header.Set("cf-worker", "api-worker")
	r.Header.Set("X-DO-Class", "ChatRoom")
	em.EnrichFromRequest(r)
	want := events.Identity{ID: "do-1", Name: "n", Class: "ChatRoom", Colo: "SJC", Worker: "api-worker"}
	if got := em.Identity(); got != want {
		t.Fatalf("identity %+v", got)
	}
	r2 := httptest.NewRequest("GET", "/", nil)
	r2.Header.Set("CF-Ray", "9f9f9f9f9f9f-LHR")
	r2.Header.Set("X-DO-Class", "bad\x01value")
	em.EnrichFromRequest(r2)
	em.EnrichFromRequest(httptest.NewRequest("GET", "/", nil))
	em.EnrichFromRequest(nil)
	want.Colo = "LHR"
	if got := em.Identity(); got != want {
		t.Fatalf("identity after partial headers %+v", got)
	}
	mustEmit(t, em, custom("t", 1))
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				rr := httptest.NewRequest("GET", "/", nil)
				rr.Header.Set("CF-Ray", fmt.Sprintf("abc-C%d", (i+j)%3))
				em.EnrichFromRequest(rr)
				_ = em.Emit(custom("t", 2))
				_ = em.Identity()
			}
		})
	}
	wg.Wait()
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if do := in.events()[0].(events.Custom).DO; do != (events.Identity{ID: "do-1", Name: "n", Class: "ChatRoom", Colo: "LHR", Worker: "api-worker"}) {
		t.Fatalf("event do %+v", do)
	}
}

// TestCallAndMiddleware: rpc.call events without hand-written timing.
func TestCallAndMiddleware(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	em, err := emitter.New(openStore(t), emitter.Options{Endpoint: in.URL})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := em.Call(ctx, "sendMessage", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := em.Call(ctx, "sendMessage", func(context.Context) error { return boom }); err != boom {
		t.Fatalf("Call changed the error: %v", err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = em.Call(ctx, "explode", func(context.Context) error { panic("x") })
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv := httptest.NewServer(em.Middleware(mux))
	defer srv.Close()
	for _, req := range []struct{ method, path string }{{"GET", "/users/42"}, {"POST", "/fail"}, {"GET", "/missing"}, {"GET", "/nowhere"}} {
		r, _ := http.NewRequest(req.method, srv.URL+req.path, nil)
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	type want struct {
		method  string
		success bool
		err     string
	}
	wants := []want{
		{"sendMessage", true, ""}, {"sendMessage", false, "boom"}, {"explode", false, "panic"},
		{"GET /users/{id}", true, ""}, {"POST /fail", false, "Bad Gateway"}, {"GET /missing", true, ""},
		{"GET /nowhere", true, ""},
	}
	evs := in.events()
	if len(evs) != len(wants) {
		t.Fatalf("%d events", len(evs))
	}
	for i, ev := range evs {
		c := ev.(events.RPCCall)
		if c.Method != wants[i].method || c.Success != wants[i].success || c.Error != wants[i].err || c.DurationMs < 0 {
			t.Errorf("event %d: %+v, want %+v", i, c, wants[i])
		}
	}
}

// TestAPIKeyNeverLeaks: not in logs, errors, Stats or dead letters, even
// when the server echoes it.
func TestAPIKeyNeverLeaks(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	in.script(modeOK, mode401Echo, mode500, modeReset)
	var logs logBuffer
	clk := newClock(t0)
	em, err := emitter.New(openStore(t), emitter.Options{
		Endpoint: in.URL, APIKey: testKey, BatchSize: 1, Logger: newLogger(&logs), Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	for i := range 3 {
		mustEmit(t, em, custom("t", i))
		if err := em.Flush(ctx); err != nil {
			errs = append(errs, err.Error())
		}
		clk.Advance(time.Hour)
	}
	dead, err := em.DeadLetters(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Status != 401 {
		t.Fatalf("dead letters %+v", dead)
	}
	st := em.Stats()
	all := strings.Join(append(errs, logs.String(), fmt.Sprintf("%+v", st), dead[0].Error), "\n")
	if strings.Contains(all, testKey) {
		t.Fatalf("the API key leaked:\n%s", all)
	}
	if !strings.Contains(all, "[REDACTED]") {
		t.Fatalf("the echo was not seen:\n%s", all)
	}
	// Credentials in the endpoint URL are not quoted either.
	_, err = emitter.New(openStore(t), emitter.Options{Endpoint: "ftp://user:" + testKey + "@x"})
	if !errors.Is(err, emitter.ErrInvalidOptions) || strings.Contains(err.Error(), testKey) {
		t.Fatalf("bad endpoint: %v", err)
	}
}

// badEvent is an Event of another package that writes broken JSON.
type badEvent struct{ events.Custom }

func (badEvent) AppendJSON(dst []byte, _ events.Envelope) ([]byte, error) {
	return append(dst, "{\n"...), nil
}

// TestEmitRejectsBadInput: invalid events and options get clear errors and
// change nothing.
func TestEmitRejectsBadInput(t *testing.T) {
	in := newIngest(t)
	em, err := emitter.New(openStore(t), emitter.Options{Endpoint: in.URL})
	if err != nil {
		t.Fatal(err)
	}
	for name, ev := range map[string]events.Event{
		"nil":           nil,
		"empty type":    events.Custom{},
		"bad type":      events.Custom{Type: "a b"},
		"reserved":      events.Custom{Type: "t", Fields: map[string]any{"ts": 1}},
		"unencodable":   events.Custom{Type: "t", Fields: map[string]any{"f": func() {}}},
		"rpc no method": events.RPCCall{},
		"year 1969":     events.Custom{Type: "t", TS: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)},
		"bad JSON":      badEvent{events.Custom{Type: "t"}},
	} {
		if err := em.Emit(ev); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if em.PendingCount() != 0 || em.Stats().Emitted != 0 {
		t.Fatal("a bad event was queued")
	}
	for name, o := range map[string]emitter.Options{
		"no sink":          {},
		"negative batch":   {Endpoint: in.URL, BatchSize: -1},
		"relative URL":     {Endpoint: "/ingest"},
		"negative timeout": {Endpoint: in.URL, RequestTimeout: -1},
	} {
		if _, err := emitter.New(openStore(t), o); !errors.Is(err, emitter.ErrInvalidOptions) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := emitter.New(nil, emitter.Options{Endpoint: in.URL}); !errors.Is(err, emitter.ErrInvalidOptions) {
		t.Errorf("nil store: %v", err)
	}
	// APIKey alone turns HTTP on with the default endpoint.
	em2, err := emitter.New(openStore(t), emitter.Options{APIKey: "k"})
	if err != nil || !em2.Stats().HTTP.Enabled || em2.Stats().Lake.Enabled {
		t.Fatalf("APIKey only: %v %+v", err, em2.Stats())
	}
}

// TestInvalidIdentityRefused: an Identity.ID that is no valid store id
// (it names the store's lake objects and snapshots) is refused by New,
// before anything is written.
func TestInvalidIdentityRefused(t *testing.T) {
	for _, id := range []string{"a/b", "..", ".hidden", "tab\there", strings.Repeat("x", 257)} {
		store := openStore(t)
		_, err := emitter.New(store, emitter.Options{Bucket: lake.Dir(t.TempDir()), Identity: events.Identity{ID: id}})
		if !errors.Is(err, emitter.ErrInvalidOptions) || !errors.Is(err, events.ErrInvalidStoreID) {
			t.Errorf("id %q: %v, want ErrInvalidOptions and events.ErrInvalidStoreID", id, err)
		}
	}
}
