package cdc

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dotdo/events/runtime/changelog"
)

// Bounds of the hub's tail: the newest changes it keeps in memory for
// watchers. A watcher further behind reads the log itself.
const (
	tailChanges = 4096
	tailBytes   = 8 << 20
	// refreshRows is the most rows one refresh reads; a bigger commit is
	// read in steps.
	refreshRows = 1024
)

// hub wakes the store's watchers when it commits, and keeps the newest
// changes in memory so that any number of watchers of one store read the
// log once per commit, not once each.
type hub struct {
	mu     sync.Mutex
	wake   chan struct{} // closed at the next commit or at Close; nil while nobody waits
	dirty  bool          // something committed since the tail was last read
	closed bool

	readMu sync.Mutex  // one refresh at a time; guards what follows
	last   int64       // the newest row read; -1: none yet
	from   int64       // the tail holds every change numbered from+1 to last
	tail   []tailEntry // those changes, in bookmark order
	bytes  int
}

type tailEntry struct {
	seq int64
	c   RawChange
}

func newHub() *hub { return &hub{last: -1} }

// notify tells watchers that the store committed.
func (h *hub) notify() {
	h.mu.Lock()
	h.dirty = true
	if h.wake != nil {
		close(h.wake)
		h.wake = nil
	}
	h.mu.Unlock()
}

// close wakes every watcher for good.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	if h.wake != nil {
		close(h.wake)
		h.wake = nil
	}
	h.mu.Unlock()
}

// waiter returns a channel closed at the next commit or Close; closed
// reports that the store is closed already. Take it before reading, so a
// commit between the read and the wait is not missed.
func (h *hub) waiter() (wake <-chan struct{}, closed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, true
	}
	if h.wake == nil {
		h.wake = make(chan struct{})
	}
	return h.wake, false
}

// next returns at most limit changes after the change numbered after: from
// the tail when it reaches back that far, else from the log (which fails
// with ErrPruned below what is kept). Every change returned is the
// caller's: its bytes are copies.
func (h *hub) next(ctx context.Context, q queryer, after int64, limit int) ([]RawChange, error) {
	h.readMu.Lock()
	defer h.readMu.Unlock()
	h.mu.Lock()
	dirty := h.dirty
	h.dirty = false
	h.mu.Unlock()
	if dirty || h.last < 0 {
		if err := h.refresh(ctx, q); err != nil {
			h.mu.Lock()
			h.dirty = true
			h.mu.Unlock()
			return nil, err
		}
	}
	if after < h.from {
		return retainedChanges(ctx, q, "", changelog.BookmarkFromSeq(after), limit)
	}
	i, _ := slices.BinarySearchFunc(h.tail, after+1, func(e tailEntry, seq int64) int {
		return cmpInt(e.seq, seq)
	})
	n := min(len(h.tail)-i, limit)
	if n <= 0 {
		return nil, nil
	}
	out := make([]RawChange, n)
	for j := range out {
		c := h.tail[i+j].c
		c.Doc = cloneRaw(c.Doc)
		c.Prev = cloneRaw(c.Prev)
		out[j] = c
	}
	return out, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cloneRaw(r json.RawMessage) json.RawMessage {
	if r == nil {
		return nil
	}
	return append(json.RawMessage(nil), r...)
}

// refresh reads what was committed after the tail's end into it (readMu
// held). A first refresh starts the tail at the log's end.
func (h *hub) refresh(ctx context.Context, q queryer) error {
	if h.last < 0 {
		var newest int64
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM cdc_changes`).Scan(&newest); err != nil {
			return fmt.Errorf("cdc: watch: %w", err)
		}
		h.last, h.from = newest, newest
		return nil
	}
	for {
		n, err := h.readAfter(ctx, q)
		if err != nil {
			return err
		}
		if n < refreshRows {
			return nil
		}
	}
}

// readAfter appends up to refreshRows rows after last to the tail, marks
// included (they move last, they are no changes), and trims it.
func (h *hub) readAfter(ctx context.Context, q queryer) (int, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+changeColumns+` FROM cdc_changes WHERE seq > ? ORDER BY seq LIMIT ?`, h.last, refreshRows)
	if err != nil {
		return 0, fmt.Errorf("cdc: watch: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			c        RawChange
			seq, ts  int64
			op       string
			doc, prv []byte
		)
		if err := rows.Scan(&seq, &ts, &c.Collection, &c.DocID, &op, &doc, &prv); err != nil {
			return n, fmt.Errorf("cdc: watch: %w", err)
		}
		n++
		h.last = seq
		if op == opMark {
			continue
		}
		c.Op = Op(op)
		c.Bookmark = changelog.BookmarkFromSeq(seq)
		c.TS = time.UnixMilli(ts).UTC()
		if doc != nil {
			c.Doc = json.RawMessage(doc)
		}
		if prv != nil {
			c.Prev = json.RawMessage(prv)
		}
		h.tail = append(h.tail, tailEntry{seq: seq, c: c})
		h.bytes += len(doc) + len(prv) + len(c.DocID) + 64
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("cdc: watch: %w", err)
	}
	drop := 0
	for drop < len(h.tail) && (len(h.tail)-drop > tailChanges || h.bytes > tailBytes) {
		e := h.tail[drop]
		h.bytes -= len(e.c.Doc) + len(e.c.Prev) + len(e.c.DocID) + 64
		h.from = e.seq
		drop++
	}
	if drop > 0 {
		h.tail = slices.Delete(h.tail, 0, drop)
	}
	if len(h.tail) == 0 {
		h.from = h.last
	}
	return n, nil
}
