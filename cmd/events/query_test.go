package main

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dotdo/events/runtime/ingest"
	"github.com/dotdo/events/runtime/lake"
)

// queryLake writes a small lake through the ingest: two stores' orders,
// rpc calls and a document's changes, in two hours of 2026-11-28.
func queryLake(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	srv, err := ingest.New(ingest.Options{Bucket: lake.Dir(dir), MaxAge: -1, MaxFuture: -1})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	batch := `{"events":[
 {"type":"order.paid","ts":"2026-11-28T10:00:00.000Z","do":{"id":"shop-1","class":"Shop"},"id":"o1","amount":5},
 {"type":"order.paid","ts":"2026-11-28T11:30:00.000Z","do":{"id":"shop-1","class":"Shop"},"id":"o2","amount":7},
 {"type":"order.paid","ts":"2026-11-28T10:15:00.000Z","do":{"id":"shop-2","class":"Shop"},"id":"o3","amount":9},
 {"type":"rpc.call","ts":"2026-11-28T10:01:00.000Z","do":{"id":"shop-1","class":"Shop"},"id":"r1","method":"pay","durationMs":10,"success":true},
 {"type":"rpc.call","ts":"2026-11-28T10:02:00.000Z","do":{"id":"shop-1","class":"Shop"},"id":"r2","method":"pay","durationMs":30,"success":false,"error":"declined"},
 {"type":"collection.insert","ts":"2026-11-28T10:05:00.000Z","do":{"id":"shop-1","class":"Shop"},"id":"c1","collection":"users","docId":"u1","doc":{"name":"Ann"},"bookmark":"00000000000000000001"},
 {"type":"collection.update","ts":"2026-11-28T10:06:00.000Z","do":{"id":"shop-1","class":"Shop"},"id":"c2","collection":"users","docId":"u1","doc":{"name":"Anna"},"prev":{"name":"Ann"},"bookmark":"00000000000000000002"}
]}`
	if st, err := postBatchTo(hs.URL, batch); err != nil || st != 200 {
		t.Fatalf("ingest: %d %v", st, err)
	}
	return dir
}

func postBatchTo(url, body string) (int, error) { return httpPost(url+"/ingest", body) }

func TestQuery(t *testing.T) {
	dir := queryLake(t)

	// CSV: the orders of shop-1, oldest first.
	out, stderr, code := runBin(t, nil, "query", "-lake", dir, "-store", "shop-1", "-type", "order.paid", "-order", "ts ASC", "-format", "csv")
	if code != 0 {
		t.Fatalf("query: %d %s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	if len(recs) != 3 || recs[1][col["id"]] != "o1" || recs[2][col["id"]] != "o2" || recs[1][col["ts"]] != "2026-11-28T10:00:00.000Z" {
		t.Errorf("csv:\n%s", out)
	}

	// JSON: the same with a date range that keeps only the first hour.
	out, _, code = runBin(t, nil, "query", "events", "-lake", dir, "-type", "order.paid", "-from", "2026-11-28T10:00:00Z", "-to", "2026-11-28T10:59:59Z", "-order", "ts ASC", "-format", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil {
		t.Fatalf("json: %d %v\n%s", code, err, out)
	}
	if len(rows) != 2 || rows[0]["id"] != "o1" || rows[1]["id"] != "o3" {
		t.Errorf("json rows: %v", rows)
	}
	if do, _ := rows[0]["do"].(map[string]any); do["id"] != "shop-1" {
		t.Errorf("do of the first row: %v", rows[0]["do"])
	}

	// A custom field, typed.
	out, _, code = runBin(t, nil, "query", "-lake", dir, "-type", "order.paid", "-column", "amount:BIGINT", "-order", "ts ASC", "-format", "json")
	rows = nil
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 3 || rows[0]["amount"] != 5.0 || rows[2]["amount"] != 7.0 {
		t.Errorf("-column amount:BIGINT (exit %d, %v):\n%s", code, err, out)
	}

	// Table: the history of one document.
	out, _, code = runBin(t, nil, "query", "history", "-lake", dir, "-store", "shop-1", "-collection", "users", "-doc", "u1")
	if code != 0 || !strings.Contains(out, "collection.insert") || !strings.Contains(out, "collection.update") || !strings.Contains(out, "(2 rows)") {
		t.Errorf("history table (exit %d):\n%s", code, out)
	}
	header := strings.Fields(strings.SplitN(out, "\n", 2)[0])
	if len(header) == 0 || header[0] == "" {
		t.Errorf("no header:\n%s", out)
	}

	// Latency per method.
	out, _, code = runBin(t, nil, "query", "latency", "-lake", dir, "-format", "json")
	if code != 0 || !strings.Contains(out, `"pay"`) {
		t.Errorf("latency (exit %d):\n%s", code, out)
	}

	// PITR range of a store's changes.
	out, _, code = runBin(t, nil, "query", "pitr", "-lake", dir, "-store", "shop-1", "-end-bookmark", "00000000000000000002", "-format", "csv")
	if code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 2 {
		t.Errorf("pitr (exit %d):\n%s", code, out)
	}

	// -sql prints the SQL; an S3 lake prints the SQL and how to run it.
	out, _, code = runBin(t, nil, "query", "-lake", dir, "-sql")
	if code != 0 || !strings.Contains(out, "read_json") {
		t.Errorf("-sql (exit %d):\n%s", code, out)
	}
	out, stderr, code = runBin(t, nil, "query", "-lake", "s3://my-lake", "-store", "shop-1")
	if code != 0 || !strings.Contains(out, "s3://my-lake") || !strings.Contains(stderr, "httpfs") {
		t.Errorf("s3 lake (exit %d):\n%s\n%s", code, out, stderr)
	}

	// A range with no events: an empty result, not an error.
	out, stderr, code = runBin(t, nil, "query", "-lake", dir, "-from", "2020-01-01", "-to", "2020-01-02", "-format", "csv")
	if code != 0 || strings.Count(out, "\n") > 1 {
		t.Errorf("empty range (exit %d): %q %s", code, out, stderr)
	}

	// Bad options: exit 2.
	for _, args := range [][]string{
		{"query", "history", "-lake", dir},
		{"query", "-lake", dir, "-format", "xml"},
		{"query", "-lake", dir, "-from", "yesterday"},
		{"query", "nope", "-lake", dir},
		{"query", "-lake", dir, "-column", "x:NOT A TYPE"},
	} {
		if _, _, code := runBin(t, nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func httpPost(url, body string) (int, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
