package snapshot

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/dotdo/events/internal/cdcx"
	"slices"
	"strings"

	"github.com/dotdo/events/runtime/cdc"
)

// overlayEntry is a document a point-in-time restore puts over the
// snapshot: doc nil means the document is deleted.
type overlayEntry struct {
	id  string
	doc json.RawMessage
}

// counts are what a restore changed.
type counts struct {
	docs, inserted, updated, deleted int
}

// merger brings one collection to a target state given in id order: the
// snapshot's rows (push) merged with the overlay's entries (which win),
// compared with the collection's documents read in id order a page at a
// time. Only differences are written, batched, through the collection bound
// to the transaction, so each lands in the change log as an ordinary change.
//
// Keyset paging stays correct while writing: every write is to an id at or
// below the last id read, and the next page reads only ids above it.
type merger struct {
	ctx context.Context
	c   *raw // bound to the transaction

	ov []overlayEntry
	oi int

	page     []cdc.Entry[json.RawMessage]
	pi       int
	lastPage bool // page is the last one
	fetched  bool // a page was read

	puts []cdc.Entry[json.RawMessage]
	dels []string
	n    *counts
}

func newMerger(ctx context.Context, c *raw, ov []overlayEntry, n *counts) *merger {
	return &merger{ctx: ctx, c: c, ov: ov, n: n}
}

// push gives the next snapshot row (ids strictly increasing).
func (m *merger) push(id string, doc []byte) error {
	for m.oi < len(m.ov) && m.ov[m.oi].id < id {
		if err := m.overlay(m.ov[m.oi]); err != nil {
			return err
		}
		m.oi++
	}
	if m.oi < len(m.ov) && m.ov[m.oi].id == id {
		e := m.ov[m.oi]
		m.oi++
		return m.overlay(e)
	}
	return m.want(id, doc)
}

func (m *merger) overlay(e overlayEntry) error {
	if e.doc == nil {
		return nil
	}
	return m.want(e.id, e.doc)
}

// finish applies the rest of the overlay, deletes every document after the
// last wanted one and flushes.
func (m *merger) finish() error {
	for ; m.oi < len(m.ov); m.oi++ {
		if err := m.overlay(m.ov[m.oi]); err != nil {
			return err
		}
	}
	for {
		head, ok, err := m.head()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := m.del(head.ID); err != nil {
			return err
		}
		m.pi++
	}
	return m.flush()
}

// want makes document id equal doc.
func (m *merger) want(id string, doc []byte) error {
	m.n.docs++
	for {
		head, ok, err := m.head()
		if err != nil {
			return err
		}
		switch {
		case !ok || head.ID > id:
			m.n.inserted++
			return m.put(id, doc)
		case head.ID < id:
			if err := m.del(head.ID); err != nil {
				return err
			}
			m.pi++
		default:
			m.pi++
			if equalJSON(head.Doc, doc) {
				return nil
			}
			m.n.updated++
			return m.put(id, doc)
		}
	}
}

// head returns the collection's next document in id order.
func (m *merger) head() (cdc.Entry[json.RawMessage], bool, error) {
	if m.pi < len(m.page) {
		return m.page[m.pi], true, nil
	}
	if m.lastPage {
		return cdc.Entry[json.RawMessage]{}, false, nil
	}
	var filter cdc.Filter
	if m.fetched && len(m.page) > 0 {
		filter = cdcx.IDField().Gt(m.page[len(m.page)-1].ID)
	}
	page, err := m.c.FindEntries(m.ctx, filter, cdc.FindOptions{Limit: pageSize})
	if err != nil {
		return cdc.Entry[json.RawMessage]{}, false, err
	}
	m.fetched = true
	m.page, m.pi = page, 0
	m.lastPage = len(page) < pageSize
	if len(page) == 0 {
		return cdc.Entry[json.RawMessage]{}, false, nil
	}
	return page[0], true, nil
}

func (m *merger) put(id string, doc []byte) error {
	m.puts = append(m.puts, cdc.Entry[json.RawMessage]{ID: id, Doc: append(json.RawMessage(nil), doc...)})
	if len(m.puts) >= pageSize {
		return m.flush()
	}
	return nil
}

func (m *merger) del(id string) error {
	m.n.deleted++
	m.dels = append(m.dels, id)
	if len(m.dels) >= pageSize {
		return m.flush()
	}
	return nil
}

func (m *merger) flush() error {
	if len(m.puts) > 0 {
		if err := m.c.PutMany(m.ctx, m.puts); err != nil {
			return fmt.Errorf("snapshot: restore %s: %w", m.c.Name(), err)
		}
		m.puts = m.puts[:0]
	}
	if len(m.dels) > 0 {
		if _, err := m.c.DeleteMany(m.ctx, m.dels); err != nil {
			return fmt.Errorf("snapshot: restore %s: %w", m.c.Name(), err)
		}
		m.dels = m.dels[:0]
	}
	return nil
}

// sortEntries sorts overlay entries by id, in the byte order of the store.
func sortEntries(e []overlayEntry) {
	slices.SortFunc(e, func(a, b overlayEntry) int { return strings.Compare(a.id, b.id) })
}
