package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
)

// eventsRoot is the lake folder of every events object (lake.HourPrefix).
const eventsRoot = "events/"

// lakeScan reads a store's change events from the lake into a chain, one
// UTC hour folder at a time from start on (only the objects of this store:
// their names start with SanitizeID(id) and '_'), or, without a start,
// every events object of the store in one listing of the whole lake.
type lakeScan struct {
	bucket lake.Bucket
	id     string
	sid    string    // lake.SanitizeID(id)
	next   time.Time // the next hour to read; zero: list the whole lake
	end    time.Time // the last hour to read
	done   bool
	events int // change events read into the chain
}

func newLakeScan(b lake.Bucket, id string, start, end time.Time) *lakeScan {
	s := &lakeScan{bucket: b, id: id, sid: lake.SanitizeID(id), end: end.UTC().Truncate(time.Hour)}
	if !start.IsZero() {
		s.next = start.UTC().Truncate(time.Hour)
	}
	return s
}

// more reports whether step has anything left to read.
func (s *lakeScan) more() bool { return !s.done }

// step reads the next hour (or the whole lake) into c.
func (s *lakeScan) step(ctx context.Context, c *chain) error {
	if s.done {
		return nil
	}
	var keys []string
	if s.next.IsZero() {
		s.done = true
		var err error
		if keys, err = s.listAll(ctx); err != nil {
			return err
		}
	} else {
		objs, err := lake.ListAll(ctx, s.bucket, lake.HourPrefix(s.next)+s.sid+"_")
		if err != nil {
			return fmt.Errorf("snapshot: list the lake: %w", err)
		}
		for _, o := range objs {
			keys = append(keys, o.Key)
		}
		s.next = s.next.Add(time.Hour)
		s.done = s.next.After(s.end)
	}
	for _, k := range keys {
		if err := s.read(ctx, k, c); err != nil {
			return err
		}
	}
	return nil
}

// listAll lists every events object of the store, a page at a time.
func (s *lakeScan) listAll(ctx context.Context) ([]string, error) {
	var keys []string
	opts := lake.ListOptions{}
	for {
		page, err := s.bucket.List(ctx, eventsRoot, opts)
		if err != nil {
			return nil, fmt.Errorf("snapshot: list the lake: %w", err)
		}
		for _, o := range page.Objects {
			name := o.Key[strings.LastIndexByte(o.Key, '/')+1:]
			if strings.HasPrefix(name, s.sid+"_") {
				keys = append(keys, o.Key)
			}
		}
		if !page.More || len(page.Objects) == 0 {
			return keys, nil
		}
		opts.StartAfter = page.Objects[len(page.Objects)-1].Key
	}
}

// lakeEvent is what a restore needs of an event line.
type lakeEvent struct {
	Type       string          `json:"type"`
	TS         string          `json:"ts"`
	DO         events.Identity `json:"do"`
	Collection string          `json:"collection"`
	DocID      string          `json:"docId"`
	Doc        json.RawMessage `json:"doc"`
	Bookmark   string          `json:"bookmark"`
}

// read adds the change events of this store in object key to c.
func (s *lakeScan) read(ctx context.Context, key string, c *chain) error {
	obj, err := s.bucket.Get(ctx, key)
	if err != nil {
		if errors.Is(err, lake.ErrNotFound) {
			return nil // deleted since the listing: what it held is a gap, if needed
		}
		return fmt.Errorf("snapshot: read %s: %w", quote(key), err)
	}
	defer obj.Body.Close()
	r := bufio.NewReaderSize(obj.Body, 64<<10)
	for line := 1; ; line++ {
		text, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(text)) > 0 {
			ch, err := s.parse(text)
			if err != nil {
				return fmt.Errorf("%w: %s line %d: %v", ErrCorrupt, quote(key), line, err)
			}
			if ch != nil {
				s.events++
				if err := c.add(ch, key); err != nil {
					return err
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("snapshot: read %s: %w", quote(key), err)
		}
	}
}

// parse returns the change an event line holds, or nil for an event that
// is not a change of this store (another store's, or not a CDC event, or a
// change event without a bookmark, as emitted by hand).
func (s *lakeScan) parse(line []byte) (*change, error) {
	var ev lakeEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		return nil, err
	}
	op, ok := strings.CutPrefix(ev.Type, "collection.")
	if !ok || ev.DO.ID != s.id || ev.Bookmark == "" {
		return nil, nil
	}
	seq, err := cdc.Bookmark(ev.Bookmark).Seq()
	if err != nil {
		return nil, err
	}
	ts, err := wire.ParseTime(ev.TS)
	if err != nil {
		return nil, err
	}
	ch := &change{seq: seq, ts: ts, op: cdc.Op(op), coll: ev.Collection, id: ev.DocID}
	if err := cdc.ValidateCollection(ch.coll); err != nil {
		return nil, err
	}
	if err := cdc.ValidateID(ch.id); err != nil {
		return nil, err
	}
	switch ch.op {
	case cdc.OpInsert, cdc.OpUpdate:
		if len(ev.Doc) == 0 {
			return nil, fmt.Errorf("%s of %s/%s has no doc", ev.Type, ch.coll, quote(ch.id))
		}
		ch.doc = ev.Doc
	case cdc.OpDelete:
	default:
		return nil, fmt.Errorf("unknown event type %q", ev.Type)
	}
	return ch, nil
}
