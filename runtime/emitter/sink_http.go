package emitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
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

// Send POSTs the body prepare built as one batch. When the ingest answers
// 400 naming the index of the event it refuses ({"index": n} in its JSON
// error), that event is set aside and the others are sent again at once,
// as a batch of their own (another batchId): the error then lists what was
// rejected (DeliveryError.Rejected) and the others count as delivered.
func (s httpSink) Send(ctx context.Context, pb *Batch) error {
	b := pb.prep
	if b == nil {
		return &DeliveryError{Sink: "http", Permanent: true, Msg: "not a batch of this emitter"}
	}
	return sendHTTP(ctx, &s.e.cfg, s.e.red, pb.ID, b.body, b.raw)
}

// sendHTTP POSTs a batch of the events raw (body: its wire form, built
// from id and raw when nil) and, when the ingest answers 400 naming one
// event, sends the others again at once without it (see httpSink.Send).
// The emitter's and a fleet's HTTP sinks both send with it.
func sendHTTP(ctx context.Context, cfg *config, red redactor, id string, body []byte, raw [][]byte) error {
	if body == nil {
		body = wire.AppendBatch(nil, id, raw)
	}
	err := post(ctx, cfg, red, body)
	var de *DeliveryError
	if !errors.As(err, &de) || de.named < 1 || de.named > len(raw) || len(raw) < 2 {
		return err
	}
	first := de
	keep := make([]int, len(raw)) // the original indexes of what is sent
	for i := range keep {
		keep[i] = i
	}
	var rejected []int
	sub := make([][]byte, 0, len(raw))
	for {
		i := de.named - 1
		rejected = append(rejected, keep[i])
		keep = slices.Delete(keep, i, i+1)
		if len(keep) == 0 {
			first.Rejected = nil // every event: the whole batch
			return first
		}
		sub = sub[:0]
		for _, i := range keep {
			sub = append(sub, raw[i])
		}
		id += "-x" + strconv.Itoa(rejected[len(rejected)-1])
		err = post(ctx, cfg, red, wire.AppendBatch(nil, id, sub))
		if err == nil {
			slices.Sort(rejected)
			first.Rejected, first.Permanent = rejected, false
			return first
		}
		if !errors.As(err, &de) || de.named < 1 || de.named > len(keep) {
			return err // the whole batch again, later
		}
	}
}

// post POSTs one batch body and says how it went: nil for a 2xx, else a
// *DeliveryError (a redirect is a failed attempt, never a delivery; 4xx
// other than 408 and 429 are permanent) that never shows the API key.
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
	if resp.StatusCode == http.StatusBadRequest {
		var named struct {
			Index *int `json:"index"`
		}
		if json.Unmarshal(head, &named) == nil && named.Index != nil && *named.Index >= 0 {
			de.named = *named.Index + 1
		}
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
