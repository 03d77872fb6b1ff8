package emitter

import (
	"sort"
	"strconv"
)

// memEvent is a custom event waiting in memory.
type memEvent struct {
	seq  uint64
	tsMs int64
	js   []byte // its JSON, in one of the queue's chunks
}

// chunkSize is the size of the blocks encoded events are appended to. Fixed
// blocks (rather than one growing buffer) mean a burst never copies what is
// already queued, and delivered blocks go back to the garbage collector.
const chunkSize = 64 << 10

// chunkSlack is the room an event is expected to need: with less left, the
// next event starts a new chunk instead of overflowing this one.
const chunkSlack = 2 << 10

// maxSpareChunks is how many emptied chunks are kept for reuse (4 MB).
const maxSpareChunks = 64

// maxIdleMem is the most memEvent slots kept once the queue empties.
const maxIdleMem = 64 << 10

// compactMin is the fewest released events worth moving the rest down for.
const compactMin = 1024

// memQueue is the in-memory queue of encoded custom events, in sequence
// order: their JSON lives in fixed-size chunks that are reused once every
// event in them is released, so steady emission allocates nothing. It is
// not safe for concurrent use (the emitter guards it with its mutex), and
// no slice of it leaves the emitter: batches copy what they take.
type memQueue struct {
	evs       []memEvent    // from head on: the events waiting
	head      int           // evs[:head] are released (compacted lazily)
	chunk     []byte        // where the next event's JSON is appended
	chunkLast uint64        // seq of the last event in chunk
	filled    []filledChunk // earlier chunks that events may still point into
	spare     [][]byte      // emptied chunks, for reuse
}

// filledChunk is a full chunk and the seq of its last event: once every
// event up to that seq is released, nothing points into it any more.
type filledChunk struct {
	buf  []byte
	last uint64
}

// live returns the events waiting.
func (q *memQueue) live() []memEvent { return q.evs[q.head:] }

// len returns the number of events waiting.
func (q *memQueue) len() int { return len(q.evs) - q.head }

// after returns the waiting events with a seq above seq.
func (q *memQueue) after(seq uint64) []memEvent {
	live := q.live()
	return live[sort.Search(len(live), func(i int) bool { return live[i].seq > seq }):]
}

// buf returns where the next event is to be appended: a chunk with room,
// and the offset the event starts at. Pass what the encoder returned to push.
func (q *memQueue) buf() ([]byte, int) {
	if cap(q.chunk)-len(q.chunk) < chunkSlack {
		q.newChunk()
	}
	return q.chunk, len(q.chunk)
}

// push queues the event encoded at out[start:], where out is what appending
// to buf's chunk returned.
func (q *memQueue) push(seq uint64, tsMs int64, out []byte, start int) {
	var js []byte
	if cap(out) == cap(q.chunk) {
		q.chunk = out
		js = out[start:len(out):len(out)]
	} else {
		// A large event outgrew the chunk: the encoder made a new array.
		// Keep only the event, in a block of its own size.
		js = append(make([]byte, 0, len(out)-start), out[start:]...)
	}
	if len(q.evs) == cap(q.evs) {
		q.grow()
	}
	q.evs = append(q.evs, memEvent{seq: seq, tsMs: tsMs, js: js})
	q.chunkLast = seq
}

// releaseThrough forgets the events with a seq up to seq.
func (q *memQueue) releaseThrough(seq uint64) {
	live := q.live()
	q.drop(sort.Search(len(live), func(i int) bool { return live[i].seq > seq }))
}

// newChunk starts a new chunk, reusing a spare one when it can.
func (q *memQueue) newChunk() {
	if q.chunk != nil {
		q.filled = append(q.filled, filledChunk{buf: q.chunk, last: q.chunkLast})
	}
	if n := len(q.spare); n > 0 {
		q.chunk = q.spare[n-1][:0]
		q.spare[n-1] = nil
		q.spare = q.spare[:n-1]
		return
	}
	q.chunk = make([]byte, 0, chunkSize)
}

// recycle makes the chunks no waiting event points into spare (batches copy
// the events they take, so nothing else does).
func (q *memQueue) recycle() {
	live := q.live()
	if len(live) == 0 {
		q.chunk = q.chunk[:0]
	}
	k := 0
	for k < len(q.filled) && (len(live) == 0 || q.filled[k].last < live[0].seq) {
		if len(q.spare) < maxSpareChunks {
			q.spare = append(q.spare, q.filled[k].buf)
		}
		k++
	}
	n := copy(q.filled, q.filled[k:])
	clear(q.filled[n:])
	q.filled = q.filled[:n]
}

// grow makes room for one more event. Released slots are reused first;
// otherwise the capacity doubles (append grows large slices by only a
// quarter, and as memEvent holds a pointer every copy of a backlog of tens
// of thousands of events is costly, more so while the GC runs). Only the
// waiting events are copied. q.evs is full.
func (q *memQueue) grow() {
	live := q.live()
	if 4*q.head >= len(q.evs) && q.head > 0 {
		m := copy(q.evs, live)
		clear(q.evs[m:])
		q.evs, q.head = q.evs[:m], 0
		return
	}
	evs := make([]memEvent, len(live), max(2*cap(q.evs), 1024))
	copy(evs, live)
	q.evs, q.head = evs, 0
}

// drop releases the first k waiting events. The slice is compacted when the
// queue empties, or once the released part is at least half of it, so the
// cost stays linear in the number of events however they are released.
func (q *memQueue) drop(k int) {
	clear(q.evs[q.head : q.head+k]) // let their chunks go
	q.head += k
	defer q.recycle()
	switch {
	case q.head == len(q.evs):
		q.evs, q.head = q.evs[:0], 0
		if cap(q.evs) > maxIdleMem {
			q.evs = nil // a burst is over: give its memory back
		}
	case q.head >= compactMin && 2*q.head >= len(q.evs):
		m := copy(q.evs, q.evs[q.head:])
		clear(q.evs[m:])
		q.evs, q.head = q.evs[:m], 0
	}
}

// idsPerBlock is how many event ids one idBlock spells.
const idsPerBlock = 1024

// idBlock spells the ids of a run of consecutive custom sequence numbers in
// one string, so Emit hands the encoder a real string of its own (no buffer
// lent across packages) at one allocation per idsPerBlock events.
type idBlock struct {
	first uint64
	s     string
	offs  []int32 // id i is s[offs[i]:offs[i+1]]
	buf   []byte
}

// id returns the id of the custom event with sequence number seq.
func (b *idBlock) id(storeID string, seq uint64) string {
	if b.s == "" || seq < b.first || seq-b.first >= uint64(len(b.offs)-1) {
		b.fill(storeID, seq)
	}
	i := seq - b.first
	return b.s[b.offs[i]:b.offs[i+1]]
}

// fill spells the ids from seq on.
func (b *idBlock) fill(storeID string, seq uint64) {
	b.buf, b.offs = b.buf[:0], append(b.offs[:0], 0)
	for i := range uint64(idsPerBlock) {
		b.buf = appendEventID(b.buf, storeID, 'e', seq+i)
		b.offs = append(b.offs, int32(len(b.buf)))
	}
	b.first, b.s = seq, string(b.buf)
}

// appendEventID appends the event id "{storeID}-{kind}{seq}": kind 'c' for a
// change (seq: its bookmark's number), 'e' for a custom event.
func appendEventID(dst []byte, storeID string, kind byte, seq uint64) []byte {
	dst = append(dst, storeID...)
	dst = append(dst, '-', kind)
	return strconv.AppendUint(dst, seq, 10)
}
