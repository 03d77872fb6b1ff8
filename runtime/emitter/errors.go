package emitter

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors returned by the emitter; match them with errors.Is.
var (
	// ErrInvalidOptions is matched by every error of New about its Options.
	ErrInvalidOptions = errors.New("emitter: invalid options")
	// ErrClosed is returned by Emit and the other methods after Close.
	ErrClosed = errors.New("emitter: closed")
	// ErrBacklogFull is returned by Emit when Options.MaxBacklog events wait
	// for delivery: the event is refused (and counted in Stats.Rejected), never
	// dropped silently.
	ErrBacklogFull = errors.New("emitter: backlog full")
	// ErrCDCDisabled is returned by EmitChange when Options.CDC is off.
	ErrCDCDisabled = errors.New("emitter: CDC is off")
	// ErrChangeEvent is returned by Emit for an event whose type is a
	// change's (collection.insert, .update or .delete): changes come only
	// from the store's change log, where they commit with the data (write
	// one with EmitChange). It also matches events.ErrInvalidEvent.
	ErrChangeEvent = errors.New("emitter: change events come from the change log")
	// ErrDeadLettered is matched by the error of Flush, HandleAlarm or Close
	// when a sink rejected events for good during the call: they were set
	// aside as dead letters (DeadLetters, Redrive) and delivery went on.
	ErrDeadLettered = errors.New("emitter: events dead-lettered")
	// ErrDelivery is matched by every error about a failed send to a sink;
	// errors.As gives the *DeliveryError.
	ErrDelivery = errors.New("emitter: delivery failed")
)

// DeliveryError describes a failed send of one batch to one sink.
type DeliveryError struct {
	// Sink is the sink's name: "http", "lake" or a user sink's. The
	// emitter sets it on what a user sink returns.
	Sink string
	// Status is the HTTP status of the response, 0 when there was none.
	Status int
	// Permanent reports that the batch was rejected for good (HTTP 4xx other
	// than 408 and 429, or an event the lake cannot store): it is dead-lettered
	// and delivery goes on with the next batch. Otherwise the batch is retried.
	Permanent bool
	// RetryAfter is the delay the server asked for (Retry-After), 0 if none.
	RetryAfter time.Duration
	// Rejected lists the indexes in Batch.Events of the events the sink
	// rejected for good: only those are dead-lettered, the others count as
	// delivered. Empty: Permanent decides for the whole batch.
	Rejected []int
	// Msg says what happened; it never holds the API key.
	Msg string
	// Err is the underlying error, when there is one.
	Err error

	named int // 1 + the index of the event a 400 of the ingest names; 0 if none
}

// Error implements error.
func (e *DeliveryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "emitter: %s sink: ", e.Sink)
	if e.Status != 0 {
		fmt.Fprintf(&b, "status %d: ", e.Status)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes every DeliveryError match ErrDelivery.
func (e *DeliveryError) Is(target error) bool { return target == ErrDelivery }

// Unwrap returns the underlying error.
func (e *DeliveryError) Unwrap() error { return e.Err }

// deadNotice says that events were dead-lettered; it matches
// ErrDeadLettered and the rejection's own errors.
type deadNotice struct {
	msg string
	err *DeliveryError
}

func (n *deadNotice) Error() string { return n.msg }

// Is makes a deadNotice match ErrDeadLettered.
func (n *deadNotice) Is(target error) bool { return target == ErrDeadLettered }

// Unwrap returns the rejection.
func (n *deadNotice) Unwrap() error { return n.err }

// withoutDead returns err without its dead-letter notices: the failures.
func withoutDead(err error) error {
	if _, ok := err.(*deadNotice); ok || err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	var keep []error
	for _, e := range j.Unwrap() {
		if e = withoutDead(e); e != nil {
			keep = append(keep, e)
		}
	}
	return errors.Join(keep...)
}

// redactor removes a secret from messages in every form a server or proxy
// may echo it in: as is, JSON-escaped, URL-encoded (query or path, either
// hex case) and base64 (standard or URL alphabet, padded or not).
type redactor struct {
	forms []string // longest first
	max   int      // length of the longest
}

// newRedactor returns a redactor of secret (one that changes nothing when
// secret is empty).
func newRedactor(secret string) redactor {
	if secret == "" {
		return redactor{}
	}
	js, _ := json.Marshal(secret)
	jsonForm := string(js[1 : len(js)-1])
	forms := []string{
		secret,
		jsonForm,
		strings.ReplaceAll(jsonForm, "/", `\/`),
		url.QueryEscape(secret),
		url.PathEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.RawStdEncoding.EncodeToString([]byte(secret)),
		base64.URLEncoding.EncodeToString([]byte(secret)),
		base64.RawURLEncoding.EncodeToString([]byte(secret)),
	}
	for _, f := range forms[3:5] {
		forms = append(forms, lowerHexEscapes(f))
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	forms = slices.Compact(forms)
	return redactor{forms: forms, max: len(forms[0])}
}

// lowerHexEscapes returns s with the hex digits of its %XX escapes in lower case.
func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lowerHex(b[i+1]), lowerHex(b[i+2])
		}
	}
	return string(b)
}

func lowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// clean returns s with every form of the secret replaced.
func (r redactor) clean(s string) string {
	for _, f := range r.forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, "[REDACTED]")
		}
	}
	return s
}

// cut returns s cut to about n bytes, never inside a form of the secret
// that starts before n (so clean removes it whole) and on a rune boundary;
// "…" marks a cut.
func (r redactor) cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := n
	for _, f := range r.forms {
		for i := 0; i < n; {
			j := strings.Index(s[i:], f)
			if j < 0 || i+j >= n {
				break
			}
			end = max(end, i+j+len(f))
			i += j + 1
		}
	}
	for end < len(s) && !utf8.RuneStart(s[end]) {
		end++
	}
	if end >= len(s) {
		return s
	}
	return s[:end] + "…"
}

// redactedError hides a secret in an underlying error's text while keeping
// it matchable with errors.Is. It has no Unwrap on purpose: the wrapped
// error's own text holds the secret.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

// Is reports whether the hidden error matches target.
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// wrap returns err with the secret removed from its text, or nil.
func (r redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := r.clean(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}
