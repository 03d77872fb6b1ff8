package lake

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/internal/lakeparquet"
	"github.com/dotdo/events/internal/wire"
)

// Selection says which events Events reads.
type Selection struct {
	// Store, when set, selects the events of one store: those whose do.id
	// is Store. It must be a valid store id (events.ValidateStoreID).
	Store string
	// From and To, when set, select the UTC hours of the events' own time
	// from From's hour to To's hour, both included. A zero From reads from
	// the lake's first hour, a zero To up to its last.
	From, To time.Time
}

// Event is one event read back from the lake.
type Event struct {
	// Key is the object that holds the event, Line its line there (from 1);
	// in a compacted (Parquet) object, Line is the row's number, except for
	// an event without an id: then Key and Line say where it was first
	// stored, so that (Key, Line) counts it once across compaction as ID
	// does the others (an event may be in two objects: DESIGN rule 1).
	Key  string
	Line int
	// ID is the event's id ("" for an event written without one, as the
	// upstream library's).
	ID string
	// Type is the event's type, Store its do.id, TS its own time.
	Type  string
	Store string
	TS    time.Time
	// JSON is the event as stored: one JSON object.
	JSON []byte
}

// maxPerHour is the longest range of one store's events read with
// listings per hour folder; a longer one (or one without a store) is read
// with a single listing from its first day, which skips empty hours.
const maxPerHour = 92 * 24 * time.Hour

// maxRawPrefix is the longest upstream name prefix ("{id}_") listed as a
// prefix; the objects of a store with a longer id are found by listing
// their whole hour folders.
const maxRawPrefix = 200

// Events returns the events of the lake in b that sel selects, object by
// object in key order (hour folders in time order) and line by line.
//
// The lake is events/{yyyy}/{mm}/{dd}/{hh}/ folders of JSON Lines objects
// (the README's "lake format"): a store's events are in the objects named
// after it (this module's percent-encoded names and the upstream library's
// raw {id}_{ms}.jsonl) and in objects whose name starts with '_', which may
// hold many stores' events. With a Store, Events reads only those objects,
// and yields only the events whose do.id is Store; with From it lists each
// selected hour folder on its own (three short listings per hour), without
// it the whole lake once. An object deleted after it was listed is skipped.
// Other keys under events/ are ignored.
//
// Objects are containers: a retried or re-formed batch may leave one event
// in two objects, so a reader counts each event id once (events that the
// upstream library wrote without an id count once per line). Objects whose
// name starts with '_' may hold many stores' events and are read in full.
//
// A bad Selection yields one error matching ErrInvalidOptions (or
// events.ErrInvalidStoreID); a line that is not a JSON object with a type
// and a time yields an error matching ErrCorrupt that names the object and
// line (with a Store, lines that cannot hold its id are skipped undecoded); a failing Bucket yields its error. The sequence ends after an error.
func Events(ctx context.Context, b Bucket, sel Selection) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if err := sel.check(b); err != nil {
			yield(Event{}, err)
			return
		}
		for o, err := range objects(ctx, b, sel) {
			if err != nil {
				yield(Event{}, err)
				return
			}
			if !readObject(ctx, b, o.Key, sel, yield) {
				return
			}
		}
	}
}

// check validates sel.
func (sel Selection) check(b Bucket) error {
	switch {
	case b == nil:
		return fmt.Errorf("%w: events: nil bucket", ErrInvalidOptions)
	case !sel.From.IsZero() && !sel.To.IsZero() && sel.To.Before(sel.From.Truncate(time.Hour)):
		return fmt.Errorf("%w: events: To %s is before From %s", ErrInvalidOptions, sel.To.UTC().Format(time.RFC3339), sel.From.UTC().Format(time.RFC3339))
	case sel.Store != "":
		if err := events.ValidateStoreID(sel.Store); err != nil {
			return fmt.Errorf("%w: events: %w", ErrInvalidOptions, err)
		}
	}
	return nil
}

// objects yields the events objects that may hold events sel selects, in
// key order.
func objects(ctx context.Context, b Bucket, sel Selection) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		var last time.Time
		if !sel.To.IsZero() {
			last = sel.To.UTC().Truncate(time.Hour)
		}
		first := sel.From.UTC().Truncate(time.Hour)
		names := sel.namePrefixes()
		perHour := sel.Store != "" && !sel.From.IsZero() && !last.IsZero() && last.Sub(first) <= maxPerHour
		if !perHour {
			// One listing from the first selected day on.
			start := ""
			if !sel.From.IsZero() {
				start = strings.TrimSuffix(lakeformat.DayPrefix(sel.From), "/")
			}
			for o, err := range listFrom(ctx, b, lakeformat.Root, start) {
				if err != nil {
					yield(ObjectInfo{}, err)
					return
				}
				hour, name, day, ok := lakeformat.Parse(o.Key)
				if !ok || !mayHold(name, names) || !sel.From.IsZero() && !day && hour.Before(first) {
					continue
				}
				if !last.IsZero() && hour.After(last) {
					return
				}
				if !yield(o, nil) {
					return
				}
			}
			return
		}
		for h := first; !h.After(last); h = h.Add(time.Hour) {
			objs, err := hourObjects(ctx, b, h, names, h.Equal(first) || h.Hour() == 0)
			if err != nil {
				yield(ObjectInfo{}, err)
				return
			}
			for _, o := range objs {
				if !yield(o, nil) {
					return
				}
			}
		}
	}
}

// hourObjects lists the objects of hour h that may hold the events of the
// store whose name prefixes are names (nil: every store), and with withDay
// the day-level objects of h's day first.
func hourObjects(ctx context.Context, b Bucket, h time.Time, names []string, withDay bool) ([]ObjectInfo, error) {
	var prefixes []string
	if withDay {
		prefixes = append(prefixes, lakeformat.DayPrefix(h)+lakeformat.MultiPrefix)
	}
	switch {
	case names == nil || len(names[len(names)-2]) > maxRawPrefix:
		prefixes = append(prefixes, lakeformat.HourPrefix(h))
	default:
		for _, p := range names {
			prefixes = append(prefixes, lakeformat.HourPrefix(h)+p)
		}
	}
	var out []ObjectInfo
	for i, p := range prefixes {
		objs, err := ListAll(ctx, b, p)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			_, name, day, ok := lakeformat.Parse(o.Key)
			if ok && day == (withDay && i == 0) && mayHold(name, names) {
				out = append(out, o)
			}
		}
	}
	// The name prefixes of one store may overlap (a raw id with '_').
	slices.SortFunc(out, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return slices.CompactFunc(out, func(a, b ObjectInfo) bool { return a.Key == b.Key }), nil
}

// namePrefixes returns the name prefixes of sel's store's objects
// (lakeformat.NamePrefixes), nil when sel takes every store.
func (sel Selection) namePrefixes() []string {
	if sel.Store == "" {
		return nil
	}
	return lakeformat.NamePrefixes(sel.Store)
}

// mayHold reports whether the object named name may hold the events of the
// store whose name prefixes are names (nil: every store).
func mayHold(name string, names []string) bool {
	return names == nil || lakeformat.HasNamePrefix(name, names)
}

// listFrom yields every object under prefix after startAfter, page by page.
func listFrom(ctx context.Context, b Bucket, prefix, startAfter string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		opts := ListOptions{StartAfter: startAfter}
		for {
			page, err := b.List(ctx, prefix, opts)
			if err != nil {
				yield(ObjectInfo{}, err)
				return
			}
			for _, o := range page.Objects {
				if opts.StartAfter != "" && o.Key <= opts.StartAfter {
					yield(ObjectInfo{}, fmt.Errorf("lake: list %q: key %q is not after %q: listing out of order", prefix, o.Key, opts.StartAfter))
					return
				}
				opts.StartAfter = o.Key
				if !yield(o, nil) {
					return
				}
			}
			if !page.More {
				return
			}
			if len(page.Objects) == 0 {
				yield(ObjectInfo{}, fmt.Errorf("lake: list %q: empty page marked as having more", prefix))
				return
			}
		}
	}
}

// readObject yields the events of store (all when "") in the object at key;
// false when the sequence must end.
func readObject(ctx context.Context, b Bucket, key string, sel Selection, yield func(Event, error) bool) bool {
	store := sel.Store
	obj, err := b.Get(ctx, key)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return true // deleted since the listing
		}
		return yield(Event{}, err)
	}
	defer obj.Body.Close()
	if strings.HasSuffix(key, lakeformat.Parquet) {
		return readParquet(obj.Body, key, sel, yield)
	}
	r := bufio.NewReaderSize(obj.Body, 64<<10)
	for line := 1; ; line++ {
		text, rerr := r.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return yield(Event{}, fmt.Errorf("lake: events: read %s: %w", quoteKey(key), rerr))
		}
		if text = bytes.TrimSpace(text); len(text) > 0 && (store == "" || mayBeOf(text, store)) {
			h, err := wire.ParseHead(text)
			if err == nil && h.Type == "" {
				err = errors.New("no type")
			}
			if err != nil {
				return yield(Event{}, fmt.Errorf("%w: %s line %d: %v", ErrCorrupt, quoteKey(key), line, err))
			}
			if store == "" || h.Store == store {
				ev := Event{Key: key, Line: line, ID: h.ID, Type: h.Type, Store: h.Store, TS: h.TS, JSON: bytes.Clone(text)}
				if !yield(ev, nil) {
					return false
				}
			}
		}
		if rerr != nil {
			return true
		}
		if err := ctx.Err(); err != nil {
			return yield(Event{}, err)
		}
	}
}

// readParquet yields the events of sel in a compacted object: those of
// sel.Store (all when "") whose hour is in sel's range (a day-level object
// holds a whole day). Event.Line is the row's number in the object, from 1;
// Event.JSON is the event re-encoded (lakeparquet.Row.AppendJSON).
func readParquet(body io.Reader, key string, sel Selection, yield func(Event, error) bool) bool {
	data, err := io.ReadAll(body)
	if err != nil {
		return yield(Event{}, fmt.Errorf("lake: events: read %s: %w", quoteKey(key), err))
	}
	var keep func(mn, mx string, hasNull bool) bool
	if sel.Store != "" {
		keep = func(mn, mx string, hasNull bool) bool { return hasNull || mn <= sel.Store && sel.Store <= mx }
	}
	rows, err := lakeparquet.Read(data, keep)
	if err != nil {
		return yield(Event{}, fmt.Errorf("%w: %s: %v", ErrCorrupt, quoteKey(key), err))
	}
	first, last := sel.From.UTC().Truncate(time.Hour), sel.To.UTC().Truncate(time.Hour)
	for i := range rows {
		r := &rows[i]
		ev := Event{Key: key, Line: i + 1, Type: r.Type, TS: r.Time(), JSON: r.AppendJSON(nil)}
		if r.ID != nil {
			ev.ID = *r.ID
		} else if r.Src != nil && r.Line != nil {
			// Where it was first stored: the key callers count it once by.
			ev.Key, ev.Line = lakeformat.Root+*r.Src, int(*r.Line)
		}
		if r.DOID != nil {
			ev.Store = *r.DOID
		} else if r.Odd {
			h, _ := wire.ParseHead(ev.JSON) // the store, if its JSON has one
			ev.Store = h.Store
		}
		h := ev.TS.Truncate(time.Hour)
		if sel.Store != "" && ev.Store != sel.Store || !sel.From.IsZero() && h.Before(first) || !sel.To.IsZero() && h.After(last) {
			continue
		}
		if !yield(ev, nil) {
			return false
		}
	}
	return true
}
