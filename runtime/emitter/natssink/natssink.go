package natssink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dotdo/events/runtime/emitter"
)

// Errors of New and Send about the stream; match them with errors.Is.
var (
	// ErrNoStream: no JetStream stream captures every subject under the
	// prefix ("{prefix}.>").
	ErrNoStream = errors.New("natssink: no stream captures the subject prefix")
	// ErrDuplicateWindow: the stream's duplicate window is shorter than the
	// sink's retries may need (see WithMinDuplicateWindow).
	ErrDuplicateWindow = errors.New("natssink: stream duplicate window too short")
)

// HeaderType is the header holding the event's type. The event's id is in
// the jetstream.MsgIDHeader header ("Nats-Msg-Id").
const HeaderType = "Events-Type"

// defaultMinDuplicateWindow is the shortest duplicate window New accepts by
// default: NATS's own default, and more than the longest time between two
// attempts at one batch (the emitter's 60 s backoff cap, up to 1 s of
// jitter and the default 10 s RequestTimeout of the attempt before).
const defaultMinDuplicateWindow = 2 * time.Minute

// maxSubject bounds a subject: the server refuses a protocol line longer
// than 4096 bytes (its default max_control_line), which holds the subject,
// the reply subject and two sizes.
const maxSubject = 3584

// ackBuffer is how many acknowledgements can wait for Send, and so how many
// messages Send leaves unacknowledged at most: more than an emitter's batch
// (at most 1000 events) holds.
const ackBuffer = 4096

// Sink publishes events to a JetStream stream; see the package doc.
type Sink struct {
	js        jetstream.JetStream
	prefix    string
	name      string
	minWindow time.Duration

	mu      sync.Mutex
	checked bool // the stream was found with a long enough window

	sendMu  sync.Mutex
	sub     *nats.Subscription // acknowledgements, on inbox.{round}.{index}
	subConn *nats.Conn
	acks    chan *nats.Msg
	inbox   string
	round   uint64 // numbers the Send calls, so a late ack is told apart
}

// Option changes a Sink made by New.
type Option func(*Sink)

// WithMinDuplicateWindow sets the shortest duplicate window the stream must
// have (default 2 minutes). Raise it with the emitter's
// RequestTimeout, or to cover re-sends after longer outages and restarts.
func WithMinDuplicateWindow(d time.Duration) Option { return func(s *Sink) { s.minWindow = d } }

// New returns a sink publishing to js under subjectPrefix (one or more
// dot-separated literal tokens, e.g. "events" or "acme.events"). A stream
// must capture "{subjectPrefix}.>" with a duplicate window of at least 2
// minutes (WithMinDuplicateWindow): New checks, and returns an error matching
// ErrNoStream or ErrDuplicateWindow if not. If the server cannot be asked
// (it is down), the check waits for the first Send. Bad arguments give
// errors matching emitter.ErrInvalidOptions.
func New(js jetstream.JetStream, subjectPrefix string, opts ...Option) (*Sink, error) {
	if js == nil || js.Conn() == nil {
		return nil, fmt.Errorf("%w: natssink: nil JetStream or connection", emitter.ErrInvalidOptions)
	}
	if err := validPrefix(subjectPrefix); err != nil {
		return nil, fmt.Errorf("%w: natssink: %v", emitter.ErrInvalidOptions, err)
	}
	s := &Sink{js: js, prefix: subjectPrefix, name: "nats", minWindow: defaultMinDuplicateWindow}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	if s.minWindow <= 0 {
		return nil, fmt.Errorf("%w: natssink: duplicate window %s must be positive", emitter.ErrInvalidOptions, s.minWindow)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.check(ctx); errors.Is(err, ErrNoStream) || errors.Is(err, ErrDuplicateWindow) {
		return nil, err
	}
	return s, nil
}

// Named returns a new sink like s under another name, for a second NATS
// sink beside the first: the name keys the sink's saved positions, retry
// state and dead letters in each store, so keep it stable. emitter.New
// checks it (1-64 bytes of a-z, 0-9, '.', '_', '-').
func (s *Sink) Named(name string) *Sink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Sink{js: s.js, prefix: s.prefix, name: name, minWindow: s.minWindow, checked: s.checked}
}

// Name returns the sink's name: "nats" unless Named gave another.
func (s *Sink) Name() string { return s.name }

// check looks up the stream capturing the prefix once, until it succeeds.
func (s *Sink) check(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.checked {
		return nil
	}
	all := s.prefix + ".>"
	if nc := s.js.Conn(); !nc.IsConnected() {
		return fmt.Errorf("natssink: looking up the stream of %q: connection %s", all, nc.Status())
	}
	name, err := s.js.StreamNameBySubject(ctx, all)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("%w: %q", ErrNoStream, all)
	}
	if err != nil {
		return fmt.Errorf("natssink: looking up the stream of %q: %w", all, err)
	}
	st, err := s.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("%w: %q", ErrNoStream, all)
	}
	if err != nil {
		return fmt.Errorf("natssink: reading stream %s: %w", name, err)
	}
	cfg := st.CachedInfo().Config
	if !captures(cfg.Subjects, s.prefix) {
		return fmt.Errorf("%w: stream %s has subjects %q, not all of %q", ErrNoStream, name, cfg.Subjects, all)
	}
	if cfg.Duplicates < s.minWindow {
		return fmt.Errorf("%w: stream %s keeps ids for %s, the sink needs at least %s", ErrDuplicateWindow, name, cfg.Duplicates, s.minWindow)
	}
	s.checked = true
	return nil
}

// captures reports whether one of subjects matches every subject under
// prefix.
func captures(subjects []string, prefix string) bool {
	pt := strings.Split(prefix, ".")
	for _, subj := range subjects {
		st := strings.Split(subj, ".")
		for i, t := range st {
			if t == ">" {
				return true
			}
			if i >= len(pt) || t != "*" && t != pt[i] {
				break
			}
		}
	}
	return false
}

// Send publishes b's events, each under "{prefix}.{store}.{type}" with its
// id as Nats-Msg-Id, and returns nil once the server acknowledged all. An
// event the server can never take (larger than its max payload or the
// stream's max message size, a subject too long, an id that cannot be a
// header) is rejected alone in a *emitter.DeliveryError; anything else
// (the server down, no stream, a timeout) is an error the emitter retries.
// Calls are serialized.
//
// It publishes every event of the batch before waiting for any
// acknowledgement, the JetStream async-publish pattern, on a reply
// subscription of its own: the acknowledgements are matched by index and
// only an error is decoded, which keeps the producer's CPU per event low.
func (s *Sink) Send(ctx context.Context, b *emitter.Batch) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	nc := s.js.Conn()
	if err := s.subscribe(nc); err != nil {
		return err
	}
	s.round++
	reply := strconv.AppendUint(append(append([]byte(nil), s.inbox...), '.'), s.round, 10)
	reply = append(reply, '.')
	roundPrefix := string(reply)

	var rejected []int
	var reasons []string
	reject := func(i int, why string) {
		rejected = append(rejected, i)
		if len(reasons) < 3 {
			reasons = append(reasons, fmt.Sprintf("event %q: %s", b.Events[i].ID, why))
		}
	}
	var failed error
	sent := make([]bool, len(b.Events))
	waiting := 0
	subj := make([]byte, 0, 128)
	// await takes one acknowledgement of this Send, or fails when ctx ends
	// or the connection drops while waiting.
	var tick *time.Ticker
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	await := func() error {
		for {
			var m *nats.Msg
			select {
			case m = <-s.acks:
			default:
				if tick == nil {
					tick = time.NewTicker(50 * time.Millisecond)
				}
				select {
				case m = <-s.acks:
				case <-tick.C:
				case <-ctx.Done():
				}
			}
			if m == nil {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("natssink: waiting for %d acknowledgements: %w", waiting, err)
				}
				if !nc.IsConnected() {
					return fmt.Errorf("natssink: connection %s while waiting for %d acknowledgements", nc.Status(), waiting)
				}
				continue
			}
			rest, ok := strings.CutPrefix(m.Subject, roundPrefix)
			i, err := strconv.Atoi(rest)
			if !ok || err != nil || i < 0 || i >= len(sent) || !sent[i] {
				continue // an earlier Send's late acknowledgement
			}
			sent[i] = false
			waiting--
			if err := ackError(m); err != nil {
				if permanent(err) {
					reject(i, err.Error())
				} else if failed == nil {
					failed = fmt.Errorf("natssink: publish of event %s: %w", b.Events[i].ID, err)
				}
			}
			return nil
		}
	}
	idHdr, typeHdr := []string{""}, []string{""}
	m := &nats.Msg{Header: nats.Header{jetstream.MsgIDHeader: idHdr, HeaderType: typeHdr}}
	for i := range b.Events {
		ev := &b.Events[i]
		if why := headerUnsafe(ev.ID, ev.Type); why != "" {
			reject(i, why)
			continue
		}
		subj = append(appendToken(append(append(subj[:0], s.prefix...), '.'), ev.Store), '.')
		subj = appendToken(subj, ev.Type)
		if len(subj) > maxSubject {
			reject(i, fmt.Sprintf("subject of %d bytes, at most %d", len(subj), maxSubject))
			continue
		}
		// Never more unacknowledged messages than the ack channel holds:
		// the client drops what does not fit.
		if waiting == ackBuffer {
			if err := await(); err != nil {
				return errors.Join(failed, err)
			}
		}
		// A message published after the connection dropped would wait in
		// the client's reconnect buffer and could overtake one lost in the
		// drop: stop, the emitter retries the batch.
		if !nc.IsConnected() {
			failed = fmt.Errorf("natssink: connection %s", nc.Status())
			break
		}
		// PublishMsg copies what it sends: one Msg serves the whole batch.
		m.Subject = string(subj)
		m.Reply = string(strconv.AppendInt(reply, int64(i), 10))
		m.Data = ev.JSON
		idHdr[0], typeHdr[0] = ev.ID, ev.Type
		err := nc.PublishMsg(m)
		if errors.Is(err, nats.ErrMaxPayload) {
			reject(i, err.Error())
			continue
		}
		if err != nil {
			failed = fmt.Errorf("natssink: publishing: %w", err)
			break
		}
		sent[i] = true
		waiting++
	}
	for waiting > 0 {
		if err := await(); err != nil {
			return errors.Join(failed, err)
		}
	}
	if failed != nil {
		return failed
	}
	if len(rejected) > 0 {
		slices.Sort(rejected)
		return &emitter.DeliveryError{Rejected: rejected,
			Msg: fmt.Sprintf("%d of %d events rejected for good: %s", len(rejected), len(b.Events), strings.Join(reasons, "; "))}
	}
	return nil
}

// subscribe makes the sink's reply subscription on nc, once per connection.
func (s *Sink) subscribe(nc *nats.Conn) error {
	if s.sub != nil && s.sub.IsValid() && s.subConn == nc {
		return nil
	}
	inbox := nc.NewInbox()
	acks := make(chan *nats.Msg, 2*ackBuffer) // room for late acks of a failed Send too
	sub, err := nc.ChanSubscribe(inbox+".>", acks)
	if err != nil {
		return fmt.Errorf("natssink: subscribing to acknowledgements: %w", err)
	}
	if s.sub != nil {
		_ = s.sub.Unsubscribe()
	}
	s.sub, s.subConn, s.inbox, s.acks = sub, nc, inbox, acks
	return nil
}

// ackError returns the error a JetStream acknowledgement reports, nil for
// a stored (or duplicate) message. Only acknowledgements that mention an
// error are decoded.
func ackError(m *nats.Msg) error {
	if len(m.Data) == 0 {
		if m.Header.Get("Status") == "503" {
			return fmt.Errorf("%w: no stream took the message", ErrNoStream)
		}
		return fmt.Errorf("natssink: empty acknowledgement (status %q)", m.Header.Get("Status"))
	}
	if !bytes.Contains(m.Data, []byte(`"error"`)) {
		if !bytes.Contains(m.Data, []byte(`"seq"`)) {
			return fmt.Errorf("natssink: not an acknowledgement: %.200s", m.Data)
		}
		return nil
	}
	var r struct {
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return fmt.Errorf("natssink: bad acknowledgement %.200s: %w", m.Data, err)
	}
	if r.Error != nil {
		return r.Error
	}
	return nil
}

// permanent reports whether a publish error will recur on every retry.
func permanent(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum
	}
	return errors.Is(err, nats.ErrMaxPayload)
}

// headerUnsafe says why an event's id or type cannot be a header value
// (the protocol would split or trim it), or "".
func headerUnsafe(id, typ string) string {
	for _, v := range [2]string{id, typ} {
		if v == "" {
			return "empty id or type"
		}
		if v[0] == ' ' || v[len(v)-1] == ' ' {
			return fmt.Sprintf("id or type %q starts or ends with a space", v)
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < ' ' || c == 0x7f {
				return fmt.Sprintf("id or type %q holds a control character", v)
			}
		}
	}
	return ""
}
