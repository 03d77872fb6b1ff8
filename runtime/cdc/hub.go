package cdc

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

	"github.com/dotdo/events/runtime/changelog"
)

// Bounds of the hub's tail: the newest changes it keeps in memory for
// watchers (up to twice as many between trims). A watcher further behind
// reads the log itself.
const (
	tailChanges = 4096
	tailBytes   = 8 << 20
	// refreshRows is the most rows one read of the log takes; a bigger
	// commit is read in steps.
	refreshRows = 1024
	// minTrim is the fewest changes worth copying the tail to let go of.
	minTrim = 64
)

// hub keeps the newest changes of a store in memory for its watchers. While
// the store has watchers, one goroutine (the refresher) reads what each
// commit added to the log, once for every watcher, and then wakes them all:
// they copy what they need from the tail without touching the database or
// waiting for each other. The tail keeps only what a watcher still needs
// (and at most its bounds); with no watcher left the refresher stops and
// the tail is dropped, so an idle or unwatched store holds nothing.
type hub struct {
	kick chan struct{} // a commit happened (buffered: one pending is enough)
	stop chan struct{} // closed at Close

	mu       sync.Mutex
	updated  chan struct{} // closed at the next publish or at Close; nil while nobody waits
	closed   bool
	watchers map[*watcher]struct{}
	gen      int           // numbers the refresher's runs: only the current one publishes
	quit     chan struct{} // closed to stop the current refresher; nil when none runs
	err      error         // the refresher's failure, which ends every watch
	last     int64         // the newest row read; -1: not known yet
	from     int64         // the tail holds every change numbered from+1 to last
	// tail holds those changes, in bookmark order. Its entries are never
	// changed once published: watchers read a snapshot of it without the
	// lock, appends go past every snapshot's length, and trimming copies.
	tail  []tailEntry
	bytes int
}

// watcher is one watch loop's registration with the hub: what it has
// consumed, so the tail can let go of what every watcher is past.
type watcher struct {
	pos    int64
	decode bool // the loop decodes each change at once: it may share the tail's bytes
}

type tailEntry struct {
	seq int64
	c   RawChange
}

func newHub() *hub {
	return &hub{kick: make(chan struct{}, 1), stop: make(chan struct{}), last: -1, from: -1, watchers: map[*watcher]struct{}{}}
}

// join registers a watch loop, starting the refresher on db if none runs.
// A loop that decodes each change before the next (a collection's) gets
// the tail's bytes; the others get copies they may keep.
func (h *hub) join(db *sql.DB, decode bool) *watcher {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := &watcher{decode: decode}
	h.watchers[w] = struct{}{}
	if h.quit == nil && !h.closed {
		// A new run reads the log's end afresh (a failed run left its tail).
		h.gen++
		h.quit = make(chan struct{})
		h.tail, h.bytes, h.last, h.from, h.err = nil, 0, -1, -1, nil
		go h.run(db, h.gen, h.quit)
	}
	return w
}

// leave ends w's registration; the last one out stops the refresher and
// drops the tail.
func (h *hub) leave(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.watchers, w)
	if len(h.watchers) > 0 || h.quit == nil {
		return
	}
	close(h.quit)
	h.quit = nil
	h.gen++ // what the stopping refresher still publishes is dropped
	h.tail, h.bytes, h.last, h.from, h.err = nil, 0, -1, -1, nil
}

// entrySize is about what a change takes in the tail.
func entrySize(c RawChange) int { return len(c.Doc) + len(c.Prev) + len(c.DocID) + 64 }

// notify tells the refresher that the store committed.
func (h *hub) notify() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// close wakes every watcher for good and stops the refresher.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	close(h.stop)
	if h.updated != nil {
		close(h.updated)
		h.updated = nil
	}
}

// waiter returns a channel closed when the tail next grows (or the store
// closes); closed reports that the store is closed already. Take it before
// reading (next), so that what is published in between is not missed.
func (h *hub) waiter() (wake <-chan struct{}, closed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, true
	}
	if h.updated == nil {
		h.updated = make(chan struct{})
	}
	return h.updated, false
}

// run is the refresher of run gen: it reads the log's end, then what each
// commit adds, until quit (no watcher left) or the store closes.
func (h *hub) run(db *sql.DB, gen int, quit chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-h.stop:
		case <-quit:
		}
		cancel()
	}()
	stmt, err := db.PrepareContext(ctx, `SELECT `+changeColumns+` FROM cdc_changes WHERE seq > ? ORDER BY seq LIMIT ?`)
	if err == nil {
		defer stmt.Close()
		var newest int64
		err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM cdc_changes`).Scan(&newest)
		if err == nil {
			h.publish(gen, nil, newest, newest, 0)
		}
	}
	for err == nil {
		select {
		case <-h.kick:
		case <-h.stop:
			return
		case <-quit:
			return
		}
		err = h.refresh(ctx, gen, stmt)
	}
	if ctx.Err() == nil {
		h.mu.Lock()
		if h.gen == gen {
			// Every watcher ends with the error; the next one starts afresh.
			h.err = fmt.Errorf("cdc: watch: %w", err)
			close(h.quit)
			h.quit = nil
			if h.updated != nil {
				close(h.updated)
				h.updated = nil
			}
		}
		h.mu.Unlock()
	}
}

// refresh reads what was committed after last into the tail, publishing
// each step.
func (h *hub) refresh(ctx context.Context, gen int, stmt *sql.Stmt) error {
	h.mu.Lock()
	last := h.last
	h.mu.Unlock()
	for {
		rows, err := stmt.QueryContext(ctx, last, refreshRows)
		if err != nil {
			return err
		}
		var add []tailEntry
		n, size := 0, 0
		for rows.Next() {
			c, seq, err := scanChange(rows)
			if err != nil {
				rows.Close()
				return err
			}
			n++
			last = seq
			if c.Op == opMark {
				continue // a number, not a change: it only moves last
			}
			add = append(add, tailEntry{seq: seq, c: c})
			size += entrySize(c)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		if n > 0 {
			h.publish(gen, add, last, -1, size)
		}
		if n < refreshRows {
			return nil
		}
	}
}

// publish appends add to the tail, moves last (and from, when from ≥ 0),
// trims the tail and wakes the watchers; a stopped run's publish is
// dropped.
func (h *hub) publish(gen int, add []tailEntry, last, from int64, size int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.gen {
		return
	}
	h.tail = append(h.tail, add...)
	h.bytes += size
	h.last = last
	if from >= 0 {
		h.from = from
	}
	h.trimLocked()
	if len(h.tail) == 0 {
		h.from = h.last
	}
	if h.updated != nil {
		close(h.updated)
		h.updated = nil
	}
}

// trimLocked lets go of the changes every watcher is past, and of the
// oldest beyond the bounds. It copies only when that frees half the tail
// (or the tail is twice its bounds), so the copy is paid once per many
// changes, not at each commit. h.mu is held.
func (h *hub) trimLocked() {
	over := len(h.tail) > 2*tailChanges || h.bytes > 2*tailBytes
	if len(h.tail) < 2*minTrim && !over {
		return
	}
	low := h.last
	for w := range h.watchers {
		low = min(low, w.pos)
	}
	drop := 0
	if n := len(h.tail); n > 0 && h.tail[0].seq <= low {
		drop, _ = slices.BinarySearchFunc(h.tail, low+1, func(e tailEntry, seq int64) int { return cmp.Compare(e.seq, seq) })
		if drop < max(minTrim, n/2) {
			drop = 0 // not worth a copy yet
		}
	}
	if drop == 0 && !over {
		return
	}
	size := h.bytes
	for _, e := range h.tail[:drop] {
		size -= entrySize(e.c)
	}
	for over && drop < len(h.tail) && (len(h.tail)-drop > tailChanges || size > tailBytes) {
		size -= entrySize(h.tail[drop].c)
		drop++
	}
	if drop > 0 {
		h.from = max(h.from, h.tail[drop-1].seq)
	}
	h.bytes = size
	h.tail = append(make([]tailEntry, 0, 2*(len(h.tail)-drop)), h.tail[drop:]...)
}

// next returns at most limit changes after the change numbered after: from
// the tail when it reaches back that far, else from the log (which fails
// with ErrPruned below what is kept). through is the number the answer
// covers the log to (marks included): where the next call starts. Every
// change returned is the caller's: its bytes are copies.
func (h *hub) next(ctx context.Context, q queryer, w *watcher, after int64, limit int) (_ []RawChange, through int64, _ error) {
	h.mu.Lock()
	tail, from, last, err := h.tail, h.from, h.last, h.err
	var i, n int
	if err == nil && last >= 0 && after >= from {
		i, _ = slices.BinarySearchFunc(tail, after+1, func(e tailEntry, seq int64) int { return cmp.Compare(e.seq, seq) })
		n = min(len(tail)-i, limit)
		through = max(after, last)
		if n > 0 && i+n < len(tail) {
			through = tail[i+n-1].seq
		}
		// What w gets is its own copy: the tail may let go of it.
		w.pos = max(w.pos, through)
	}
	h.mu.Unlock()
	switch {
	case err != nil:
		return nil, after, err
	case last < 0:
		return nil, after, nil // the refresher has not read the log's end yet: wait
	case after < from:
		out, err := retainedChanges(ctx, q, "", changelog.BookmarkFromSeq(after), limit)
		if err != nil {
			return nil, after, err
		}
		through = after
		if len(out) > 0 {
			through, _ = out[len(out)-1].Bookmark.Seq()
		}
		if len(out) < limit {
			// The log was read to its end, which is at or past last.
			through = max(through, last)
		}
		return out, through, nil
	case n <= 0:
		return nil, through, nil
	}
	out := make([]RawChange, n)
	for j := range out {
		c := tail[i+j].c
		if !w.decode {
			c.Doc = bytes.Clone(c.Doc)
			c.Prev = bytes.Clone(c.Prev)
		}
		out[j] = c
	}
	return out, through, nil
}
