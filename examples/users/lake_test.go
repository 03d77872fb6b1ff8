package users_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the DuckDB driver, for tests only

	"github.com/dotdo/events"
	"github.com/dotdo/events/examples/users"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/query"
)

// lakeFixture is a lake written by the runtime's lake writer from the
// change logs of two stores, with the event time of each change.
type lakeFixture struct {
	root string
	// times and bookmarks of store-1's changes, in order.
	times     []time.Time
	bookmarks []cdc.Bookmark
}

// lt0 is the time of the first change; changes are 50 minutes apart, so
// they span hours, a day and (from Dec 31) a month and a year.
var lt0 = time.Date(2024, 12, 31, 21, 40, 0, 0, time.UTC)

// writeStore makes a store, runs script on its users (and teams), and
// writes its change log to the lake under id, the i-th change at
// lt0+offset+i×50min. It returns the times and bookmarks.
func writeStore(t *testing.T, root, id string, offset time.Duration, script func(ctx context.Context, people *users.UserCollection, teams *users.TeamCollection)) ([]time.Time, []cdc.Bookmark) {
	t.Helper()
	ctx := context.Background()
	store, people, teams := open(t)
	script(ctx, people, teams)
	raws, err := store.ChangesAfter(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	ident := events.Identity{ID: id, Class: "UserStore"}
	var encoded []lakewrite.EncodedEvent
	var times []time.Time
	var bookmarks []cdc.Bookmark
	for i, r := range raws {
		ts := lt0.Add(offset + time.Duration(i)*50*time.Minute)
		ev := events.CollectionChange{
			Type: r.Op.EventType(), TS: ts, DO: ident, ID: fmt.Sprintf("%s-%d", id, i),
			Collection: r.Collection, DocID: r.DocID, Doc: r.Doc, Prev: r.Prev, Bookmark: string(r.Bookmark),
		}
		data, err := ev.AppendJSON(nil, events.Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, lakewrite.EncodedEvent{TS: ts, Seq: uint64(i + 1), JSON: data})
		if r.Collection == "users" {
			times = append(times, ts)
			bookmarks = append(bookmarks, r.Bookmark)
		}
	}
	// Events of other kinds share the files: their fields must not matter.
	rpc := events.RPCCall{Method: "getUser", DurationMs: 3, Success: true, TS: lt0.Add(time.Minute), DO: ident}
	custom := events.Custom{Type: "user.action", TS: lt0.Add(2 * time.Minute), DO: ident,
		Fields: map[string]any{"doc": "not a document", "filename": "x", "collection": "users"}}
	for i, ev := range []events.Event{rpc, custom} {
		data, err := ev.AppendJSON(nil, events.Envelope{ID: fmt.Sprintf("%s-other-%d", id, i)})
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, lakewrite.EncodedEvent{TS: ev.EventTime(), Seq: uint64(1000 + i), JSON: data})
	}
	if _, err := lakewrite.WriteEvents(ctx, lake.Dir(root), ident, encoded); err != nil {
		t.Fatal(err)
	}
	return times, bookmarks
}

var (
	annV1 = users.User{Name: "Ann", Email: "ann@x", Role: users.RoleAdmin, Active: true, Age: 41,
		Joined: time.Date(2024, 3, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600)), Tags: []string{"a", "b"},
		Address: users.Address{City: "Oslo", Country: "NO"}}
	annV2 = func() users.User { u := annV1; u.Age = 42; u.Manager = ptr("bob"); return u }()
	annV3 = users.User{Name: "Ann again", Email: "ann@y", Role: users.RoleMember}
	bob   = users.User{Name: "Bob", Email: "bob@x", Role: users.RoleMember, Address: users.Address{Street: "Main St 1", City: "Bergen"}}
)

// newLake writes the fixture: store-1 inserts u1, updates it, inserts bob,
// deletes u1 and inserts it again; store-2 has its own u1.
func newLake(t *testing.T) lakeFixture {
	t.Helper()
	root := filepath.Join(t.TempDir(), "lake")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	times, bookmarks := writeStore(t, root, "store-1", 0, func(ctx context.Context, people *users.UserCollection, teams *users.TeamCollection) {
		must(people.Put(ctx, "u1", annV1))                                            // 0: 21:40 Dec 31
		must(people.Put(ctx, "u1", annV2))                                            // 1: 22:30
		must(teams.Put(ctx, "t1", users.Team{Name: "core", Members: []string{"u1"}})) // (teams)
		must(people.Put(ctx, "it's", bob))                                            // 2: 00:10 Jan 1
		_, err := people.Delete(ctx, "u1")                                            // 3: 01:00
		must(err)
		must(people.Put(ctx, "u1", annV3)) // 4: 01:50
	})
	writeStore(t, root, "store-2", 10*time.Minute, func(ctx context.Context, people *users.UserCollection, _ *users.TeamCollection) {
		must(people.Put(ctx, "u1", users.User{Name: "Other Ann"}))
	})
	return lakeFixture{root: root, times: times, bookmarks: bookmarks}
}

// openDuckDB opens an in-memory DuckDB with one connection, in zone tz.
func openDuckDB(t *testing.T, tz string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(fmt.Sprintf("SET TimeZone = '%s'", tz)); err != nil {
		t.Fatal(err)
	}
	return db
}

func ops(changes []users.UserChange) []cdc.Op {
	out := make([]cdc.Op, len(changes))
	for i, c := range changes {
		out[i] = c.Op
	}
	return out
}

func entryNames(entries []cdc.Entry[users.User]) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.ID + "=" + e.Doc.Name
	}
	return out
}

// TestLakeQueries runs every generated DuckDB query on a lake the runtime
// wrote, in three session time zones.
func TestLakeQueries(t *testing.T) {
	fx := newLake(t)
	for _, tz := range []string{"UTC", "America/Los_Angeles", "Asia/Tokyo"} {
		t.Run(tz, func(t *testing.T) {
			ctx := context.Background()
			db := openDuckDB(t, tz)
			q := users.UserLake{Lake: query.Lake{Root: fx.root, DOID: "store-1"}}

			hist, err := q.History(ctx, db, "u1")
			if err != nil {
				t.Fatal(err)
			}
			if want := []cdc.Op{cdc.OpInsert, cdc.OpUpdate, cdc.OpDelete, cdc.OpInsert}; !slices.Equal(ops(hist), want) {
				t.Fatalf("history ops %v, want %v", ops(hist), want)
			}
			h := hist[1]
			if h.DocID != "u1" || h.Collection != "users" || h.Bookmark != fx.bookmarks[1] || !h.TS.Equal(fx.times[1]) ||
				!sameJSON(t, *h.Prev, annV1) || !sameJSON(t, *h.Doc, annV2) {
				t.Errorf("update in history: %+v", h)
			}
			if hist[2].Doc != nil || hist[2].Prev.Name != "Ann" || hist[3].Prev != nil || hist[3].Doc.Name != "Ann again" {
				t.Errorf("delete and re-insert: %+v %+v", hist[2], hist[3])
			}

			// As of times: before anything, between each change, after all.
			for _, c := range []struct {
				at   time.Time
				want []string
			}{
				{lt0.Add(-time.Second), nil},
				{fx.times[0], []string{"u1=Ann"}},
				{fx.times[1].Add(time.Minute), []string{"u1=Ann"}},
				{fx.times[2], []string{"it's=Bob", "u1=Ann"}},
				{fx.times[3], []string{"it's=Bob"}},
				{fx.times[4].Add(-time.Millisecond), []string{"it's=Bob"}},
				{fx.times[4].In(time.FixedZone("X", -8*3600)), []string{"it's=Bob", "u1=Ann again"}},
			} {
				state, err := q.StateAt(ctx, db, c.at)
				if err != nil {
					t.Fatal(err)
				}
				if got := entryNames(state); !slices.Equal(got, c.want) {
					t.Errorf("StateAt(%v) = %v, want %v", c.at, got, c.want)
				}
			}
			state, err := q.StateAt(ctx, db, fx.times[1])
			if err != nil || len(state) != 1 || !sameJSON(t, state[0].Doc, annV2) {
				t.Errorf("StateAt(update) = %+v, %v", state, err)
			}

			// As of bookmarks.
			for i, want := range [][]string{{"u1=Ann"}, {"u1=Ann"}, {"it's=Bob", "u1=Ann"}, {"it's=Bob"}, {"it's=Bob", "u1=Ann again"}} {
				state, err := q.StateAtBookmark(ctx, db, fx.bookmarks[i])
				if err != nil {
					t.Fatal(err)
				}
				if got := entryNames(state); !slices.Equal(got, want) {
					t.Errorf("StateAtBookmark(%s) = %v, want %v", fx.bookmarks[i], got, want)
				}
			}

			// Changes in a range: half open, across the new year.
			changes, err := q.Changes(ctx, db, fx.times[1], fx.times[3])
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != 2 || changes[0].Bookmark != fx.bookmarks[1] || changes[1].DocID != "it's" {
				t.Errorf("Changes = %+v", changes)
			}

			// Every store: store-2's u1 is a document of its own.
			all := users.UserLake{Lake: query.Lake{Root: fx.root}}
			state, err = all.StateAt(ctx, db, fx.times[4])
			if err != nil {
				t.Fatal(err)
			}
			if got, want := entryNames(state), []string{"it's=Bob", "u1=Ann again", "u1=Other Ann"}; !slices.Equal(got, want) {
				t.Errorf("StateAt over every store = %v, want %v", got, want)
			}
			hist, err = all.History(ctx, db, "u1")
			if err != nil || len(hist) != 5 {
				t.Errorf("History over every store: %d changes, %v", len(hist), err)
			}
		})
	}
}

// sameJSON reports whether two documents encode the same (a decoded time
// has the same instant and offset, but not the same *time.Location).
func sameJSON(t *testing.T, a, b users.User) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(x) == string(y)
}

// TestLakeColumnTypes checks the typed columns of the generated SQL: their
// DuckDB types and values.
func TestLakeColumnTypes(t *testing.T) {
	fx := newLake(t)
	db := openDuckDB(t, "Asia/Tokyo")
	stmt, err := users.UserLake{Lake: query.Lake{Root: fx.root, DOID: "store-1"}}.HistorySQL("u1")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(stmt)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ct := range types {
		got = append(got, ct.Name()+" "+ct.DatabaseTypeName())
	}
	want := []string{
		"_op VARCHAR", "_ts TIMESTAMP", "_bookmark VARCHAR", "_doc_id VARCHAR", "_store VARCHAR", "_doc VARCHAR", "_prev VARCHAR",
		"name VARCHAR", "email VARCHAR", "role VARCHAR", "active BOOLEAN", "age BIGINT", "joined TIMESTAMP", "tags VARCHAR[]",
		`address STRUCT("street" VARCHAR, "city" VARCHAR, "country" VARCHAR)`, "manager VARCHAR",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("columns:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !rows.Next() {
		t.Fatal("no row")
	}
	var (
		op, bookmark, docID, store, doc string
		prev                            sql.NullString
		ts                              time.Time
		name, email, role               string
		active                          bool
		age                             int64
		joined                          time.Time
		tags                            []any
		address                         map[string]any
		manager                         sql.NullString
	)
	if err := rows.Scan(&op, &ts, &bookmark, &docID, &store, &doc, &prev, &name, &email, &role, &active, &age, &joined, &tags, &address, &manager); err != nil {
		t.Fatal(err)
	}
	if op != "insert" || !ts.Equal(fx.times[0]) || bookmark != string(fx.bookmarks[0]) || docID != "u1" || store != "store-1" || prev.Valid {
		t.Errorf("meta: %s %v %s %s %s %v", op, ts, bookmark, docID, store, prev)
	}
	if name != "Ann" || email != "ann@x" || role != "admin" || !active || age != 41 || manager.Valid {
		t.Errorf("scalars: %s %s %s %v %d %v", name, email, role, active, age, manager)
	}
	// 09:30 CET is 08:30 UTC, whatever the session's zone.
	if want := time.Date(2024, 3, 1, 8, 30, 0, 0, time.UTC); !joined.Equal(want) || joined.Location() != time.UTC {
		t.Errorf("joined %v, want %v", joined, want)
	}
	if !reflect.DeepEqual(tags, []any{"a", "b"}) {
		t.Errorf("tags %#v", tags)
	}
	if want := map[string]any{"street": nil, "city": "Oslo", "country": "NO"}; !reflect.DeepEqual(address, want) {
		t.Errorf("address %#v", address)
	}
}

// TestLakeEdges covers an empty lake, bad parameters, and values that would
// break out of a literal.
func TestLakeEdges(t *testing.T) {
	ctx := context.Background()
	db := openDuckDB(t, "UTC")
	empty := users.UserLake{Lake: query.Lake{Root: t.TempDir(), DOID: "store-1"}}
	if hist, err := empty.History(ctx, db, "u1"); err != nil || len(hist) != 0 {
		t.Errorf("empty lake: %v, %v", hist, err)
	}
	if state, err := empty.StateAt(ctx, db, time.Now()); err != nil || len(state) != 0 {
		t.Errorf("empty lake: %v, %v", state, err)
	}

	fx := newLake(t)
	q := users.UserLake{Lake: query.Lake{Root: fx.root, DOID: "store-1"}}
	hist, err := q.History(ctx, db, "it's")
	if err != nil || len(hist) != 1 || hist[0].Doc.Address.Street != "Main St 1" {
		t.Errorf("an id with a quote: %+v, %v", hist, err)
	}
	for _, id := range []string{"x' OR 1=1 --", `"; DROP TABLE x; --`, `\'`, "ünïcode"} {
		if hist, err := q.History(ctx, db, id); err != nil || len(hist) != 0 {
			t.Errorf("History(%q) = %v, %v", id, hist, err)
		}
	}
	odd := users.UserLake{Lake: query.Lake{Root: fx.root, DOID: "store-1' OR '1'='1"}}
	if state, err := odd.StateAt(ctx, db, time.Now()); err != nil || len(state) != 0 {
		t.Errorf("a DOID with quotes: %v, %v", state, err)
	}

	for name, call := range map[string]func() (string, error){
		"empty id":          func() (string, error) { return q.HistorySQL("") },
		"control character": func() (string, error) { return q.HistorySQL("a\nb") },
		"no lake":           func() (string, error) { return users.UserLake{}.HistorySQL("u1") },
		"bad bucket":        func() (string, error) { return users.UserLake{Lake: query.Lake{Bucket: "No_Such"}}.HistorySQL("u1") },
		"glob in root":      func() (string, error) { return users.UserLake{Lake: query.Lake{Root: "/tmp/*"}}.HistorySQL("u1") },
		"bad bookmark":      func() (string, error) { return q.StateAtBookmarkSQL("12") },
		"no DOID": func() (string, error) {
			return users.UserLake{Lake: query.Lake{Root: fx.root}}.StateAtBookmarkSQL(fx.bookmarks[0])
		},
		"reversed range": func() (string, error) { return q.ChangesSQL(fx.times[1], fx.times[0]) },
		"year 10000":     func() (string, error) { return q.StateAtSQL(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) },
	} {
		if _, err := call(); !errors.Is(err, query.ErrInvalidOption) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if sql, err := (users.UserLake{Lake: query.Lake{Bucket: "my-lake"}}).HistorySQL("u1"); err != nil || !strings.Contains(sql, "'r2://my-lake/[e_][ve][em][np]t[sy]/") {
		t.Errorf("bucket: %v %s", err, sql)
	}
}
