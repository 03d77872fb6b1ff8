package emitter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/dotdo/events/internal/wire"
)

// maxErrorBody is how much of an error response's body goes in the error.
const maxErrorBody = 256

// maxDrain is how much of a response body is read so the connection can be
// reused.
const maxDrain = 64 << 10

// httpSink POSTs batches to the ingest endpoint.
type httpSink struct {
	e *Emitter
}

// Name implements Sink.
func (httpSink) Name() string { return "http" }

// prepare builds b's request body, {"events":[...],"batchId":...}, so it
// can be done while the previous request is in flight.
func (httpSink) prepare(b *batch) {
	b.body = wire.AppendBatch(b.body[:0], b.pub.ID, b.raw)
}

// Send POSTs the body prepare built as one batch.
func (s httpSink) Send(ctx context.Context, pb *Batch) error {
	e, b := s.e, pb.prep
	if b == nil {
		return &DeliveryError{Sink: "http", Permanent: true, Msg: "not a batch of this emitter"}
	}
	return post(ctx, &e.cfg, e.red, b.body)
}

// post sends body, a batch in the wire format, to the ingest endpoint and
// says how it went: nil for a 2xx, else a *DeliveryError (a redirect is a
// failed attempt, never a delivery; 4xx other than 408 and 429 are
// permanent) that never shows the API key. The emitter's and a fleet's
// HTTP sinks both send with it.
func post(ctx context.Context, cfg *config, red redactor, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return &DeliveryError{Sink: "http", Permanent: false, Msg: "cannot build request for " + cfg.redacted}
	}
	req.Header.Set("Content-Type", "application/json")
	if cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.APIKey)
	}
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		// *url.Error names the URL without its password; the key is only in
		// a header, but servers and proxies can echo anything: scrub it.
		return &DeliveryError{Sink: "http", Msg: red.clean(err.Error()), Err: red.wrap(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		return nil
	}
	// Read past the limit by the longest form of the key, so a key that
	// straddles the cut is still whole when it is redacted.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, int64(maxErrorBody+red.max)))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	msg := fmt.Sprintf("POST %s: %s", cfg.redacted, http.StatusText(resp.StatusCode))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// Retried, not dead-lettered: the events wait until Endpoint is fixed.
		msg += ": the endpoint redirects"
		if loc, err := resp.Location(); err == nil {
			msg += " to " + loc.Redacted() + "; set Options.Endpoint to it"
		}
	} else if body := printable(red.clean(red.cut(string(head), maxErrorBody))); body != "" {
		msg += ": " + body
	}
	de := &DeliveryError{
		Sink:      "http",
		Status:    resp.StatusCode,
		Permanent: !transientStatus(resp.StatusCode),
		Msg:       red.clean(msg),
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		de.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), cfg.Now())
	}
	return de
}

// printable returns s as a one-line string fit for an error message.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
