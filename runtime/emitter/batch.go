package emitter

import (
	"strconv"
	"time"

	"github.com/dotdo/events/internal/lakewrite"
)

// customLakeSeq offsets custom sequence numbers in lake keys so they never
// meet a change's (bookmark) number: still 20 digits, still unique per store.
const customLakeSeq uint64 = 10_000_000_000_000_000_000

// item is one event of a batch: its JSON is buf[off:end].
type item struct {
	seq      uint64
	tsMs     int64
	off, end int
}

// batch is the next events of one source for one sink. Each sink reuses its
// own, so steady delivery allocates little.
type batch struct {
	src        source
	fromOutbox bool
	buf        []byte
	items      []item
	evs        []lakewrite.EncodedEvent
	raw        [][]byte
	body       []byte
}

func (b *batch) reset(src source) {
	b.src, b.fromOutbox = src, false
	b.buf, b.items = b.buf[:0], b.items[:0]
}

// add copies one encoded event into the batch.
func (b *batch) add(seq uint64, tsMs int64, json []byte) {
	off := len(b.buf)
	b.buf = append(b.buf, json...)
	b.items = append(b.items, item{seq: seq, tsMs: tsMs, off: off, end: len(b.buf)})
}

// finish builds the per-event views the sinks need, once buf stopped growing.
func (b *batch) finish() {
	b.evs, b.raw = b.evs[:0], b.raw[:0]
	for _, it := range b.items {
		js := b.buf[it.off:it.end:it.end]
		seq := it.seq
		if b.src == srcCustom {
			seq += customLakeSeq
		}
		b.evs = append(b.evs, lakewrite.EncodedEvent{TS: time.UnixMilli(it.tsMs).UTC(), Seq: seq, JSON: js})
		b.raw = append(b.raw, js)
	}
}

func (b *batch) len() int      { return len(b.items) }
func (b *batch) first() uint64 { return b.items[0].seq }
func (b *batch) last() uint64  { return b.items[len(b.items)-1].seq }

// id returns the batch's batchId, "{storeID}-{kind}{first}-{last}": the same
// for a re-send of the same events.
func (b *batch) id(storeID string) string {
	kind := byte('e')
	if b.src == srcCDC {
		kind = 'c'
	}
	dst := appendEventID(make([]byte, 0, len(storeID)+48), storeID, kind, b.first())
	dst = append(dst, '-')
	return string(strconv.AppendUint(dst, b.last(), 10))
}
