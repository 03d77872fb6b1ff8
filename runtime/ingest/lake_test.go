package ingest_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/ingest"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/query"
)

func openDuckDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// counts returns the rows and the distinct ids of every JSONL event in the
// lake folder root, read by DuckDB.
func counts(t testing.TB, db *sql.DB, root string) (rows, ids int64) {
	t.Helper()
	glob := filepath.Join(root, "events", "**", "*.jsonl")
	q := fmt.Sprintf(`SELECT count(*), count(DISTINCT id) FROM read_json('%s', union_by_name=true, columns={'id': 'VARCHAR', 'type': 'VARCHAR'})`, glob)
	if err := db.QueryRow(q).Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	return rows, ids
}

// TestUpstreamFixtures posts batches shaped like the upstream JavaScript
// emitter's (pretty-printed, no batchId, no ids) and checks what the lake
// holds: each event in its own UTC hour's ingest object, compacted, with a
// deterministic id, and the builders find them on DuckDB.
func TestUpstreamFixtures(t *testing.T) {
	dir := t.TempDir()
	hs, b := newServer(t, ingest.Options{Bucket: lake.Dir(dir), Keys: []string{testKey}})
	for _, f := range []string{"upstream_batch.json", "upstream_batch2.json"} {
		if st, body := post(t, hs.URL, testKey, readFixture(t, f)); st != 200 {
			t.Fatalf("%s: %d %v", f, st, body)
		}
	}
	ks := keys(t, b)
	if len(ks) != 3 {
		t.Fatalf("objects %v, want 3 (hours 10 and 11 of the first batch, hour 10 of the second)", ks)
	}
	for _, k := range ks {
		hour, name, _, ok := lakeformat.Parse(k)
		if !ok || !strings.HasPrefix(name, "_i-") || hour.Hour() != 10 && hour.Hour() != 11 {
			t.Errorf("key %s is not an ingest object of hour 10 or 11", k)
		}
	}
	ls := lines(t, b)
	if len(ls) != 6 {
		t.Fatalf("%d events in the lake, want 6", len(ls))
	}
	seen := map[string]bool{}
	for _, l := range ls {
		id, _ := l["id"].(string)
		if !strings.HasPrefix(id, "ih") || seen[id] {
			t.Errorf("event id %q: not an ingest id, or seen twice", id)
		}
		seen[id] = true
	}
	// Every line is compact JSON (the pretty-printed fixture was compacted)
	// and the reader of the lake package reads them all.
	n := 0
	for ev, err := range lake.Events(context.Background(), b, lake.Selection{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		_ = ev
	}
	if n != 6 {
		t.Errorf("lake.Events read %d events, want 6", n)
	}

	db := openDuckDB(t)
	q, err := query.Build(query.Options{Root: dir, DOID: "8f14e45fceea167a5a36dedd4bea2543", EventTypes: []string{"collection.insert", "collection.update"}, OrderBy: "ts ASC"})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT type, \"docId\", CAST(doc AS VARCHAR) FROM (" + q + ")")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var typ, doc, body string
		if err := rows.Scan(&typ, &doc, &body); err != nil {
			t.Fatal(err)
		}
		got = append(got, typ+" "+doc+" "+body)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`collection.insert m-1 {"text":"héllo\nworld","tags":["a","b"],"n":-1500.0}`,
		`collection.update m-1 {"text":"edited"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("query rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestEmitterRoundTrip ships a store's changes and custom events through
// the emitter's HTTP sink to the ingest, then queries them from the lake
// with the builders on DuckDB.
func TestEmitterRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	hs, _ := newServer(t, ingest.Options{Bucket: lake.Dir(dir), Keys: []string{testKey}, Now: time.Now})
	store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	em, err := emitter.New(store, emitter.Options{
		Endpoint:  hs.URL + "/ingest",
		APIKey:    testKey,
		CDC:       true,
		BatchSize: 1000,
		Identity:  events.Identity{ID: "room-7", Class: "ChatRoom"},
	})
	if err != nil {
		t.Fatal(err)
	}
	type msg struct {
		Text string `json:"text"`
	}
	msgs, err := cdc.NewCollection[msg](store, "messages")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if err := msgs.Put(ctx, fmt.Sprintf("m%02d", i), msg{Text: fmt.Sprintf("hello %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := msgs.Put(ctx, "m00", msg{Text: "edited"}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := em.Emit(events.Custom{Type: "room.joined", Fields: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := em.Stats(); st.HTTP.Delivered != 36 {
		t.Fatalf("delivered %d, want 36: %+v", st.HTTP.Delivered, st.HTTP)
	}
	db := openDuckDB(t)
	rows, ids := counts(t, db, dir)
	if rows != 36 || ids != 36 {
		t.Errorf("lake rows %d, distinct ids %d; want 36 and 36", rows, ids)
	}
	q, err := query.History(query.HistoryOptions{Root: dir, DOID: "room-7", Collection: "messages", DocID: "m00"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.Query("SELECT type FROM (" + q + ")")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var types []string
	for r.Next() {
		var typ string
		if err := r.Scan(&typ); err != nil {
			t.Fatal(err)
		}
		types = append(types, typ)
	}
	if len(types) != 2 {
		t.Errorf("history of m00: %v, want an insert and an update", types)
	}
	q, err = query.Build(query.Options{Root: dir, DOID: "room-7", EventTypes: []string{"room.joined"}})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM (" + q + ")").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("%d room.joined events, want 5", n)
	}
}

// TestRetriesCountOnce runs two servers over one lake: both receive the
// same upstream-shaped batches (no batchId, no ids) concurrently and
// repeatedly, and a client whose first response is lost retries. Each
// event is in the lake once: as many rows as distinct ids.
func TestRetriesCountOnce(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	hsA, _ := newServer(t, ingest.Options{Bucket: lake.Dir(dir), Now: time.Now})
	hsB, _ := newServer(t, ingest.Options{Bucket: lake.Dir(dir), Now: time.Now})
	var bodies [][]byte
	for i := range 4 {
		// Batches spanning an hour boundary, one with a batchId.
		start := now.Add(-time.Duration(i+1) * 30 * time.Minute)
		id := ""
		if i == 3 {
			id = "batch-3"
		}
		bodies = append(bodies, batch(id, manyEvents(fmt.Sprintf("store-%d", i), start, 250)...))
	}
	var wg sync.WaitGroup
	for round := range 3 {
		for i, body := range bodies {
			for _, url := range []string{hsA.URL, hsB.URL} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if st, ans := post(t, url, "", body); st != 200 {
						t.Errorf("round %d batch %d: %d %v", round, i, st, ans)
					}
				}()
			}
		}
	}
	wg.Wait()

	// The lost response: the first attempt reaches the server, which
	// writes the batch, but the connection drops before the answer; the
	// client retries on the other server.
	lost := batch("", manyEvents("store-lost", now.Add(-10*time.Minute), 100)...)
	var once sync.Once
	dropper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dropped := false
		once.Do(func() {
			rec := httptest.NewRecorder()
			srvA, _ := ingest.New(ingest.Options{Bucket: lake.Dir(dir)})
			srvA.ServeHTTP(rec, r)
			if rec.Code != 200 {
				t.Errorf("first attempt: %d", rec.Code)
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			dropped = true
		})
		if !dropped {
			http.Error(w, "only once", 500)
		}
	}))
	defer dropper.Close()
	if _, err := http.Post(dropper.URL+"/ingest", "application/json", strings.NewReader(string(lost))); err == nil {
		t.Fatal("the first response was not lost")
	}
	if st, ans := post(t, hsB.URL, "", lost); st != 200 {
		t.Fatalf("retry: %d %v", st, ans)
	}

	db := openDuckDB(t)
	rows, ids := counts(t, db, dir)
	if rows != 1100 || ids != 1100 {
		t.Errorf("lake rows %d, distinct ids %d; want 1100 and 1100", rows, ids)
	}
}

// TestIDsDeterministic checks the ids given to events without one: the
// same for the same body or batchId, different for another.
func TestIDsDeterministic(t *testing.T) {
	idsOf := func(body []byte) []string {
		hs, b := newServer(t, ingest.Options{})
		if st, ans := post(t, hs.URL, "", body); st != 200 {
			t.Fatalf("%d %v", st, ans)
		}
		var ids []string
		for _, l := range lines(t, b) {
			ids = append(ids, l["id"].(string))
		}
		return ids
	}
	at := testNow.Add(-time.Minute)
	spaced := strings.Replace(event("s", at, `"id" : "spaced"`), ",", ",\n  ", -1)
	a := idsOf(batch("", event("s", at, `"n":1`), event("s", at, `"n":2`), event("s", at, `"id":"own"`), spaced, event("s", at, `"n":4`)))
	a2 := idsOf(batch("", event("s", at, `"n":1`), event("s", at, `"n":2`), event("s", at, `"id":"own"`), spaced, event("s", at, `"n":4`)))
	other := idsOf(batch("", event("s", at, `"n":1`), event("s", at, `"n":3`)))
	withID := idsOf(batch("b-1", event("s", at, `"n":1`)))
	withID2 := idsOf(batch("b-1", event("s", at, `"n":9`)))
	if strings.Join(a, ",") != strings.Join(a2, ",") || len(a) != 5 || a[2] != "own" || a[3] != "spaced" || !strings.HasSuffix(a[1], "-1") || !strings.HasSuffix(a[4], "-4") {
		t.Errorf("ids %v and %v", a, a2)
	}
	if other[0] == a[0] {
		t.Errorf("another body got the same id %s", a[0])
	}
	if withID[0] != withID2[0] || !strings.HasPrefix(withID[0], "ib") {
		t.Errorf("ids from a batchId: %v, %v", withID, withID2)
	}
}

// TestEmitterSetsAsideRefusedEvent checks the 400's index works with the
// emitter: an event outside the ts window is refused, the emitter
// dead-letters only it and the others reach the lake once.
func TestEmitterSetsAsideRefusedEvent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	hs, _ := newServer(t, ingest.Options{Bucket: lake.Dir(dir), Now: time.Now, MaxAge: time.Hour})
	store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	em, err := emitter.New(store, emitter.Options{Endpoint: hs.URL + "/ingest", BatchSize: 1000, Identity: events.Identity{ID: "room-9"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		ev := events.Custom{Type: "room.joined", Fields: map[string]any{"n": i}}
		if i == 4 {
			ev.TS = time.Now().Add(-3 * time.Hour) // older than MaxAge
		}
		if err := em.Emit(ev); err != nil {
			t.Fatal(err)
		}
	}
	_ = em.Close(ctx) // reports the dead letter
	st := em.Stats()
	if st.HTTP.Delivered != 9 || st.HTTP.DeadLettered != 1 {
		t.Errorf("delivered %d, dead-lettered %d; want 9 and 1", st.HTTP.Delivered, st.HTTP.DeadLettered)
	}
	ns := map[float64]int{}
	for _, l := range lines(t, lake.Dir(dir)) {
		ns[l["n"].(float64)]++
	}
	if len(ns) != 9 || ns[4] != 0 {
		t.Errorf("lake holds events %v, want 0-9 but 4, once each", ns)
	}
	for n, c := range ns {
		if c != 1 {
			t.Errorf("event %v is in the lake %d times", n, c)
		}
	}
}
