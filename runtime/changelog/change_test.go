package changelog_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/changeevent"
	"github.com/dotdo/events/runtime/changelog"
)

// TestChangeOfEvent: a change shipped as an event (with its previous
// document) and decoded from the wire is the same change again; other
// events are not changes; a change event with a bad bookmark, collection
// or id is an error.
func TestChangeOfEvent(t *testing.T) {
	ts := time.Date(2026, 11, 29, 6, 0, 0, 123e6, time.UTC)
	for _, want := range []changelog.RawChange{
		{Op: changelog.OpInsert, Collection: "users", DocID: "u1", Doc: json.RawMessage(`{"name":"Ann"}`), Bookmark: changelog.BookmarkFromSeq(7), TS: ts},
		{Op: changelog.OpUpdate, Collection: "users", DocID: "u1", Doc: json.RawMessage(`{"name":"Bo"}`), Prev: json.RawMessage(`{"name":"Ann"}`), Bookmark: changelog.BookmarkFromSeq(8), TS: ts},
		{Op: changelog.OpDelete, Collection: "users", DocID: "u 1/ü", Prev: json.RawMessage(`{"name":"Bo"}`), Bookmark: changelog.BookmarkFromSeq(9), TS: ts},
	} {
		ev := changeevent.Of(want, "e-c1", true)
		ev.DO = events.Identity{ID: "shop"}
		js, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := events.DecodeEvent(js)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := changelog.ChangeOfEvent(decoded)
		if err != nil || !ok {
			t.Fatalf("%s: ok %v, %v", want.Op, ok, err)
		}
		if got.Op != want.Op || got.Collection != want.Collection || got.DocID != want.DocID || got.Bookmark != want.Bookmark ||
			!got.TS.Equal(want.TS) || string(got.Doc) != string(want.Doc) || string(got.Prev) != string(want.Prev) {
			t.Errorf("round trip of %+v gave %+v", want, got)
		}
		if _, ok, err := changelog.ChangeOfEvent(&ev); !ok || err != nil {
			t.Errorf("a pointer to the event: ok %v, %v", ok, err)
		}
	}
	for _, ev := range []events.Event{events.Custom{Type: "order.paid"}, nil, (*events.CollectionChange)(nil)} {
		if _, ok, err := changelog.ChangeOfEvent(ev); ok || err != nil {
			t.Errorf("%#v: ok %v, %v; want not a change", ev, ok, err)
		}
	}
	bad := events.CollectionChange{Type: events.TypeCollectionInsert, Collection: "users", DocID: "u1", Bookmark: "12"}
	if _, ok, err := changelog.ChangeOfEvent(bad); !ok || !errors.Is(err, changelog.ErrInvalidBookmark) {
		t.Errorf("bad bookmark: ok %v, %v", ok, err)
	}
	bad.Bookmark, bad.Collection = "", "1x"
	if _, _, err := changelog.ChangeOfEvent(bad); !errors.Is(err, changelog.ErrInvalidCollection) {
		t.Errorf("bad collection: %v", err)
	}
	bad.Collection, bad.DocID = "users", ""
	if _, _, err := changelog.ChangeOfEvent(bad); !errors.Is(err, changelog.ErrInvalidID) {
		t.Errorf("bad id: %v", err)
	}
}
