package kinds

// This test is not part of the golden input: gen's TestGoldenRuntime runs
// it with an overlay that puts it, and the expected events_gen.go, into
// ../input. It checks that a filter on each kind of generated field finds
// exactly the document it should on a real store, and that the lake
// queries type every kind of field on real DuckDB.

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/query"
)

func TestEveryKind(t *testing.T) {
	ctx := context.Background()
	store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := NewEverythingCollection(store)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 1, 15, 14, 40, 0, 0, time.UTC)
	a := Everything{
		String: "apple", Bool: true, Int: -1, Int8: -8, Int16: 16, Int32: 32, Int64: 1 << 40,
		Uint: 1, Uint8: 8, Uint16: 16, Uint32: 32, Uint64: 1 << 62, Uintptr: 7, Float32: 1.5, Float64: 2.25,
		Byte: 'b', Rune: 'é', Time: t0, Duration: time.Second, Raw: json.RawMessage(`{"k":[1,2]}`),
		Addr: netip.MustParseAddr("10.0.0.1"), Level: 3, Alias: "alias-a",
		Strings: []string{"x", "y"}, Bytes: []byte("hi"), Array: [3]int{1, 2, 3}, Map: map[string]int{"b": 2, "a": 1},
		Nested: map[string][]bool{"t": {true}}, Matrix: [][]float64{{1, 2}, {3}},
		Pairs: []Pair[string, int]{{"k", 1}}, Pair: Pair[string, Level]{"pk", 9},
		Tree:  Node{Label: "root", Children: []Node{{Label: "leaf"}}},
		NoTag: "plain", OnlyOptions: "opt", BadTagName: "bad", Dashed: "dash", Indexed: "ix-a",
	}
	a.Anon.X = 5
	a.AnonList = []struct {
		Z string `json:"z"`
	}{{"z1"}}
	b := Everything{
		String: "banana", Int: 1, Int8: 8, Int64: 1, Uint64: 1, Float32: 0.5, Byte: 'a', Rune: 'e', Time: t0.Add(time.Hour),
		Duration: time.Millisecond, Raw: json.RawMessage(`"text"`), Addr: netip.MustParseAddr("::1"), Level: 1,
		Alias: "other", Pair: Pair[string, Level]{"pb", 1}, Tree: Node{Label: "solo"}, Indexed: "ix-b",
	}
	if err := c.PutMany(ctx, []cdc.Entry[Everything]{{ID: "a", Doc: a}, {ID: "b", Doc: b}}); err != nil {
		t.Fatal(err)
	}
	t.Run("lake", func(t *testing.T) { checkLake(t, store, a, b) })
	w := EverythingWhere
	for name, f := range map[string]cdc.Filter{
		"String":      w.String.HasPrefix("app"),
		"Bool":        w.Bool.Eq(true),
		"Int":         w.Int.Lt(0),
		"Int8":        w.Int8.Lte(-8),
		"Int16":       w.Int16.Eq(16),
		"Int32":       w.Int32.Gt(0),
		"Int64":       w.Int64.Gte(1 << 40),
		"Uint":        w.Uint.Eq(1),
		"Uint8":       w.Uint8.In(8, 9),
		"Uint16":      w.Uint16.Gt(1),
		"Uint32":      w.Uint32.Ne(0),
		"Uint64":      w.Uint64.Gt(1 << 61),
		"Uintptr":     w.Uintptr.Eq(7),
		"Float32":     w.Float32.Gt(1.25),
		"Float64":     w.Float64.Eq(2.25),
		"Byte":        w.Byte.Gt('a'),
		"Rune":        w.Rune.Eq('é'),
		"Time":        w.Time.Lt(t0.Add(time.Minute)),
		"Duration":    w.Duration.Gte(time.Second),
		"Raw":         w.Raw.Eq(json.RawMessage(`{"k":[1,2]}`)),
		"Addr":        w.Addr.Eq(netip.MustParseAddr("10.0.0.1")),
		"Level":       w.Level.Gt(2),
		"Alias":       w.Alias.Contains("-a"),
		"Strings":     w.Strings.Eq([]string{"x", "y"}),
		"Strings nil": w.Strings.NotNull(),
		"Bytes":       w.Bytes.Eq([]byte("hi")),
		"Array":       w.Array.Eq([3]int{1, 2, 3}),
		"Map":         w.Map.Eq(map[string]int{"a": 1, "b": 2}),
		"Nested":      w.Nested.Eq(map[string][]bool{"t": {true}}),
		"Matrix":      w.Matrix.Eq([][]float64{{1, 2}, {3}}),
		"Pairs":       w.Pairs.Eq([]Pair[string, int]{{"k", 1}}),
		"Pair":        w.Pair.Eq(Pair[string, Level]{"pk", 9}),
		"Pair.Key":    w.Pair.Key.Eq("pk"),
		"Pair.Value":  w.Pair.Value.Gt(5),
		"Tree.Label":  w.Tree.Label.Eq("root"),
		"Children":    w.Tree.Children.NotNull(),
		"Parent":      w.Tree.Parent.IsNull(), // both: no parent; and-ed below
		"Anon.X":      w.Anon.X.Eq(5),
		"AnonList": w.AnonList.Eq([]struct {
			Z string `json:"z"`
		}{{"z1"}}),
		"NoTag":       w.NoTag.Eq("plain"),
		"OnlyOptions": w.OnlyOptions.Eq("opt"),
		"BadTagName":  w.BadTagName.Eq("bad"),
		"Dashed":      w.Dashed.Eq("dash"),
		"Indexed":     w.Indexed.HasPrefix("ix-a"),
	} {
		if name == "Parent" {
			f = cdc.And(f, w.Tree.Label.Eq("root"))
		}
		ids, err := c.FindEntries(ctx, f, cdc.FindOptions{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(ids) != 1 || ids[0].ID != "a" {
			t.Errorf("%s matched %d documents, want only a", name, len(ids))
		}
	}
}

// checkLake writes the store's change log to a lake and reads the state
// back with DuckDB: the column types, some values, and the documents.
func checkLake(t *testing.T, store *cdc.Store, a, b Everything) {
	ctx := context.Background()
	raws, err := store.ChangesAfter(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	id := events.Identity{ID: "kinds"}
	var encoded []lakewrite.EncodedEvent
	for i, r := range raws {
		ev := events.CollectionChange{Type: r.Op.EventType(), TS: r.TS, DO: id, Collection: r.Collection, DocID: r.DocID, Doc: r.Doc, Bookmark: string(r.Bookmark)}
		data, err := ev.AppendJSON(nil, events.Envelope{ID: string(r.Bookmark)})
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, lakewrite.EncodedEvent{TS: r.TS, Seq: uint64(i + 1), JSON: data})
	}
	root := filepath.Join(t.TempDir(), "lake")
	if _, err := lakewrite.WriteEvents(ctx, lake.Dir(root), id, encoded); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := EverythingLake{Lake: query.Lake{Root: root, DOID: "kinds"}}
	state, err := q.StateAt(ctx, db, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(state) != 2 || !sameJSON(t, state[0].Doc, a) || !sameJSON(t, state[1].Doc, b) {
		t.Errorf("state: %+v", state)
	}
	query, err := q.StateAtSQL(time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, ct := range cts {
		types[ct.Name()] = ct.DatabaseTypeName()
	}
	for col, want := range map[string]string{
		"string": "VARCHAR", "bool": "BOOLEAN", "int8": "BIGINT", "uint64": "UBIGINT", "float32": "DOUBLE",
		"time": "TIMESTAMP", "duration": "BIGINT", "raw": "JSON", "addr": "VARCHAR", "level": "BIGINT",
		"strings": "VARCHAR[]", "bytes": "VARCHAR", "array": "BIGINT[]", "map": "MAP(VARCHAR, BIGINT)",
		"nested_map": "MAP(VARCHAR, BOOLEAN[])", "matrix": "DOUBLE[][]", "Pairs": `STRUCT("key" VARCHAR, "value" BIGINT)[]`,
		// JSON inside a STRUCT or LIST holds JSON text, but DuckDB names it VARCHAR.
		"tree": `STRUCT("label" VARCHAR, "children" VARCHAR[], "parent" VARCHAR)`, "anon": `STRUCT("x" BIGINT, "y" BIGINT)`,
		"-": "VARCHAR", "excluded": "JSON",
	} {
		if types[col] != want {
			t.Errorf("column %s is %s, want %s", col, types[col], want)
		}
	}
	if !rows.Next() {
		t.Fatal("no row")
	}
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for i, ct := range cts {
		got[ct.Name()] = vals[i]
	}
	for col, want := range map[string]any{
		"string": "apple", "bool": true, "int8": int64(-8), "uint64": uint64(1 << 62), "float32": 1.5,
		"time": a.Time, "duration": int64(time.Second), "addr": "10.0.0.1", "bytes": "aGk=",
		"strings": []any{"x", "y"}, "array": []any{int64(1), int64(2), int64(3)}, "matrix": []any{[]any{1.0, 2.0}, []any{3.0}},
		"anon": map[string]any{"x": int64(5), "y": nil}, "-": "dash",
	} {
		if !reflect.DeepEqual(got[col], want) {
			t.Errorf("column %s = %#v, want %#v", col, got[col], want)
		}
	}
	if names := slices.Sorted(func(yield func(string) bool) {
		for k := range types {
			if !yield(k) {
				return
			}
		}
	}); len(names) != 7+40 {
		t.Errorf("%d columns: %v", len(names), names)
	}
}

func sameJSON(t *testing.T, x, y Everything) bool {
	t.Helper()
	a, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(y)
	if err != nil {
		t.Fatal(err)
	}
	return string(a) == string(b)
}
