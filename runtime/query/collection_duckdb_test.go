package query

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/changelog"
)

// person is the fixture's "users" document.
type person struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// personColumns are person's typed columns, as eventsgen writes them.
const personColumns = `json_transform(json_extract("doc", '$."name"'), '"VARCHAR"') AS "name", ` +
	`json_transform(json_extract("doc", '$."role"'), '"VARCHAR"') AS "role"`

// personSchema names the "users" collection of person documents.
type personSchema struct{}

func (personSchema) Collection() string { return "users" }
func (personSchema) Columns() string    { return personColumns }

// personLake is what eventsgen generates as UserLake for person.
type personLake = Collection[person, personSchema]

// reinsertTS is when the fixture's deleted user-123 comes back in users-1.
var reinsertTS = at("2025-01-01T01:30:00.000Z")

// collectionLake is the fixture lake plus a re-insert of user-123 after its
// delete (e16), in an object of its own.
func collectionLake(t *testing.T) string {
	t.Helper()
	dir, _ := writeFixture(t)
	writeBatch(t, dir, users, 100, events.CollectionChange{ID: "e26", Type: events.TypeCollectionInsert, TS: reinsertTS,
		Collection: "users", DocID: "user-123", Bookmark: bm(8), Doc: json.RawMessage(`{"name":"Ann again","role":"user"}`)})
	return dir
}

// names lists "id=name" of a state.
func names(state []changelog.Entry[person]) []string {
	out := make([]string, len(state))
	for i, e := range state {
		out[i] = e.ID + "=" + e.Doc.Name
	}
	return out
}

// TestCollectionQueries runs the four collection queries on the runtime's
// lake in session zones on both sides of UTC.
func TestCollectionQueries(t *testing.T) {
	dir := collectionLake(t)
	ctx := context.Background()
	one := personLake{Lake: Lake{Root: dir, DOID: users.ID}}
	for _, zone := range []string{"UTC", "America/Los_Angeles", "Asia/Tokyo"} {
		t.Run(zone, func(t *testing.T) {
			db := openDuckDB(t, zone)

			hist, err := one.History(ctx, db, "user-123")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range hist {
				got = append(got, string(c.Op)+":"+string(c.Bookmark))
			}
			want := []string{"insert:" + bm(1), "update:" + bm(2), "update:" + bm(3), "update:" + bm(4), "delete:" + bm(6), "insert:" + bm(8)}
			if !slices.Equal(got, want) {
				t.Fatalf("history %v, want %v", got, want)
			}
			if h := hist[3]; h.Collection != "users" || h.DocID != "user-123" || !h.TS.Equal(at("2025-01-01T00:00:00.000Z")) ||
				h.TS.Location() != time.UTC || h.Doc.Name != "Ann C" || h.Prev.Name != "Ann B" {
				t.Errorf("update: %+v", h)
			}
			if hist[4].Doc != nil || hist[4].Prev.Name != "Ann C" || hist[5].Prev != nil {
				t.Errorf("delete and re-insert: %+v %+v", hist[4], hist[5])
			}

			for _, c := range []struct {
				at   time.Time
				want []string
			}{
				{time.Time{}, nil},
				{at("2024-02-29T11:59:59.999Z"), nil},
				{at("2024-12-31T23:59:59.999Z"), []string{"user-123=Ann"}},
				{at("2025-01-01T00:00:00.000Z").In(time.FixedZone("X", -8*3600)), []string{"user-123=Ann C"}},
				{at("2025-01-01T00:59:59.999Z"), []string{"user-123=Ann C", "user-456=Bob"}},
				{at("2025-01-01T01:00:00.000Z"), []string{"user-456=Bob"}},
				{reinsertTS, []string{"user-123=Ann again", "user-456=Bob"}},
			} {
				state, err := one.StateAt(ctx, db, c.at)
				if err != nil {
					t.Fatal(err)
				}
				if got := names(state); !slices.Equal(got, c.want) {
					t.Errorf("StateAt(%v) = %v, want %v", c.at, got, c.want)
				}
			}
			for n, want := range map[int][]string{1: {"user-123=Ann"}, 4: {"user-123=Ann C"}, 6: {"user-456=Bob"}, 8: {"user-123=Ann again", "user-456=Bob"}} {
				state, err := one.StateAtBookmark(ctx, db, changelog.Bookmark(bm(n)))
				if got := names(state); err != nil || !slices.Equal(got, want) {
					t.Errorf("StateAtBookmark(%d) = %v, %v; want %v", n, got, err, want)
				}
			}

			// Half open, across the new year; then a range of hours without objects.
			changes, err := one.Changes(ctx, db, at("2024-12-31T23:00:00.000Z"), at("2025-01-01T00:30:00.000Z"))
			if err != nil || len(changes) != 3 || changes[0].Bookmark != changelog.Bookmark(bm(2)) || changes[2].Doc.Name != "Ann C" {
				t.Errorf("Changes = %+v, %v", changes, err)
			}
			if changes, err := one.Changes(ctx, db, at("2030-01-01T00:00:00.000Z"), at("2030-01-01T05:00:00.000Z")); err != nil || len(changes) != 0 {
				t.Errorf("Changes in an empty folder = %+v, %v", changes, err)
			}

			// Every store: room-1's and 2025-01-01's users are documents of their own.
			state, err := personLake{Lake: Lake{Root: dir}}.StateAt(ctx, db, at("2025-01-01T02:00:00.000Z"))
			if got, want := names(state), []string{"2025-01-01=Date-like", "user-123=Ann in room-1", "user-123=Ann again", "user-456=Bob"}; err != nil || !slices.Equal(got, want) {
				t.Errorf("StateAt over every store = %v, %v; want %v", got, err, want)
			}
		})
	}
}

// TestCollectionColumns: the meta columns' names and types, then the
// caller's, whatever the session's zone.
func TestCollectionColumns(t *testing.T) {
	dir := collectionLake(t)
	db := openDuckDB(t, "Asia/Tokyo")
	q, err := personLake{Lake: Lake{Root: dir, DOID: users.ID}}.HistorySQL("user-123")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range mustQuery(t, db, "DESCRIBE "+q) {
		got = append(got, r["column_name"].(string)+" "+r["column_type"].(string))
	}
	want := []string{"_op VARCHAR", "_ts TIMESTAMP", "_bookmark VARCHAR", "_doc_id VARCHAR", "_store VARCHAR",
		"_doc VARCHAR", "_prev VARCHAR", "name VARCHAR", "role VARCHAR"}
	if !slices.Equal(got, want) {
		t.Errorf("columns:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCollectionEmptyLake: a lake without objects gives no rows, not
// DuckDB's "No files found".
func TestCollectionEmptyLake(t *testing.T) {
	ctx := context.Background()
	db := openDuckDB(t, "")
	l := personLake{Lake: Lake{Root: t.TempDir(), DOID: "store-1"}}
	if hist, err := l.History(ctx, db, "u1"); err != nil || len(hist) != 0 {
		t.Errorf("History: %v, %v", hist, err)
	}
	if state, err := l.StateAt(ctx, db, time.Now()); err != nil || len(state) != 0 {
		t.Errorf("StateAt: %v, %v", state, err)
	}
	if state, err := l.StateAtBookmark(ctx, db, changelog.BookmarkFromSeq(1)); err != nil || len(state) != 0 {
		t.Errorf("StateAtBookmark: %v, %v", state, err)
	}
	if changes, err := l.Changes(ctx, db, time.Time{}, time.Now()); err != nil || len(changes) != 0 {
		t.Errorf("Changes: %v, %v", changes, err)
	}
	// A builder's error comes back as is, and nothing runs.
	if _, err := l.History(ctx, nil, ""); !isOption(err, "docID") {
		t.Errorf("bad docID: %v", err)
	}
	if _, err := l.StateAtBookmark(ctx, nil, ""); !isOption(err, "bookmark") {
		t.Errorf("bad bookmark: %v", err)
	}
}
