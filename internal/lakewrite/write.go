// Package lakewrite writes events to the lake in the layout of package
// internal/lakeformat. Only this module's sinks call it (the emitter's lake
// sink, later a fleet and the ingest); users read the lake with package
// runtime/lake and query it with runtime/query.
package lakewrite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/lake"
)

// maxMetaValue is the longest metadata value WriteEvents stores; longer ones
// (a very long store name) are cut, so a batch never fails on its metadata.
const maxMetaValue = 256

// EncodedEvent is one event already encoded as JSON by the events package
// (no trailing newline), with what decides where it is stored.
type EncodedEvent struct {
	// TS is the event's own time; its UTC hour decides the object.
	TS time.Time
	// Seq is the event's sequence number (e.g. its outbox position).
	Seq uint64
	// JSON is the encoded event, one JSON object without raw newlines.
	JSON []byte
}

// Written describes one object written by WriteEvents.
type Written struct {
	// Key is the object's key.
	Key string
	// Count is the number of events in it.
	Count int
	// FirstSeq and LastSeq are the Seq of its first and last event.
	FirstSeq, LastSeq uint64
}

// WriteEvents writes a batch to the lake, split by the UTC hour of each
// event's own TS (events keep their order within each hour object), one JSON
// Lines object per hour (one event per line, '\n' after each), under
// lakeformat.StoreKey(hour, id.ID, first event's ms in that part, first Seq
// in that part, Sum of the body): retrying the same batch writes the same
// bytes under the same keys, and a batch re-formed with other events gets
// other keys, so an abandoned upload that a server carries out late never
// replaces newer events. Objects have content type ContentTypeJSONL and the
// metadata doId, doName, doColo (as upstream: always, "" when unknown;
// values cut to 256 bytes) and eventCount.
//
// It returns what it wrote, in hour order. It checks the whole batch first
// (an identity with an id; every event with a time between 1970 and 9999 and
// one JSON object without raw newlines: errors match
// events.ErrInvalidEvent) and then stops at the first error; parts already
// written are harmless, as a retry overwrites them. An empty batch writes
// nothing.
func WriteEvents(ctx context.Context, b lake.Bucket, id events.Identity, evs []EncodedEvent) ([]Written, error) {
	if id.ID == "" {
		return nil, fmt.Errorf("%w: lake: the identity has no id", events.ErrInvalidEvent)
	}
	for i, ev := range evs {
		if err := checkEncoded(ev); err != nil {
			return nil, fmt.Errorf("%w: lake: event %d (seq %d): %s", events.ErrInvalidEvent, i, ev.Seq, err)
		}
	}
	parts := splitByHour(evs)
	written := make([]Written, 0, len(parts))
	var body bytes.Buffer
	for _, p := range parts {
		body.Reset()
		for _, ev := range p.events {
			body.Write(ev.JSON)
			body.WriteByte('\n')
		}
		first, last := p.events[0], p.events[len(p.events)-1]
		w := Written{
			Key:      lakeformat.StoreKey(p.hour, id.ID, first.TS.UnixMilli(), first.Seq, lakeformat.Sum(body.Bytes())),
			Count:    len(p.events),
			FirstSeq: first.Seq,
			LastSeq:  last.Seq,
		}
		opts := lake.PutOptions{ContentType: lakeformat.ContentTypeJSONL, Metadata: eventsMetadata(id, len(p.events))}
		if err := b.Put(ctx, w.Key, bytes.NewReader(body.Bytes()), opts); err != nil {
			return written, fmt.Errorf("lake: write %d events to %s: %w", w.Count, w.Key, err)
		}
		written = append(written, w)
	}
	return written, nil
}

// hourPart is the events of one UTC hour, in batch order.
type hourPart struct {
	hour   time.Time
	events []EncodedEvent
}

// splitByHour groups events by UTC hour, keeping their order, hours ascending.
func splitByHour(evs []EncodedEvent) []hourPart {
	index := make(map[int64]int)
	var parts []hourPart
	for _, ev := range evs {
		h := ev.TS.UTC().Truncate(time.Hour)
		i, ok := index[h.Unix()]
		if !ok {
			i = len(parts)
			index[h.Unix()] = i
			parts = append(parts, hourPart{hour: h})
		}
		parts[i].events = append(parts[i].events, ev)
	}
	slices.SortFunc(parts, func(a, b hourPart) int { return a.hour.Compare(b.hour) })
	return parts
}

// checkEncoded says what is wrong with ev, or nil.
func checkEncoded(ev EncodedEvent) error {
	switch {
	case ev.TS.IsZero():
		return fmt.Errorf("no time")
	case ev.TS.UTC().Year() < 1970 || ev.TS.UTC().Year() > 9999:
		return fmt.Errorf("time %s is outside years 1970-9999", ev.TS.UTC().Format(time.RFC3339))
	case len(ev.JSON) == 0:
		return fmt.Errorf("empty JSON")
	case bytes.ContainsAny(ev.JSON, "\r\n"):
		return fmt.Errorf("JSON contains a raw newline")
	case !json.Valid(ev.JSON):
		return fmt.Errorf("invalid JSON")
	case bytes.TrimLeft(ev.JSON, " \t")[0] != '{':
		return fmt.Errorf("JSON is not an object")
	}
	return nil
}

// eventsMetadata is the metadata of an events object.
func eventsMetadata(id events.Identity, count int) map[string]string {
	return map[string]string{
		lakeformat.MetaDOID:       truncateUTF8(id.ID, maxMetaValue),
		lakeformat.MetaDOName:     truncateUTF8(id.Name, maxMetaValue),
		lakeformat.MetaDOColo:     truncateUTF8(id.Colo, maxMetaValue),
		lakeformat.MetaEventCount: strconv.Itoa(count),
	}
}

// truncateUTF8 cuts s to at most n bytes without splitting a character,
// replacing invalid UTF-8 first.
func truncateUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
