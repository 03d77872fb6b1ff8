package query

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/lake"
)

// compactFixture is the fixture lake plus what compaction must keep exact:
// upstream objects of events without ids (two identical lines count twice),
// events that do not fit the Parquet columns (kept whole), and an event
// stored twice (a retry under another key, counted once).
func compactFixture(t *testing.T) string {
	t.Helper()
	root, _ := writeFixture(t)
	write := func(key, body string) {
		p := filepath.Join(root, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	track := `{"type":"track","ts":"2024-01-15T14:50:00.000Z","do":{"id":"room-1","class":"ChatRoom"},"event":"click","properties":{"x":1}}`
	write("events/2024/01/15/14/room-1_1705330200000.jsonl", track+"\n"+track+"\n"+
		`{"type":"rpc.call","ts":"2024-01-15T14:51:00.000Z","do":{"id":"room-1","class":"ChatRoom"},"method":"sendMessage","durationMs":11,"success":true}`)
	write("events/2025/01/01/00/_w-up_1_00000000000000000001_0000000000000000.jsonl",
		`{"type":"rpc.call","ts":"2025-01-01T00:20:00.000123Z","do":{"id":"room-1","class":"ChatRoom","extra":1},"id":"o1","method":"sendMessage","durationMs":"12","success":"yes","code":"x"}`+"\n"+
			`{"type":"collection.insert","ts":"2025-01-01T00:21:00.000Z","do":{"id":"users-1","class":"UserService","colo":"AMS"},"id":"w-c99","collection":"users","docId":"user-9","doc":{"name":"Zed"},"bookmark":"00000000000000000099","collection":"users"}`+"\n")
	// e13 again, in a many-store object (a retried batch).
	write("events/2025/01/01/00/_w-up_2_00000000000000000002_0000000000000000.jsonl",
		`{"type":"collection.update","ts":"2025-01-01T00:00:00.000Z","do":{"id":"users-1","class":"UserService","colo":"AMS"},"id":"e13","collection":"users","docId":"user-123","doc":{"name":"Ann B","role":"admin"},"prev":{"name":"Ann","role":"admin"},"bookmark":"00000000000000000003"}`+"\n")
	return root
}

// builderQueries are every builder's SQL over root, by name.
func builderQueries(t *testing.T, root string) map[string]string {
	t.Helper()
	jan := &DateRange{Start: at("2024-01-01T00:00:00.000Z"), End: at("2024-01-31T23:59:59.999Z")}
	newYear := &DateRange{Start: at("2024-12-31T23:00:00.000Z"), End: at("2025-01-01T00:59:59.999Z")}
	l := Lake{Root: root}
	qs := map[string]string{}
	add := func(name string, q string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		qs[name] = q
	}
	q, err := Build(Options{Root: root})
	add("Build", q, err)
	q, err = Build(Options{Root: root, DateRange: jan, DOClass: "ChatRoom", EventTypes: []string{"rpc.call"}})
	add("Build jan", q, err)
	q, err = Build(Options{Root: root, DOID: "users-1", DateRange: newYear})
	add("Build store new year", q, err)
	q, err = History(HistoryOptions{Root: root, Collection: "users", DocID: "user-123"})
	add("History", q, err)
	q, err = History(HistoryOptions{Root: root, Collection: "users", DocID: "user-123", DOID: "users-1"})
	add("History store", q, err)
	q, err = Latency(LatencyOptions{Root: root})
	add("Latency", q, err)
	q, err = Latency(LatencyOptions{Root: root, DateRange: jan, DOClass: "ChatRoom"})
	add("Latency jan", q, err)
	q, err = PITRRange(PITROptions{Root: root, DOID: "users-1", StartBookmark: bm(1), EndBookmark: bm(99)})
	add("PITRRange", q, err)
	q, err = historySQL(l, "users", "", "user-123")
	add("Collection.History", q, err)
	q, err = stateAtSQL(l, "users", "", at("2025-01-01T00:45:00.000Z"))
	add("Collection.StateAt", q, err)
	q, err = stateAtBookmarkSQL(Lake{Root: root, DOID: "users-1"}, "users", "", "00000000000000000004")
	add("Collection.StateAtBookmark", q, err)
	q, err = changesSQL(l, "users", "", at("2024-12-31T00:00:00.000Z"), at("2025-01-01T02:00:00.000Z"))
	add("Collection.Changes", q, err)
	src, err := Source(SourceOptions{Root: root, Columns: []Column{{Name: "doc", Type: "STRUCT(name VARCHAR, role VARCHAR)"}, {Name: "code", Type: "VARCHAR"}}})
	add("Source typed", "SELECT * FROM "+src+" AS e", err)
	return qs
}

// rowsOf runs every query and returns each one's rows as sorted text.
func rowsOf(t *testing.T, db *sql.DB, qs map[string]string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, q := range qs {
		out[name] = rowText(mustQuery(t, db, q))
	}
	return out
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// rowText returns rows as sorted text, one line a row.
func rowText(rows []row) []string {
	var rs []string
	for _, r := range rows {
		keys := slices.Sorted(maps.Keys(r))
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%v ", k, r[k])
		}
		rs = append(rs, b.String())
	}
	slices.Sort(rs)
	return rs
}

// sameRows fails unless got holds exactly want's rows for every query.
func sameRows(t *testing.T, step string, got, want map[string][]string) {
	t.Helper()
	for name, w := range want {
		if !slices.Equal(got[name], w) {
			t.Errorf("%s: %s: %d rows, want %d\n got: %q\nwant: %q", step, name, len(got[name]), len(w), got[name], w)
		}
	}
}

// copyLake copies the lake folder src to a new folder.
func copyLake(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	copyDir(t, src, dst)
	return dst
}

// files returns the lake's object keys under events/ with suffix.
func files(t *testing.T, root, suffix string) []string {
	t.Helper()
	objs, err := lake.ListAll(context.Background(), lake.Dir(root), lakeformat.Root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		if strings.HasSuffix(o.Key, suffix) {
			out = append(out, o.Key)
		}
	}
	return out
}

// TestCompactSameRows: every builder, the generated per-collection queries
// and a typed Source return exactly the same rows before a compaction,
// after it, after a crash between its steps (outputs stored, any part of
// the inputs removed), with two compactions' outputs at once, with a late
// event, and after the next Compact.
func TestCompactSameRows(t *testing.T) {
	root := compactFixture(t)
	db := openDuckDB(t, "")
	ctx := context.Background()
	before := rowsOf(t, db, builderQueries(t, root))
	for _, name := range []string{"Build", "History", "Latency", "PITRRange"} {
		if len(before[name]) == 0 {
			t.Fatalf("%s has no rows before compaction", name)
		}
	}
	// Compact a copy: its outputs, put beside all the inputs, are the lake
	// of a Compact that crashed before it removed anything.
	cut := at("2025-01-01T01:00:00.000Z")
	done := copyLake(t, root)
	res, err := lake.Compact(ctx, lake.Dir(done), lake.CompactOptions{Before: cut})
	if err != nil {
		t.Fatal(err)
	}
	if res.Partitions < 2 || res.ObjectsOut < 2 {
		t.Fatalf("compaction %+v", res)
	}
	sameRows(t, "after", rowsOf(t, db, builderQueries(t, done)), before)

	crashed := copyLake(t, root)
	outputs := files(t, done, lakeformat.Parquet)
	for _, k := range outputs {
		put(t, crashed, k, done)
	}
	sameRows(t, "outputs and every input", rowsOf(t, db, builderQueries(t, crashed)), before)
	inputs := files(t, crashed, lakeformat.JSONL)
	for i, k := range inputs {
		if _, err := os.Stat(filepath.Join(done, filepath.FromSlash(k))); err == nil {
			continue // not compacted
		}
		if i%2 == 0 {
			if err := lake.Dir(crashed).Delete(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
	}
	sameRows(t, "outputs and half the inputs", rowsOf(t, db, builderQueries(t, crashed)), before)

	// A second compaction's outputs beside the first's.
	twice := copyLake(t, root)
	if _, err := lake.Compact(ctx, lake.Dir(twice), lake.CompactOptions{Before: cut, ObjectBytes: 3000}); err != nil {
		t.Fatal(err)
	}
	for _, k := range outputs {
		put(t, twice, k, done)
	}
	sameRows(t, "two compactions' outputs", rowsOf(t, db, builderQueries(t, twice)), before)
	if _, err := lake.Compact(ctx, lake.Dir(twice), lake.CompactOptions{Before: cut}); err != nil {
		t.Fatal(err)
	}
	sameRows(t, "compacted again", rowsOf(t, db, builderQueries(t, twice)), before)

	// A late event into a compacted hour is read, and folded in later.
	late := `{"type":"rpc.call","ts":"2024-01-15T14:55:00.000Z","do":{"id":"room-1","class":"ChatRoom"},"id":"late1","method":"sendMessage","durationMs":1,"success":true}` + "\n"
	for _, r := range []string{root, done} {
		key := lakeformat.StoreKey(at("2024-01-15T14:55:00.000Z"), "room-1", 1, 999, "1111111111111111")
		if err := lake.Dir(r).Put(ctx, key, strings.NewReader(late), lake.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	withLate := rowsOf(t, db, builderQueries(t, root))
	sameRows(t, "late event", rowsOf(t, db, builderQueries(t, done)), withLate)
	if _, err := lake.Compact(ctx, lake.Dir(done), lake.CompactOptions{Before: cut}); err != nil {
		t.Fatal(err)
	}
	for _, k := range files(t, done, lakeformat.JSONL) {
		if k < "events/2025/01/01/01/" {
			t.Errorf("input left after the next Compact: %s", k)
		}
	}
	sameRows(t, "late event folded in", rowsOf(t, db, builderQueries(t, done)), withLate)
}

// put copies the object at key from the lake folder from to the lake
// folder root.
func put(t *testing.T, root, key, from string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(from, filepath.FromSlash(key)))
	if err != nil {
		t.Fatal(err)
	}
	if err := lake.Dir(root).Put(context.Background(), key, strings.NewReader(string(data)), lake.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestSameIDOtherStore: event ids are the sender's to choose, so an id
// counts once per store, never across stores: another tenant's event with
// the same id never hides this one's, before or after a compaction, while
// the same store's copy (a retry) still counts once.
func TestSameIDOtherStore(t *testing.T) {
	root := t.TempDir()
	line := func(store string) string {
		return `{"type":"order.paid","ts":"2025-03-01T10:00:00.000Z","do":{"id":"` + store + `"},"id":"dup"}` + "\n"
	}
	put := func(key, body string) {
		p := filepath.Join(root, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("events/2025/03/01/10/_w-a_1_00000000000000000001_0000000000000000.jsonl", line("tenant-a")+line("tenant-b"))
	put("events/2025/03/01/10/_w-a_2_00000000000000000002_0000000000000001.jsonl", line("tenant-a"))
	if err := lake.EnsurePlaceholders(context.Background(), lake.Dir(root)); err != nil { // as every writer does
		t.Fatal(err)
	}
	db := openDuckDB(t, "")
	count := func(step string) {
		t.Helper()
		q, err := Build(Options{Root: root, EventTypes: []string{"order.paid"}})
		if err != nil {
			t.Fatal(err)
		}
		stores := map[string]int{}
		for _, r := range mustQuery(t, db, q) {
			stores[fmt.Sprint(r["do"].(map[string]any)["id"])]++
		}
		if len(stores) != 2 || stores["tenant-a"] != 1 || stores["tenant-b"] != 1 {
			t.Fatalf("%s: rows per store %v, want one each", step, stores)
		}
	}
	count("before compaction")
	if _, err := lake.Compact(context.Background(), lake.Dir(root), lake.CompactOptions{Before: at("2025-03-02T00:00:00.000Z")}); err != nil {
		t.Fatal(err)
	}
	if n := len(files(t, root, lakeformat.Parquet)); n == 0 {
		t.Fatal("nothing compacted")
	}
	count("after compaction")
}

// TestQueryDuringCompact: the builders' SQL run while Compact writes its
// outputs and removes its inputs either gives exactly the rows of before
// the compaction or fails with DuckDB's error naming the object that went
// away; never other rows. The lake has hundreds of small objects so the
// compaction lasts several queries.
func TestQueryDuringCompact(t *testing.T) {
	root := compactFixture(t)
	ctx := context.Background()
	b := lake.Dir(root)
	start := at("2024-02-01T00:00:00.000Z")
	for i := range 600 {
		ts := start.Add(time.Duration(i) * 2 * time.Minute)
		var body strings.Builder
		for j := range 3 {
			fmt.Fprintf(&body, `{"type":"rpc.call","ts":%q,"do":{"id":"room-%d","class":"ChatRoom"},"id":"q%d-%d","method":"m%d","durationMs":%d,"success":true}`+"\n",
				ts.Add(time.Duration(j)*time.Second).Format("2006-01-02T15:04:05.000Z"), i%7, i, j, i%3, i%50)
		}
		key := lakeformat.StoreKey(ts, fmt.Sprintf("room-%d", i%7), ts.UnixMilli(), uint64(i+1), "0000000000000000")
		if err := b.Put(ctx, key, strings.NewReader(body.String()), lake.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	db := openDuckDB(t, "")
	qs := builderQueries(t, root)
	names := slices.Sorted(maps.Keys(qs))
	before := rowsOf(t, db, qs)
	if len(before["Latency"]) == 0 {
		t.Fatal("no rows before compaction")
	}

	done := make(chan error, 1)
	go func() {
		_, err := lake.Compact(ctx, b, lake.CompactOptions{Before: at("2025-02-01T00:00:00.000Z")})
		done <- err
	}()
	var ok, failed int
	for i := 0; ; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("during the compaction: %d queries gave the same rows, %d failed naming a removed object", ok, failed)
			sameRows(t, "after", rowsOf(t, db, qs), before)
			if n := len(files(t, root, lakeformat.JSONL)); n != 0 {
				t.Errorf("%d JSON Lines objects left after Compact", n)
			}
			return
		default:
		}
		if i >= 10000 {
			t.Fatal("Compact did not end")
		}
		name := names[i%len(names)]
		got, _, err := runQuery(db, qs[name])
		if err != nil {
			// The object was listed, then removed before DuckDB read it.
			if !strings.Contains(err.Error(), root) || !strings.Contains(err.Error(), lakeformat.JSONL) {
				t.Fatalf("%s failed during the compaction without naming a removed object: %v", name, err)
			}
			if failed == 0 {
				t.Logf("%s failed: %v", name, firstLine(err.Error()))
			}
			failed++
			continue
		}
		if text := rowText(got); !slices.Equal(text, before[name]) {
			t.Fatalf("%s during the compaction: %d rows, want %d\n got: %q\nwant: %q", name, len(text), len(before[name]), text, before[name])
		}
		ok++
	}
}
