package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/lake"
)

// Limits and defaults.
const (
	// MaxBodyBytes is the largest request body accepted (413 beyond).
	MaxBodyBytes = 16 << 20
	// MaxEvents is the most events one batch may hold (413 beyond).
	MaxEvents = events.MaxBatchEvents
	// DefaultMaxInFlight is Options.MaxInFlight's default.
	DefaultMaxInFlight = 16
	// DefaultMaxAge is Options.MaxAge's default: an emitter that was cut off
	// for months still delivers its events, while a clock stuck at 1970 is
	// refused.
	DefaultMaxAge = 366 * 24 * time.Hour
	// DefaultMaxFuture is Options.MaxFuture's default, for clock skew.
	DefaultMaxFuture = time.Hour
)

// ErrInvalidOptions is matched by New's error for unusable Options.
var ErrInvalidOptions = errors.New("ingest: invalid options")

// Options configure a Server. Bucket is required.
type Options struct {
	// Bucket is the lake the events are written to.
	Bucket lake.Bucket
	// Keys are the bearer keys accepted for events of any store. With no
	// Keys and no ScopedKeys, no key is needed.
	Keys []string
	// ScopedKeys are keys accepted only for some stores.
	ScopedKeys []Key
	// MaxInFlight is the most POST /ingest requests handled at once; beyond
	// it a request gets 503 with Retry-After. 0 means DefaultMaxInFlight.
	// Each holds up to MaxBodyBytes (twice, while its objects are built).
	MaxInFlight int
	// MaxAge is how old an event's ts may be; 0 means DefaultMaxAge, a
	// negative value no limit (but 1970).
	MaxAge time.Duration
	// MaxFuture is how far ahead of the server's clock an event's ts may
	// be; 0 means DefaultMaxFuture, a negative value no limit (but 9999).
	MaxFuture time.Duration
	// RateLimit, when positive, is the requests a second each key may make
	// (bursts of as many, at least one); beyond it a request gets 429 with
	// Retry-After. Without keys it applies to all requests together.
	RateLimit float64
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the ingest: an http.Handler serving
//
//	POST /ingest   a batch, {"events":[...],"batchId":"..."}
//	GET  /health   200 {"status":"ok"}, no key needed
//	GET  /metrics  Prometheus text format, no key needed
//
// It is safe for concurrent use; run it in an http.Server with a
// ReadHeaderTimeout and shut that down with Shutdown, which waits for the
// requests in flight.
type Server struct {
	keys      *keyring
	limit     *limiter
	sem       chan struct{}
	maxAge    time.Duration
	maxFuture time.Duration
	log       *slog.Logger
	now       func() time.Time
	m         *metrics
	metricsH  http.Handler
	writer    *lakewrite.MultiWriter
	bufs      sync.Pool // *bytes.Buffer: request bodies and built events
	spans     sync.Pool // *[]span: the events a scan finds
}

// New returns a Server writing to opts.Bucket. The error matches
// ErrInvalidOptions.
func New(opts Options) (*Server, error) {
	if opts.Bucket == nil {
		return nil, fmt.Errorf("%w: no Bucket", ErrInvalidOptions)
	}
	if opts.MaxInFlight < 0 {
		return nil, fmt.Errorf("%w: negative MaxInFlight", ErrInvalidOptions)
	}
	kr, err := newKeyring(opts.Keys, opts.ScopedKeys)
	if err != nil {
		return nil, err
	}
	s := &Server{
		keys:      kr,
		limit:     newLimiter(opts.RateLimit),
		maxAge:    pick(opts.MaxAge, DefaultMaxAge),
		maxFuture: pick(opts.MaxFuture, DefaultMaxFuture),
		log:       opts.Logger,
		now:       opts.Now,
		m:         newMetrics(),
	}
	n := opts.MaxInFlight
	if n == 0 {
		n = DefaultMaxInFlight
	}
	s.sem = make(chan struct{}, n)
	s.writer = &lakewrite.MultiWriter{Bucket: opts.Bucket, Key: lakeformat.IngestKey}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.metricsH = promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{})
	return s, nil
}

func pick(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/ingest":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			s.m.answered(http.StatusMethodNotAllowed)
			s.reply(w, http.StatusMethodNotAllowed, errorBody{Error: "use POST"})
			return
		}
		s.ingest(w, r)
	case "/health":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.reply(w, http.StatusMethodNotAllowed, errorBody{Error: "use GET"})
			return
		}
		s.reply(w, http.StatusOK, map[string]string{"status": "ok"})
	case "/metrics":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.reply(w, http.StatusMethodNotAllowed, errorBody{Error: "use GET"})
			return
		}
		s.metricsH.ServeHTTP(w, r)
	default:
		s.reply(w, http.StatusNotFound, errorBody{Error: "no such path; POST batches to /ingest"})
	}
}

// errorBody is the JSON body of every refusal. Index is the first
// offending event's (-1 for the batch as a whole); Errors lists each
// offending event (at most 100), so a sender can set aside only those.
type errorBody struct {
	Error  string       `json:"error"`
	Index  *int         `json:"index,omitempty"`
	Errors []eventError `json:"errors,omitempty"`
}

// okBody is the body of a 200.
type okBody struct {
	Accepted int `json:"accepted"`
	Objects  int `json:"objects"`
}

func (s *Server) reply(w http.ResponseWriter, code int, body any) {
	data, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)+1))
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}

// refuse answers a refused batch and counts it.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, reason string, body errorBody) {
	s.m.rejects.WithLabelValues(reason).Inc()
	s.m.answered(code)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "ingest: batch refused",
		slog.Int("status", code), slog.String("reason", reason), slog.String("error", body.Error), slog.String("remote", r.RemoteAddr))
	s.reply(w, code, body)
}

func (s *Server) ingest(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var sc *scope
	label := -1
	if !s.keys.open() {
		k, ok := s.keys.match(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="events"`)
			s.refuse(w, r, http.StatusUnauthorized, "auth", errorBody{Error: "missing or wrong bearer key"})
			return
		}
		sc, label = k.scope, k.label
	}
	if ok, wait := s.limit.allow(label, s.now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		s.refuse(w, r, http.StatusTooManyRequests, "rate_limit", errorBody{Error: "rate limit exceeded"})
		return
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		w.Header().Set("Retry-After", "1")
		s.refuse(w, r, http.StatusServiceUnavailable, "busy", errorBody{Error: "too many requests in flight"})
		return
	}
	s.m.inFlight.Inc()
	defer s.m.inFlight.Dec()
	defer func() { s.m.latency.Observe(time.Since(start).Seconds()) }()

	if r.ContentLength > MaxBodyBytes {
		s.refuse(w, r, http.StatusRequestEntityTooLarge, reasonTooLarge, errorBody{Error: fmt.Sprintf("body of %d bytes, more than %d", r.ContentLength, MaxBodyBytes)})
		return
	}
	bodyBuf := s.buffer()
	defer s.bufs.Put(bodyBuf)
	body, err := readBody(r, bodyBuf)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			s.refuse(w, r, http.StatusRequestEntityTooLarge, reasonTooLarge, errorBody{Error: fmt.Sprintf("body larger than %d bytes", MaxBodyBytes)})
			return
		}
		s.refuse(w, r, http.StatusBadRequest, "read", errorBody{Error: "cannot read the body: " + err.Error()})
		return
	}

	now := s.now().UTC()
	scn := scanner{data: body, scope: sc, minTS: time.Unix(0, 0).UTC(), maxTS: time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)}
	if s.maxAge > 0 {
		if t := now.Add(-s.maxAge); t.After(scn.minTS) {
			scn.minTS = t
		}
	}
	if s.maxFuture > 0 {
		if t := now.Add(s.maxFuture); t.Before(scn.maxTS) {
			scn.maxTS = t
		}
	}
	spans, _ := s.spans.Get().(*[]span)
	if spans == nil {
		spans = new([]span)
	}
	defer s.spans.Put(spans)
	res := scn.scanBatch(MaxEvents, *spans)
	defer func() { *spans = res.events[:0] }()
	if res.fatal != nil {
		eb := errorBody{Error: res.fatal.Error}
		if res.fatal.Index >= 0 {
			i := res.fatal.Index
			eb.Index = &i
			eb.Errors = []eventError{*res.fatal}
		}
		s.refuse(w, r, res.status, res.fatal.reason, eb)
		return
	}
	if len(res.errs) > 0 {
		i := res.errs[0].Index
		msg := res.errs[0].Error
		if len(res.errs) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(res.errs)-1)
		}
		s.refuse(w, r, res.status, res.errs[0].reason, errorBody{Error: msg, Index: &i, Errors: res.errs})
		return
	}

	written, err := s.write(r.Context(), body, res)
	if err != nil {
		s.m.lakeErrors.Inc()
		s.log.LogAttrs(r.Context(), slog.LevelError, "ingest: lake write failed",
			slog.Int("events", len(res.events)), slog.Int("objects_written", len(written)), slog.String("error", err.Error()))
		w.Header().Set("Retry-After", "1")
		s.m.rejects.WithLabelValues("lake").Inc()
		s.m.answered(http.StatusServiceUnavailable)
		s.reply(w, http.StatusServiceUnavailable, errorBody{Error: "the lake write failed; retry"})
		return
	}
	s.m.events.Add(float64(len(res.events)))
	s.m.bytes.Add(float64(len(body)))
	s.m.lakeObjects.Add(float64(len(written)))
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "ingest: batch accepted",
		slog.Int("events", len(res.events)), slog.Int("objects", len(written)), slog.Int("bytes", len(body)))
	s.m.answered(http.StatusOK)
	s.reply(w, http.StatusOK, okBody{Accepted: len(res.events), Objects: len(written)})
}

var errTooLarge = errors.New("body too large")

// buffer returns a pooled buffer, empty.
func (s *Server) buffer() *bytes.Buffer {
	b, _ := s.bufs.Get().(*bytes.Buffer)
	if b == nil {
		b = new(bytes.Buffer)
	}
	b.Reset()
	return b
}

// readBody reads the whole body into buf, at most MaxBodyBytes.
func readBody(r *http.Request, buf *bytes.Buffer) ([]byte, error) {
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if n > MaxBodyBytes {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// write builds the batch's events as they are stored (compacted, with an
// id) and writes them to the lake, one object per UTC hour.
func (s *Server) write(ctx context.Context, body []byte, res *batchScan) ([]lakewrite.Written, error) {
	if len(res.events) == 0 {
		return nil, nil
	}
	// Events that arrive compact and with an id are stored as they are,
	// straight from the body; the others are rebuilt in a pooled arena.
	var base []byte
	size := 0
	for _, sp := range res.events {
		if !sp.spaced && sp.hasID {
			continue
		}
		size += len(sp.raw) + 1
		if !sp.hasID {
			if base == nil {
				base = idBase(res.batchID, body)
			}
			size += len(base) + 16
		}
	}
	ab := s.buffer()
	defer s.bufs.Put(ab)
	ab.Grow(size)
	arena := ab.Bytes()[:0]
	ends := make([]int, len(res.events))
	for i, sp := range res.events {
		if !sp.spaced && sp.hasID {
			ends[i] = -1
			continue
		}
		if sp.spaced {
			var b bytes.Buffer
			if err := json.Compact(&b, sp.raw); err != nil {
				return nil, fmt.Errorf("compact event %d: %w", i, err) // cannot happen: scanned
			}
			arena = append(arena, b.Bytes()...)
		} else {
			arena = append(arena, sp.raw...)
		}
		if !sp.hasID {
			arena = appendID(arena[:len(arena)-1], base, i)
		}
		ends[i] = len(arena)
	}
	evs := make([]lakewrite.EncodedEvent, len(res.events))
	prev := 0
	for i, sp := range res.events {
		js := sp.raw
		if ends[i] >= 0 {
			js = arena[prev:ends[i]:ends[i]]
			prev = ends[i]
		}
		evs[i] = lakewrite.EncodedEvent{TS: sp.ts, Seq: uint64(i), JSON: js}
	}
	return s.writer.Write(ctx, evs)
}

// idBase is the stem of the ids the ingest gives events that arrive
// without one (DESIGN rule 1): from the batchId when the batch has one
// (senders keep it across retries of the same events), else from the
// body, so a retry of the same batch gets the same ids on any server.
func idBase(batchID string, body []byte) []byte {
	var sum [sha256.Size]byte
	prefix := byte('h')
	if batchID != "" {
		sum = sha256.Sum256([]byte("batchId\x00" + batchID))
		prefix = 'b'
	} else {
		sum = sha256.Sum256(body)
	}
	out := make([]byte, 0, 1+2*12)
	out = append(out, 'i', prefix)
	return hex.AppendEncode(out, sum[:12])
}

// appendID closes an event object (dst without its final '}') with the
// member "id":"{base}-{index}".
func appendID(dst, base []byte, index int) []byte {
	dst = append(dst, `,"id":"`...)
	dst = append(dst, base...)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, int64(index), 10)
	return append(dst, `"}`...)
}
