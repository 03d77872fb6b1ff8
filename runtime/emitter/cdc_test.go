package emitter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

type user struct {
	Name string `json:"name"`
	Age  int    `json:"age,omitempty"`
}

func newUsers(t testing.TB, store *cdc.Store) *cdc.Collection[user] {
	t.Helper()
	c, err := cdc.NewCollection[user](store, "users")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCDC: collection changes become collection.* events with doc, prev
// (only with TrackPrevious), bookmark and the change's time, to both sinks.
func TestCDC(t *testing.T) {
	for _, track := range []bool{false, true} {
		t.Run(fmt.Sprint("TrackPrevious=", track), func(t *testing.T) {
			ctx := context.Background()
			in := newIngest(t)
			bucket := lake.Dir(t.TempDir())
			store := openStore(t)
			users := newUsers(t, store)
			// A change written before the emitter exists is shipped too.
			if err := users.Put(ctx, "u1", user{Name: "Ann"}); err != nil {
				t.Fatal(err)
			}
			em, err := emitter.New(store, emitter.Options{Endpoint: in.URL, Bucket: bucket, CDC: true, TrackPrevious: track})
			if err != nil {
				t.Fatal(err)
			}
			if err := users.Put(ctx, "u1", user{Name: "Ann", Age: 3}); err != nil {
				t.Fatal(err)
			}
			if _, err := users.Delete(ctx, "u1"); err != nil {
				t.Fatal(err)
			}
			if err := em.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			changes := in.events()
			if len(changes) != 3 {
				t.Fatalf("%d events", len(changes))
			}
			type want struct{ typ, doc, prev string }
			wants := []want{
				{"collection.insert", `{"name":"Ann"}`, ""},
				{"collection.update", `{"name":"Ann","age":3}`, `{"name":"Ann"}`},
				{"collection.delete", "", `{"name":"Ann","age":3}`},
			}
			for i, ev := range changes {
				c := ev.(events.CollectionChange)
				w := wants[i]
				if !track {
					w.prev = ""
				}
				if c.Type != w.typ || string(c.Doc) != w.doc || string(c.Prev) != w.prev || c.Collection != "users" || c.DocID != "u1" {
					t.Errorf("event %d: %+v, want %+v", i, c, w)
				}
				bm := changelog.BookmarkFromSeq(int64(i + 1))
				if c.Bookmark != string(bm) || c.ID != fmt.Sprintf("%s-c%d", em.StoreID(), i+1) {
					t.Errorf("event %d: bookmark %s id %s", i, c.Bookmark, c.ID)
				}
				if c.DO.ID != em.StoreID() || c.TS.IsZero() {
					t.Errorf("event %d: do %+v ts %s", i, c.DO, c.TS)
				}
			}
			if got := len(lakeEvents(t, bucket)); got != 3 {
				t.Fatalf("lake has %d events", got)
			}
			// A restarted emitter resumes after what was delivered.
			emitter.Abandon(em)
			em2, err := emitter.New(store, emitter.Options{Endpoint: in.URL, Bucket: bucket, CDC: true, TrackPrevious: track})
			if err != nil {
				t.Fatal(err)
			}
			if err := em2.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if len(in.events()) != 3 {
				t.Fatal("restart re-sent delivered changes")
			}
		})
	}
}

// TestEmitChange: manual CDC gets a bookmark in the change log and ships
// like a collection change.
func TestEmitChange(t *testing.T) {
	ctx := context.Background()
	in := newIngest(t)
	store := openStore(t)
	em, err := emitter.New(store, emitter.Options{Endpoint: in.URL, CDC: true, TrackPrevious: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := em.EmitChange(ctx, cdc.OpInsert, "settings", "theme", map[string]string{"color": "red"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := em.EmitChange(ctx, cdc.OpUpdate, "settings", "theme", json.RawMessage(`{"color":"blue"}`), json.RawMessage(`{"color":"red"}`)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		op              cdc.Op
		coll, id        string
		doc             any
		wantErrContains string
	}{
		{"upsert", "settings", "x", nil, "op"},
		{cdc.OpInsert, "bad name!", "x", nil, "collection"},
		{cdc.OpInsert, "settings", "", nil, "id"},
		{cdc.OpInsert, "settings", "x", json.RawMessage(`{nope`), "JSON"},
		{cdc.OpInsert, "settings", "x", func() {}, "doc"},
	} {
		if err := em.EmitChange(ctx, bad.op, bad.coll, bad.id, bad.doc, nil); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("EmitChange(%q, %q, %q): %v", bad.op, bad.coll, bad.id, err)
		}
	}
	bm, _ := store.Bookmark(ctx)
	if bm != changelog.BookmarkFromSeq(2) {
		t.Fatalf("bookmark %s: bad changes were written", bm)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs := in.events()
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	up := evs[1].(events.CollectionChange)
	if up.Type != "collection.update" || string(up.Doc) != `{"color":"blue"}` || string(up.Prev) != `{"color":"red"}` || up.Bookmark != string(changelog.BookmarkFromSeq(2)) {
		t.Fatalf("update %+v", up)
	}
	off, err := emitter.New(openStore(t), emitter.Options{Endpoint: in.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := off.EmitChange(ctx, cdc.OpInsert, "s", "x", nil, nil); !errors.Is(err, emitter.ErrCDCDisabled) {
		t.Fatalf("CDC off: %v", err)
	}
}
