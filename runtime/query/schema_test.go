package query

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/lake"
)

// TestOptionalFieldsAbsent runs every builder over a lake in which no event
// has any optional field (no bookmark, durationMs, collection, method,
// do.class...): the pinned schema binds them, so the queries run and find
// what is there.
func TestOptionalFieldsAbsent(t *testing.T) {
	root := t.TempDir()
	bare := events.Identity{ID: "bare"}
	writeBatch(t, root, bare, 1, events.Lifecycle{ID: "l1", Type: events.TypeDOCreate, TS: at("2024-03-01T10:00:00.000Z")})
	db := openDuckDB(t, "")
	dr := &DateRange{Start: at("2024-03-01T00:00:00.000Z"), End: at("2024-03-01T23:00:00.000Z")}
	for _, c := range []struct {
		name string
		q    func() (string, error)
		want int
	}{
		{"Build", func() (string, error) { return Build(Options{Root: root, DOClass: "", OrderBy: "bookmark DESC"}) }, 1},
		{"Build by class", func() (string, error) { return Build(Options{Root: root, DOClass: "ChatRoom", DateRange: dr}) }, 0},
		{"Build by collection", func() (string, error) { return Build(Options{Root: root, Collection: "users", Method: "m"}) }, 0},
		{"History", func() (string, error) { return History(HistoryOptions{Root: root, Collection: "users", DocID: "u1"}) }, 0},
		{"Latency", func() (string, error) { return Latency(LatencyOptions{Root: root, DOClass: "ChatRoom", DateRange: dr}) }, 0},
		{"PITRRange", func() (string, error) { return PITRRange(PITROptions{Root: root, DOID: "bare", EndBookmark: bm(9)}) }, 0},
	} {
		q, err := c.q()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rows := mustQuery(t, db, q); len(rows) != c.want {
			t.Errorf("%s: %d rows, want %d: %v", c.name, len(rows), c.want, rows)
		}
	}
}

// TestLateFieldIsRead: with auto-detection, the first files decide the
// schema and a field only later files have can vanish (hence union_by_name).
// With the pinned schema the field is read wherever it is.
func TestLateFieldIsRead(t *testing.T) {
	root := t.TempDir()
	st := events.Identity{ID: "late"}
	for i := range 40 {
		writeBatch(t, root, st, uint64(i+1), events.Lifecycle{ID: fmt.Sprintf("l%02d", i), Type: events.TypeDOAlarm, TS: at("2024-03-01T00:00:00.000Z").Add(time.Duration(i) * time.Hour)})
	}
	writeBatch(t, root, st, 100, events.CollectionChange{ID: "last", Type: events.TypeCollectionInsert, TS: at("2024-03-05T00:00:00.000Z"),
		Collection: "users", DocID: "u1", Doc: []byte(`{"a":1}`), Bookmark: bm(1)})
	q, err := PITRRange(PITROptions{Root: root, DOID: "late", EndBookmark: bm(1)})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(mustQuery(t, openDuckDB(t, ""), q)); !slices.Equal(got, []string{"last"}) {
		t.Fatalf("ids = %q", got)
	}
}

// TestCustomColumns reads custom fields with Options.Columns, including one
// whose name and type need quoting and a replaced event column type.
func TestCustomColumns(t *testing.T) {
	root, _ := writeFixture(t)
	db := openDuckDB(t, "")
	q, err := Build(Options{Root: root, DOID: "odd_id/ü'", EventTypes: []string{"user.action"}, Columns: []Column{
		{Name: "code", Type: "VARCHAR"},             // an event column, read as text instead
		{Name: "extra", Type: `struct("a" bigint)`}, // a custom object
	}})
	if err != nil {
		t.Fatal(err)
	}
	rows := mustQuery(t, db, q)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r["code"] != "not-a-number" || r["userId"] != "u-9" || fmt.Sprint(r["extra"]) != "map[a:1]" {
		t.Fatalf("row = %v", r)
	}
	if _, ok := r["filename"]; ok {
		t.Errorf("the file path column leaks into the rows: %v", r)
	}
}

// TestNoFiles: a range whose folder holds no object is an empty result
// (DESIGN rule 3: the lake keeps placeholder objects for DuckDB's globs),
// and HasFiles says it has no object; a range whose folder has objects, none
// in range, is an empty result too. A lake without the placeholders (one no
// writer of this module wrote) is DuckDB's "No files found", which
// IsNoFiles recognises.
func TestNoFiles(t *testing.T) {
	root, _ := writeFixture(t)
	db := openDuckDB(t, "")
	ctx := context.Background()
	b := lake.Dir(root)

	empty := &DateRange{Start: at("2023-06-01T00:00:00.000Z"), End: at("2023-06-02T00:00:00.000Z")}
	q, err := Build(Options{Root: root, DateRange: empty})
	if err != nil {
		t.Fatal(err)
	}
	if rows := mustQuery(t, db, q); len(rows) != 0 {
		t.Fatalf("query over a folder without objects: %d rows", len(rows))
	}
	bare, _ := Build(Options{Root: t.TempDir()})
	if _, _, err := runQuery(db, bare); !IsNoFiles(err) {
		t.Errorf("lake without placeholders: %v; want a no-files error", err)
	}
	if ok, err := HasFiles(ctx, b, empty); ok || err != nil {
		t.Errorf("HasFiles(empty) = %v, %v", ok, err)
	}

	quiet := &DateRange{Start: at("2025-01-01T05:00:00.000Z"), End: at("2025-01-01T06:00:00.000Z")}
	if ok, err := HasFiles(ctx, b, quiet); !ok || err != nil {
		t.Errorf("HasFiles(quiet hours of a day with objects) = %v, %v", ok, err)
	}
	q, _ = Build(Options{Root: root, DateRange: quiet})
	if rows := mustQuery(t, db, q); len(rows) != 0 {
		t.Errorf("quiet hours: %d rows", len(rows))
	}
	for _, dr := range []*DateRange{nil, {Start: at("2024-12-31T00:00:00.000Z"), End: at("2025-01-01T00:00:00.000Z")}} {
		if ok, err := HasFiles(ctx, b, dr); !ok || err != nil {
			t.Errorf("HasFiles(%v) = %v, %v", dr, ok, err)
		}
	}
	if ok, err := HasFiles(ctx, lake.Dir(t.TempDir()), nil); ok || err != nil {
		t.Errorf("HasFiles(empty lake) = %v, %v", ok, err)
	}
	if _, err := HasFiles(ctx, b, &DateRange{}); !isOption(err, "DateRange.Start") {
		t.Errorf("HasFiles(bad range) = %v", err)
	}
	if IsNoFiles(nil) || IsNoFiles(fmt.Errorf("other")) {
		t.Error("IsNoFiles misclassifies")
	}
}
