package snapshot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/dotdo/events/internal/cdcx"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/laketest"
)

// state is a store's content: collection → id → compact JSON.
type state map[string]map[string]string

func openStore(t testing.TB) *cdc.Store {
	t.Helper()
	s, err := cdc.Open(context.Background(), filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func coll(t testing.TB, s *cdc.Store, name string) *cdc.Collection[json.RawMessage] {
	t.Helper()
	c, err := cdc.NewCollection[json.RawMessage](s, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func put(t testing.TB, c *cdc.Collection[json.RawMessage], id, doc string) {
	t.Helper()
	if err := c.Put(context.Background(), id, json.RawMessage(doc)); err != nil {
		t.Fatal(err)
	}
}

func compact(t testing.TB, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("compact %s: %v", b, err)
	}
	return out.String()
}

// stateOf reads every collection of s (empty collections included).
func stateOf(t testing.TB, s *cdc.Store) state {
	t.Helper()
	ctx := context.Background()
	names, err := cdcx.Store(s).Collections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := state{}
	for _, n := range names {
		entries, err := coll(t, s, n).FindEntries(ctx, nil, cdc.FindOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, e := range entries {
			m[e.ID] = compact(t, e.Doc)
		}
		st[n] = m
	}
	return st
}

// nonEmpty drops empty collections (a restore empties collections it cannot
// drop).
func nonEmpty(st state) state {
	out := state{}
	for k, v := range st {
		if len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

func (st state) clone() state {
	out := state{}
	for k, v := range st {
		out[k] = maps.Clone(v)
	}
	return out
}

// diffStates describes the first differences between two states.
func diffStates(want, got state) string {
	var b bytes.Buffer
	names := slices.Sorted(maps.Keys(want))
	for n := range got {
		if _, ok := want[n]; !ok {
			names = append(names, n)
		}
	}
	count := 0
	for _, n := range names {
		for id, w := range want[n] {
			if g, ok := got[n][id]; !ok || g != w {
				fmt.Fprintf(&b, "%s/%s: want %s, got %q (present %v)\n", n, id, w, g, ok)
				count++
			}
		}
		for id, g := range got[n] {
			if _, ok := want[n][id]; !ok {
				fmt.Fprintf(&b, "%s/%s: unexpected %s\n", n, id, g)
				count++
			}
		}
		if count > 10 {
			break
		}
	}
	return b.String()
}

// eachBucket runs fn against a local folder and against gofakes3 through the
// real S3 client.
func eachBucket(t *testing.T, fn func(t *testing.T, b lake.Bucket)) {
	for name, b := range laketest.Buckets(t) {
		t.Run(name, func(t *testing.T) { fn(t, b) })
	}
}

// ship writes the store's changes after `after` to the lake as the emitter
// does (collection.* events with bookmark, docId, doc, ts and do.id), in
// batches of batch events, and returns the last bookmark shipped.
func ship(t testing.TB, s *cdc.Store, b lake.Bucket, id string, after cdc.Bookmark, batch int) cdc.Bookmark {
	t.Helper()
	ctx := context.Background()
	for {
		changes, err := s.ChangesAfter(ctx, after, batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) == 0 {
			return after
		}
		writeChanges(t, b, id, changes)
		after = changes[len(changes)-1].Bookmark
	}
}

// writeChanges writes changes as one lake batch.
func writeChanges(t testing.TB, b lake.Bucket, id string, changes []cdc.RawChange) {
	t.Helper()
	evs := make([]lakewrite.EncodedEvent, len(changes))
	for i, c := range changes {
		seq, _ := c.Bookmark.Seq()
		ev := events.CollectionChange{
			Type:       c.Op.EventType(),
			TS:         c.TS,
			DO:         events.Identity{ID: id},
			ID:         fmt.Sprintf("ev-c%d", seq),
			Collection: c.Collection,
			DocID:      c.DocID,
			Bookmark:   string(c.Bookmark),
		}
		if c.Op != cdc.OpDelete {
			ev.Doc = c.Doc
		}
		js, err := ev.AppendJSON(nil, events.Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = lakewrite.EncodedEvent{TS: c.TS, Seq: uint64(seq), JSON: js}
	}
	if _, err := lakewrite.WriteEvents(context.Background(), b, events.Identity{ID: id}, evs); err != nil {
		t.Fatal(err)
	}
}

func bookmark(t testing.TB, s *cdc.Store) cdc.Bookmark {
	t.Helper()
	bm, err := s.Bookmark(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return bm
}
