package emitter_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// testKey is the API key of the tests; it must never show in logs or errors.
const testKey = "sk_test_SECRET_0123456789"

func openStore(t testing.TB, opts ...cdc.Option) *cdc.Store {
	t.Helper()
	return openStoreAt(t, filepath.Join(t.TempDir(), "store.db"), opts...)
}

func openStoreAt(t testing.TB, path string, opts ...cdc.Option) *cdc.Store {
	t.Helper()
	s, err := cdc.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

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

// mode is how the ingest server answers a request.
type mode int

const (
	modeOK mode = iota
	mode500
	mode503
	mode408
	mode429      // with Retry-After: retryAfter
	mode400      // a permanent rejection
	mode401Echo  // 401 echoing the Authorization header in the body
	modeSlow     // never answers before the client gives up
	modeReset    // hijacks and closes the connection
	modeBadBatch // 400 when the body contains "poison", else OK
	modeFlaky    // every third request fails with 500
)

// received is one request the ingest server took (any answer).
type received struct {
	header http.Header
	body   []byte
	batch  events.Batch
	status int
}

// ingest is a loopback ingest server that fails on demand.
type ingest struct {
	*httptest.Server
	mu         sync.Mutex
	modes      []mode // answered in turn; then fallback
	fallback   mode
	retryAfter string
	reqs       []received
	accepted   []events.Batch
	release    chan struct{}
	n          int
}

func newIngest(t testing.TB) *ingest {
	t.Helper()
	in := &ingest{release: make(chan struct{})}
	in.Server = httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(func() {
		close(in.release)
		in.Server.Close()
	})
	return in
}

// script sets the answers of the next requests, then fallback.
func (in *ingest) script(fallback mode, next ...mode) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.modes, in.fallback = next, fallback
}

func (in *ingest) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	in.mu.Lock()
	in.n++
	m := in.fallback
	if len(in.modes) > 0 {
		m, in.modes = in.modes[0], in.modes[1:]
	}
	if m == modeFlaky {
		m = modeOK
		if in.n%3 == 0 {
			m = mode500
		}
	}
	if m == modeBadBatch {
		m = modeOK
		if bytes.Contains(body, []byte("poison")) {
			m = mode400
		}
	}
	rec := received{header: r.Header.Clone(), body: body}
	rec.batch, _ = events.DecodeBatch(body)
	status := map[mode]int{modeOK: 200, mode500: 500, mode503: 503, mode408: 408, mode429: 429, mode400: 400, mode401Echo: 401}[m]
	rec.status = status
	in.reqs = append(in.reqs, rec)
	if m == modeOK {
		in.accepted = append(in.accepted, rec.batch)
	}
	retryAfter := in.retryAfter
	in.mu.Unlock()
	switch m {
	case modeSlow:
		select {
		case <-r.Context().Done():
		case <-in.release:
		}
		return
	case modeReset:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case mode429:
		w.Header().Set("Retry-After", retryAfter)
	case mode401Echo:
		w.WriteHeader(status)
		io.WriteString(w, "bad credentials: "+r.Header.Get("Authorization"))
		return
	}
	w.WriteHeader(status)
}

func (in *ingest) requests() []received {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]received(nil), in.reqs...)
}

// events returns the events of accepted batches, in arrival order.
func (in *ingest) events() []events.Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []events.Event
	for _, b := range in.accepted {
		out = append(out, b.Events...)
	}
	return out
}

// custom returns the "n" field of accepted custom events of type typ.
func customNs(evs []events.Event, typ string) []int {
	var ns []int
	for _, ev := range evs {
		if c, ok := ev.(events.Custom); ok && c.Type == typ {
			ns = append(ns, int(c.Fields["n"].(float64)))
		}
	}
	return ns
}

// eventID returns an event's "id".
func eventID(ev events.Event) string {
	switch e := ev.(type) {
	case events.Custom:
		return e.ID
	case events.CollectionChange:
		return e.ID
	case events.RPCCall:
		return e.ID
	case events.Lifecycle:
		return e.ID
	case events.Client:
		return e.ID
	case events.WebSocket:
		return e.ID
	}
	return ""
}

// lakeObject is one events object read back from a bucket.
type lakeObject struct {
	key    string
	info   lake.ObjectInfo
	lines  [][]byte
	events []events.Event
}

// readLake reads every events object of b.
func readLake(t testing.TB, b lake.Bucket) []lakeObject {
	t.Helper()
	ctx := context.Background()
	infos, err := lake.ListAll(ctx, b, "events/")
	if err != nil {
		t.Fatal(err)
	}
	var out []lakeObject
	for _, info := range infos {
		obj, err := b.Get(ctx, info.Key)
		if err != nil {
			t.Fatal(err)
		}
		lo := lakeObject{key: info.Key, info: obj.Info}
		sc := bufio.NewScanner(obj.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := append([]byte(nil), sc.Bytes()...)
			ev, err := events.DecodeEvent(line)
			if err != nil {
				t.Fatalf("%s: %v: %s", info.Key, err, line)
			}
			lo.lines = append(lo.lines, line)
			lo.events = append(lo.events, ev)
		}
		obj.Body.Close()
		out = append(out, lo)
	}
	return out
}

// lakeEvents returns every event of the lake, by object key order.
func lakeEvents(t testing.TB, b lake.Bucket) []events.Event {
	var out []events.Event
	for _, o := range readLake(t, b) {
		out = append(out, o.events...)
	}
	return out
}

// idCounts counts events by id.
func idCounts(evs []events.Event) map[string]int {
	m := map[string]int{}
	for _, ev := range evs {
		m[eventID(ev)]++
	}
	return m
}

// logBuffer is a concurrency-safe sink for a slog text handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLogger(l *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// discardLogger drops logs (tests that provoke failures on purpose).
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func custom(typ string, n int) events.Custom {
	return events.Custom{Type: typ, Fields: map[string]any{"n": n}}
}

func mustEmit(t testing.TB, em *emitter.Emitter, ev events.Event) {
	t.Helper()
	if err := em.Emit(ev); err != nil {
		t.Fatalf("emit: %v", err)
	}
}
