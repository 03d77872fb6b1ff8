package cdc_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

// ids that must work as document ids: unicode, quotes, slashes, SQL-ish text.
var trickyIDs = []string{
	"u1", "ünïcødé-🙂", `quote'd`, `double"quoted`, "a/b/../c", "'; DROP TABLE c_users; --",
	"spaces in id", strings.Repeat("x", 512), "日本語", `back\slash`, "%_like*",
}

func TestPutGetHasDeleteRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	for _, id := range trickyIDs {
		t.Run(id[:min(len(id), 20)], func(t *testing.T) {
			doc := User{Name: "Ann " + id, Email: id + "@x", Role: "admin", Age: 30, Joined: time.Date(2024, 1, 15, 14, 40, 0, 0, time.UTC)}
			if ok, err := users.Has(ctx, id); err != nil || ok {
				t.Fatalf("Has before put = %v, %v", ok, err)
			}
			must(t, users.Put(ctx, id, doc))
			got, ok, err := users.Get(ctx, id)
			if err != nil || !ok || !reflect.DeepEqual(got, doc) {
				t.Fatalf("Get = %+v, %v, %v; want %+v", got, ok, err, doc)
			}
			if ok, err := users.Has(ctx, id); err != nil || !ok {
				t.Fatalf("Has after put = %v, %v", ok, err)
			}
			deleted, err := users.Delete(ctx, id)
			if err != nil || !deleted {
				t.Fatalf("Delete = %v, %v", deleted, err)
			}
			deleted, err = users.Delete(ctx, id)
			if err != nil || deleted {
				t.Fatalf("second Delete = %v, %v", deleted, err)
			}
			if _, ok, err := users.Get(ctx, id); err != nil || ok {
				t.Fatalf("Get after delete = %v, %v", ok, err)
			}
			changes, err := users.Changes(ctx, "", 1000)
			must(t, err)
			var mine []cdc.Change[User]
			for _, c := range changes {
				if c.DocID == id {
					mine = append(mine, c)
				}
			}
			if len(mine) != 2 || mine[0].Op != cdc.OpInsert || mine[1].Op != cdc.OpDelete {
				t.Fatalf("changes of %q = %+v", id, mine)
			}
			if mine[0].Doc == nil || !reflect.DeepEqual(*mine[0].Doc, doc) || mine[0].Prev != nil {
				t.Fatalf("insert change = %+v", mine[0])
			}
			if mine[1].Doc != nil || mine[1].Prev == nil || !reflect.DeepEqual(*mine[1].Prev, doc) {
				t.Fatalf("delete change = %+v", mine[1])
			}
		})
	}
}

func TestPutLogsInsertThenUpdateWithPrevious(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	v1 := User{Name: "Ann", Role: "user"}
	v2 := User{Name: "Ann", Role: "admin"}
	must(t, users.Put(ctx, "u1", v1))
	must(t, users.Put(ctx, "u1", v2))
	changes, err := users.Changes(ctx, "", 10)
	must(t, err)
	if len(changes) != 2 {
		t.Fatalf("got %d changes", len(changes))
	}
	if c := changes[0]; c.Op != cdc.OpInsert || c.Collection != "users" || c.DocID != "u1" || !reflect.DeepEqual(*c.Doc, v1) || c.Prev != nil {
		t.Fatalf("insert = %+v", c)
	}
	if c := changes[1]; c.Op != cdc.OpUpdate || !reflect.DeepEqual(*c.Doc, v2) || !reflect.DeepEqual(*c.Prev, v1) {
		t.Fatalf("update = %+v", c)
	}
	if changes[0].Bookmark >= changes[1].Bookmark {
		t.Fatalf("bookmarks not increasing: %s, %s", changes[0].Bookmark, changes[1].Bookmark)
	}
	if d := time.Since(changes[1].TS); d < 0 || d > time.Minute || changes[1].TS.Location() != time.UTC {
		t.Fatalf("change ts = %v", changes[1].TS)
	}
	cur, err := s.Bookmark(ctx)
	must(t, err)
	if cur != changes[1].Bookmark {
		t.Fatalf("store bookmark %s, last change %s", cur, changes[1].Bookmark)
	}
	// Reading after the first bookmark gives only the second change.
	after, err := users.Changes(ctx, changes[0].Bookmark, 10)
	must(t, err)
	if len(after) != 1 || after[0].Bookmark != changes[1].Bookmark {
		t.Fatalf("changes after %s = %+v", changes[0].Bookmark, after)
	}
}

func TestEmptyCollection(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	if docs, err := users.List(ctx, cdc.FindOptions{}); err != nil || len(docs) != 0 {
		t.Fatalf("List = %v, %v", docs, err)
	}
	if docs, err := users.Find(ctx, fName.Eq("x"), cdc.FindOptions{Limit: 3}); err != nil || len(docs) != 0 {
		t.Fatalf("Find = %v, %v", docs, err)
	}
	if n, err := users.Count(ctx, nil); err != nil || n != 0 {
		t.Fatalf("Count = %d, %v", n, err)
	}
	if ids, err := users.Keys(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("Keys = %v, %v", ids, err)
	}
	if n, err := users.Clear(ctx); err != nil || n != 0 {
		t.Fatalf("Clear = %d, %v", n, err)
	}
	if n, err := users.DeleteMany(ctx, []string{"a", "b"}); err != nil || n != 0 {
		t.Fatalf("DeleteMany = %d, %v", n, err)
	}
	if ch, err := users.Changes(ctx, "", 10); err != nil || len(ch) != 0 {
		t.Fatalf("Changes = %v, %v", ch, err)
	}
	if b, err := s.Bookmark(ctx); err != nil || b != "" {
		t.Fatalf("Bookmark = %q, %v", b, err)
	}
}

func TestPutManyDeleteManyClear(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	var entries []cdc.Entry[User]
	for _, id := range trickyIDs {
		entries = append(entries, cdc.Entry[User]{ID: id, Doc: User{Name: id}})
	}
	must(t, users.PutMany(ctx, entries))
	keys, err := users.Keys(ctx)
	must(t, err)
	want := slices.Clone(trickyIDs)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("Keys = %q, want %q", keys, want)
	}
	n, err := users.DeleteMany(ctx, []string{trickyIDs[0], trickyIDs[1], "missing"})
	if err != nil || n != 2 {
		t.Fatalf("DeleteMany = %d, %v", n, err)
	}
	n, err = users.Clear(ctx)
	if err != nil || n != len(trickyIDs)-2 {
		t.Fatalf("Clear = %d, %v", n, err)
	}
	changes, err := users.Changes(ctx, "", 1000)
	must(t, err)
	if len(changes) != 2*len(trickyIDs) {
		t.Fatalf("%d changes, want %d", len(changes), 2*len(trickyIDs))
	}
	for _, c := range changes[len(trickyIDs):] {
		if c.Op != cdc.OpDelete || c.Prev == nil || c.Prev.Name != c.DocID {
			t.Fatalf("delete change without its previous document: %+v", c)
		}
	}
	if got := changeCount(t, s); got != 2*len(trickyIDs) {
		t.Fatalf("change rows = %d", got)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	must(t, users.Put(ctx, "keep", User{Name: "keep"}))
	before := changeCount(t, s)
	badIDs := map[string]string{
		"empty": "", "too long": strings.Repeat("x", 513), "invalid utf8": "a\xffb",
		"newline": "a\nb", "nul": "a\x00b", "del": "a\x7fb", "c1 control": "a\u0085b",
	}
	for name, id := range badIDs {
		t.Run(name, func(t *testing.T) {
			if err := users.Put(ctx, id, User{}); !errors.Is(err, cdc.ErrInvalidID) {
				t.Errorf("Put: %v", err)
			}
			if _, _, err := users.Get(ctx, id); !errors.Is(err, cdc.ErrInvalidID) {
				t.Errorf("Get: %v", err)
			}
			if _, err := users.Has(ctx, id); !errors.Is(err, cdc.ErrInvalidID) {
				t.Errorf("Has: %v", err)
			}
			if _, err := users.Delete(ctx, id); !errors.Is(err, cdc.ErrInvalidID) {
				t.Errorf("Delete: %v", err)
			}
			// A bad entry anywhere fails the whole batch before any write.
			err := users.PutMany(ctx, []cdc.Entry[User]{{ID: "fine", Doc: User{}}, {ID: id}})
			if !errors.Is(err, cdc.ErrInvalidID) {
				t.Errorf("PutMany: %v", err)
			}
			if _, err := users.DeleteMany(ctx, []string{"keep", id}); !errors.Is(err, cdc.ErrInvalidID) {
				t.Errorf("DeleteMany: %v", err)
			}
		})
	}
	// Documents that do not encode.
	type bad struct{ C chan int }
	badDocs, err := cdc.NewCollection[bad](s, "bad")
	must(t, err)
	if err := badDocs.Put(ctx, "x", bad{C: make(chan int)}); !errors.Is(err, cdc.ErrEncode) {
		t.Errorf("Put of a channel: %v", err)
	}
	floats, err := cdc.NewCollection[float64](s, "floats")
	must(t, err)
	if err := floats.PutMany(ctx, []cdc.Entry[float64]{{ID: "a", Doc: 1}, {ID: "b", Doc: func() float64 { var z float64; return 1 / z }()}}); !errors.Is(err, cdc.ErrEncode) {
		t.Errorf("PutMany of +Inf: %v", err)
	}
	// Bad collection names.
	for _, name := range []string{"", "1abc", "has space", "dot.ted", "quote\"", strings.Repeat("a", 129), "ünï"} {
		if _, err := cdc.NewCollection[User](s, name); !errors.Is(err, cdc.ErrInvalidCollection) {
			t.Errorf("NewCollection(%q): %v", name, err)
		}
	}
	for _, name := range []string{"a", "_x", "A-b_9", strings.Repeat("a", 128)} {
		if err := cdc.ValidateCollection(name); err != nil {
			t.Errorf("ValidateCollection(%q): %v", name, err)
		}
	}
	// Bad options and bookmarks.
	if _, err := users.Find(ctx, nil, cdc.FindOptions{Limit: -1}); !errors.Is(err, cdc.ErrInvalidOptions) {
		t.Errorf("negative limit: %v", err)
	}
	if _, err := users.Changes(ctx, "12", 10); !errors.Is(err, cdc.ErrInvalidBookmark) {
		t.Errorf("bad bookmark: %v", err)
	}
	if _, err := users.Find(ctx, cdc.NewField[string]("we\"ird").Eq("x"), cdc.FindOptions{}); !errors.Is(err, cdc.ErrInvalidOptions) {
		t.Errorf("bad field name: %v", err)
	}
	if got := changeCount(t, s); got != before {
		t.Fatalf("bad input wrote %d change rows", got-before)
	}
	names, err := cdcx.Store(s).Collections(ctx)
	must(t, err)
	if !slices.Equal(names, []string{"bad", "floats", "users"}) {
		t.Fatalf("collections = %q", names)
	}
	if docs, err := floats.List(ctx, cdc.FindOptions{}); err != nil || len(docs) != 0 {
		t.Fatalf("a failed PutMany left %v, %v", docs, err)
	}
}

func TestReopenKeepsDataAndBookmarks(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/reopen.db"
	s, err := cdc.Open(ctx, path)
	must(t, err)
	users := newUsers(t, s)
	for i := range 5 {
		must(t, users.Put(ctx, "u", User{Age: i}))
	}
	last, err := s.Bookmark(ctx)
	must(t, err)
	// Prune everything: the newest change is kept so bookmarks go on.
	n, err := cdcx.Store(s).PruneChanges(ctx, last)
	must(t, err)
	if n != 4 {
		t.Fatalf("pruned %d, want 4", n)
	}
	must(t, s.Close())

	s, err = cdc.Open(ctx, path)
	must(t, err)
	defer s.Close()
	users = newUsers(t, s)
	if b, err := s.Bookmark(ctx); err != nil || b != last {
		t.Fatalf("bookmark after reopen = %s, %v; want %s", b, err, last)
	}
	must(t, users.Put(ctx, "u", User{Age: 99}))
	next, err := s.Bookmark(ctx)
	must(t, err)
	if next <= last {
		t.Fatalf("bookmark went backwards: %s after %s", next, last)
	}
	got, ok, err := users.Get(ctx, "u")
	if err != nil || !ok || got.Age != 99 {
		t.Fatalf("Get = %+v %v %v", got, ok, err)
	}
}

func TestBookmarkFormat(t *testing.T) {
	b := changelog.BookmarkFromSeq(42)
	if b != "00000000000000000042" {
		t.Fatalf("bookmark = %q", b)
	}
	if changelog.BookmarkFromSeq(0) != "" {
		t.Fatal("seq 0 is the zero bookmark")
	}
	if changelog.BookmarkFromSeq(9) >= changelog.BookmarkFromSeq(10) {
		t.Fatal("bookmarks must sort like their numbers")
	}
	for _, bad := range []string{"1", "0000000000000000004x", "-0000000000000000042", "000000000000000000042"} {
		if _, err := cdc.ParseBookmark(bad); !errors.Is(err, cdc.ErrInvalidBookmark) {
			t.Errorf("ParseBookmark(%q) = %v", bad, err)
		}
	}
	if seq, err := changelog.BookmarkFromSeq(1 << 62).Seq(); err != nil || seq != 1<<62 {
		t.Fatalf("Seq = %d, %v", seq, err)
	}
}
