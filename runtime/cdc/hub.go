package cdc

import (
	"context"
	"database/sql"
	"encoding/json"
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
)

// hub keeps the newest changes of a store in memory for its watchers. Once
// the store is watched, one goroutine (the refresher) reads what each
// commit added to the log, once for every watcher, and then wakes them all:
// they copy what they need from the tail without touching the database or
// waiting for each other.
type hub struct {
	kick chan struct{} // a commit happened (buffered: one pending is enough)
	stop chan struct{} // closed at Close

	mu      sync.Mutex
	updated chan struct{} // closed at the next publish or at Close; nil while nobody waits
	closed  bool
	running bool  // the refresher was started
	err     error // the refresher's failure, which ends every watch
	last    int64 // the newest row read; -1: not known yet
	from    int64 // the tail holds every change numbered from+1 to last
	// tail holds those changes, in bookmark order. Its entries are never
	// changed once published: watchers read a snapshot of it without the
	// lock, appends go past every snapshot's length, and trimming copies.
	tail  []tailEntry
	bytes int
}

type tailEntry struct {
	seq int64
	c   RawChange
}

func newHub() *hub {
	return &hub{kick: make(chan struct{}, 1), stop: make(chan struct{}), last: -1, from: -1}
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
// reading (next), so that what is published in between is not missed. The
// first call starts the refresher on db.
func (h *hub) waiter(db *sql.DB) (wake <-chan struct{}, closed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, true
	}
	if !h.running {
		h.running, h.err = true, nil
		go h.run(db)
	}
	if h.updated == nil {
		h.updated = make(chan struct{})
	}
	return h.updated, false
}

// run is the refresher: it reads the log's end, then what each commit
// adds, until the store closes.
func (h *hub) run(db *sql.DB) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-h.stop
		cancel()
	}()
	stmt, err := db.PrepareContext(ctx, `SELECT `+changeColumns+` FROM cdc_changes WHERE seq > ? ORDER BY seq LIMIT ?`)
	if err == nil {
		defer stmt.Close()
		var newest int64
		err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM cdc_changes`).Scan(&newest)
		if err == nil {
			h.publish(nil, newest, newest, 0)
		}
	}
	for err == nil {
		select {
		case <-h.kick:
		case <-h.stop:
			return
		}
		err = h.refresh(ctx, stmt)
	}
	if ctx.Err() == nil {
		h.mu.Lock()
		// Every watcher ends with the error; the next Watch starts afresh.
		h.err = fmt.Errorf("cdc: watch: %w", err)
		h.running = false
		if h.updated != nil {
			close(h.updated)
			h.updated = nil
		}
		h.mu.Unlock()
	}
}

// refresh reads what was committed after last into the tail, publishing
// each step.
func (h *hub) refresh(ctx context.Context, stmt *sql.Stmt) error {
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
			h.publish(add, last, -1, size)
		}
		if n < refreshRows {
			return nil
		}
	}
}

// publish appends add to the tail, moves last (and from, when from ≥ 0),
// trims the tail and wakes the watchers.
func (h *hub) publish(add []tailEntry, last, from int64, size int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tail = append(h.tail, add...)
	h.bytes += size
	h.last = last
	if from >= 0 {
		h.from = from
	}
	// Trim to the bounds only once the tail is twice as long or large: the
	// copy is then paid once per tailChanges changes, not at each commit.
	if len(h.tail) > 2*tailChanges || h.bytes > 2*tailBytes {
		drop := 0
		for drop < len(h.tail) && (len(h.tail)-drop > tailChanges || h.bytes > tailBytes) {
			h.bytes -= entrySize(h.tail[drop].c)
			h.from = h.tail[drop].seq
			drop++
		}
		h.tail = append(make([]tailEntry, 0, 2*(len(h.tail)-drop)), h.tail[drop:]...)
	}
	if len(h.tail) == 0 {
		h.from = h.last
	}
	if h.updated != nil {
		close(h.updated)
		h.updated = nil
	}
}

// next returns at most limit changes after the change numbered after: from
// the tail when it reaches back that far, else from the log (which fails
// with ErrPruned below what is kept). through is the number the answer
// covers the log to (marks included): where the next call starts. Every
// change returned is the caller's: its bytes are copies.
func (h *hub) next(ctx context.Context, q queryer, after int64, limit int) (_ []RawChange, through int64, _ error) {
	h.mu.Lock()
	tail, from, last, err := h.tail, h.from, h.last, h.err
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
	}
	i, _ := slices.BinarySearchFunc(tail, after+1, func(e tailEntry, seq int64) int {
		return cmpInt(e.seq, seq)
	})
	n := min(len(tail)-i, limit)
	if n <= 0 {
		return nil, max(after, last), nil
	}
	out := make([]RawChange, n)
	for j := range out {
		c := tail[i+j].c
		c.Doc = cloneRaw(c.Doc)
		c.Prev = cloneRaw(c.Prev)
		out[j] = c
	}
	through = tail[i+n-1].seq
	if i+n == len(tail) {
		through = last
	}
	return out, through, nil
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
