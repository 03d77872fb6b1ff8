package emitter

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/cdc"
)

// item is one event of a batch: its JSON is buf[off:end].
type item struct {
	seq      uint64
	tsMs     int64
	off, end int
	bookmark cdc.Bookmark // a change's (its id and type are derived)
	id       string       // a re-queued event's own id
	typ      string       // a change's type; found in the JSON for custom events
}

// batch is the next events of one source for one sink. Each sink reuses its
// own, so steady delivery allocates little.
type batch struct {
	src        source
	fromOutbox bool
	full       bool // as many events as allowed, or bytes: more may wait
	capped     bool // stopped by the byte cap
	buf        []byte
	items      []item
	raw        [][]byte                 // each event's JSON, in buf
	pub        Batch                    // what Send gets
	body       []byte                   // the HTTP sink's request body
	evs        []lakewrite.EncodedEvent // the lake sink's events
}

func (b *batch) reset(src source) {
	b.src, b.fromOutbox, b.full, b.capped = src, false, false, false
	b.buf, b.items = b.buf[:0], b.items[:0]
}

// add copies one encoded event into the batch.
func (b *batch) add(seq uint64, tsMs int64, json []byte) {
	off := len(b.buf)
	b.buf = append(b.buf, json...)
	b.items = append(b.items, item{seq: seq, tsMs: tsMs, off: off, end: len(b.buf)})
}

// batchOverhead is what a batch body adds to its events' JSON, beside a
// comma each: {"events":[...],"batchId":"..."}.
const batchOverhead = 128

// fits reports whether an event of n bytes may join the batch under a cap
// of max bytes; the first always does (alone, it is what it is). A refusal
// marks the batch capped.
func (b *batch) fits(n, max int) bool {
	if b.len() == 0 || len(b.buf)+b.len()+n+1+batchOverhead <= max {
		return true
	}
	b.capped = true
	return false
}

// capBytes drops the events beyond a cap of max bytes.
func (b *batch) capBytes(max int) {
	for i, it := range b.items {
		if i > 0 && it.end+i+1+batchOverhead > max {
			b.items, b.buf, b.capped = b.items[:i], b.buf[:it.off], true
			return
		}
	}
}

// finish builds the per-event views, once buf stopped growing. With
// events, it also fills pub.Events (what user sinks read).
func (b *batch) finish(storeID, doID string, events bool) {
	b.raw = b.raw[:0]
	for _, it := range b.items {
		b.raw = append(b.raw, b.buf[it.off:it.end:it.end])
	}
	b.pub = Batch{ID: b.id(storeID), Events: b.pub.Events[:0]}
	if !events {
		return
	}
	kind := b.src.kind()
	// One string holds every id of the batch.
	var ids []byte
	offs := make([]int, 0, len(b.items)+1)
	offs = append(offs, 0)
	for _, it := range b.items {
		ids = appendEventID(ids, storeID, kind, it.seq)
		offs = append(offs, len(ids))
	}
	all := string(ids)
	for i, it := range b.items {
		typ, id := it.typ, it.id
		if typ == "" {
			typ = jsonType(b.raw[i])
		}
		if id == "" {
			id = all[offs[i]:offs[i+1]]
		}
		b.pub.Events = append(b.pub.Events, BatchEvent{Store: doID, ID: id, Type: typ,
			TS: time.UnixMilli(it.tsMs).UTC(), Bookmark: it.bookmark, JSON: b.raw[i]})
	}
}

// jsonType returns the "type" of an encoded event.
func jsonType(js []byte) string {
	const head = `{"type":"`
	if bytes.HasPrefix(js, []byte(head)) {
		rest := js[len(head):]
		if i := bytes.IndexByte(rest, '"'); i >= 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			return string(rest[:i])
		}
	}
	var v struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(js, &v)
	return v.Type
}

// kind is the letter of src in event and batch ids.
func (src source) kind() byte {
	switch src {
	case srcCDC:
		return 'c'
	case srcRedrive:
		return 'r'
	case srcTx:
		return 't'
	}
	return 'e'
}

func (b *batch) len() int      { return len(b.items) }
func (b *batch) first() uint64 { return b.items[0].seq }
func (b *batch) last() uint64  { return b.items[len(b.items)-1].seq }

// id returns the batch's batchId, "{storeID}-{kind}{first}-{last}": the same
// for a re-send of the same events.
func (b *batch) id(storeID string) string {
	kind := b.src.kind()
	dst := appendEventID(make([]byte, 0, len(storeID)+48), storeID, kind, b.first())
	dst = append(dst, '-')
	return string(strconv.AppendUint(dst, b.last(), 10))
}
