package snapshot_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// fill writes documents that exercise the row escape: unicode, a document's
// own "_id", names the escape renames, escaped names, non-object documents
// and an empty collection.
func fill(t testing.TB, s *cdc.Store) {
	t.Helper()
	users := coll(t, s, "users")
	put(t, users, "u1", `{"name":"Ann","email":"ann@x"}`)
	put(t, users, "ünï-кодé-😀", `{"name":"Zoë 😀","bio":"日本語\u2028<tag>&"}`)
	put(t, users, "with-own-id", `{"_id":"mine","name":"Own"}`)
	put(t, users, "tricky", `{"__id":1,"_value":2,"___value":[3],"_idx":4,"x_id":5,"\u005fid":"esc"}`)
	put(t, users, "empty-doc", `{}`)
	put(t, users, "nested", `{"a":{"_id":"inner","b":[{"_id":1}]}}`)
	other := coll(t, s, "scalars")
	put(t, other, "s", `"just a string"`)
	put(t, other, "n", `42.50`)
	put(t, other, "z", `null`)
	put(t, other, "arr", `[1,{"_id":2}]`)
	put(t, other, "t", `true`)
	coll(t, s, "empty")
}

func TestRoundTrip(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		s := openStore(t)
		fill(t, s)
		want := stateOf(t, s)
		bmBefore := bookmark(t, s)

		res, err := snapshot.Create(ctx, s, "store-ü 1", snapshot.Options{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		if res.TotalDocs != 11 || strings.Join(res.Collections, ",") != "empty,scalars,users" || res.Bookmark != bmBefore {
			t.Fatalf("result %+v", res)
		}
		if !regexp.MustCompile(`^snapshots/store-ü 1/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.json$`).MatchString(res.Key) {
			t.Fatalf("key %q", res.Key)
		}
		if bookmark(t, s) != bmBefore {
			t.Fatal("Create wrote changes")
		}

		// Change everything: update, delete, insert, a new collection.
		users := coll(t, s, "users")
		put(t, users, "u1", `{"name":"Changed"}`)
		if _, err := users.Delete(ctx, "with-own-id"); err != nil {
			t.Fatal(err)
		}
		put(t, users, "new", `{"name":"New"}`)
		put(t, coll(t, s, "empty"), "e1", `{"x":1}`)
		put(t, coll(t, s, "later"), "l1", `{"x":1}`)
		beforeRestore := bookmark(t, s)

		rr, err := snapshot.Restore(ctx, s, b, res.Key)
		if err != nil {
			t.Fatal(err)
		}
		got := stateOf(t, s)
		want["later"] = map[string]string{}
		if d := diffStates(want, got); d != "" {
			t.Fatalf("after restore:\n%s", d)
		}
		// Exactly the differences were logged: u1 back, with-own-id back,
		// new, e1 and l1 deleted.
		changes, err := s.ChangesAfter(ctx, beforeRestore, 100)
		if err != nil {
			t.Fatal(err)
		}
		if rr.Inserted != 1 || rr.Updated != 1 || rr.Deleted != 3 || len(changes) != 5 || rr.TotalDocs != 11 {
			t.Fatalf("restore %+v, %d changes logged", rr, len(changes))
		}
		if rr.Bookmark != changes[4].Bookmark || rr.Bookmark <= beforeRestore {
			t.Fatalf("bookmark %s after %s, changes end at %s", rr.Bookmark, beforeRestore, changes[4].Bookmark)
		}
		// Again: nothing to do, nothing logged.
		rr, err = snapshot.Restore(ctx, s, b, res.Key)
		if err != nil {
			t.Fatal(err)
		}
		if rr.Inserted+rr.Updated+rr.Deleted != 0 || bookmark(t, s) != changes[4].Bookmark {
			t.Fatalf("second restore changed things: %+v", rr)
		}

		// Into a fresh store: the collections are created.
		fresh := openStore(t)
		if _, err := snapshot.Restore(ctx, fresh, b, res.Key); err != nil {
			t.Fatal(err)
		}
		delete(want, "later")
		if d := diffStates(want, stateOf(t, fresh)); d != "" {
			t.Fatalf("fresh store:\n%s", d)
		}
		// Typed reads see the document's own _id.
		type own struct {
			ID   string `json:"_id"`
			Name string `json:"name"`
		}
		typed, err := cdc.NewCollection[own](fresh, "users")
		if err != nil {
			t.Fatal(err)
		}
		o, ok, err := typed.Get(ctx, "with-own-id")
		if err != nil || !ok || o.ID != "mine" || o.Name != "Own" {
			t.Fatalf("own _id: %+v %v %v", o, ok, err)
		}
	})
}

func TestBodyAndMetadata(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		s := openStore(t)
		fill(t, s)
		res, err := snapshot.Create(ctx, s, "doc-1", snapshot.Options{Bucket: b, Prefix: "backups/snaps/"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.Key, "backups/snaps/doc-1/") {
			t.Fatalf("key %q", res.Key)
		}
		obj, err := b.Get(ctx, res.Key)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if obj.Info.ContentType != "application/json" {
			t.Fatalf("content type %q", obj.Info.ContentType)
		}
		m := obj.Info.Metadata
		if m["doId"] != "doc-1" || m["docCount"] != "11" || m["collections"] != "empty,scalars,users" ||
			m["bookmark"] != string(res.Bookmark) || m["version"] != "1" || m["timestamp"] != res.Timestamp.Format("2006-01-02T15:04:05.000Z") {
			t.Fatalf("metadata %v", m)
		}
		// Upstream readers see doId, timestamp, collections, totalDocs and
		// data: {collection: [{_id, ...doc}]}.
		var up struct {
			DoID        string                      `json:"doId"`
			Timestamp   string                      `json:"timestamp"`
			Collections []string                    `json:"collections"`
			TotalDocs   int                         `json:"totalDocs"`
			Data        map[string][]map[string]any `json:"data"`
			Version     int                         `json:"version"`
			Bookmark    string                      `json:"bookmark"`
		}
		if err := json.Unmarshal(body, &up); err != nil {
			t.Fatal(err)
		}
		if up.DoID != "doc-1" || up.TotalDocs != 11 || len(up.Data["users"]) != 6 || len(up.Data["empty"]) != 0 || up.Version != 1 || up.Bookmark != string(res.Bookmark) {
			t.Fatalf("body %+v", up)
		}
		rows := map[string]map[string]any{}
		for _, r := range up.Data["users"] {
			rows[r["_id"].(string)] = r
		}
		if r := rows["with-own-id"]; r["__id"] != "mine" || r["name"] != "Own" {
			t.Fatalf("escaped row %v", r)
		}
		if r := rows["tricky"]; r["___id"] == nil || r["__value"] == nil || r["____value"] == nil || r["_idx"] == nil || r["__id"] != "esc" {
			t.Fatalf("escaped row %v", r)
		}
		if r := up.Data["scalars"]; len(r) != 5 || r[0]["_id"] != "arr" || r[0]["_value"] == nil {
			t.Fatalf("scalar rows %v", r)
		}
	})
}

func TestRestoreErrors(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		s := openStore(t)
		fill(t, s)
		_, err := snapshot.Restore(ctx, s, b, "snapshots/x/2024-01-15T12-34-56-789Z.json")
		if !errors.Is(err, snapshot.ErrNotFound) || !errors.Is(err, lake.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		put := func(key, body string) {
			t.Helper()
			if err := b.Put(ctx, key, strings.NewReader(body), lake.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		before, bm := stateOf(t, s), bookmark(t, s)
		cases := map[string]error{
			// This package's shape without its version (an upstream body, without bookmark and
			// sha256, restores: TestRestoreUpstreamSnapshot).
			`{"doId":"x","timestamp":"2024-01-15T12:34:56.789Z","bookmark":"","collections":[],"totalDocs":0,"data":{}}`:                                                       snapshot.ErrVersion,
			`{"version":2,"doId":"x","timestamp":"2024-01-15T12:34:56.789Z","collections":[],"totalDocs":0,"data":{}}`:                                                         snapshot.ErrVersion,
			`{"version":1,"doId":"x","timestamp":"2024-01-15T12:34:56.789Z","collections":[],"totalDocs":0,"data":{}}`:                                                         snapshot.ErrCorrupt,
			`{"version":1,"doId":"x","timestamp":"2024-01-15T12:34:56.789Z","bookmark":"","collections":["users"],"totalDocs":0,"data":{"users":[{"_id":"a"}]},"sha256":"00"}`: snapshot.ErrCorrupt,
			`not json`: snapshot.ErrCorrupt,
			``:         snapshot.ErrCorrupt,
		}
		i := 0
		for body, want := range cases {
			i++
			key := "snapshots/x/2024-01-15T12-34-56-" + string(rune('0'+i)) + "00Z.json"
			put(key, body)
			if _, err := snapshot.Restore(ctx, s, b, key); !errors.Is(err, want) {
				t.Errorf("%s: got %v, want %v", body, err, want)
			}
		}
		if d := diffStates(before, stateOf(t, s)); d != "" || bookmark(t, s) != bm {
			t.Fatalf("store changed:\n%s", d)
		}
		// A snapshot filed under another id is not this id's.
		res, err := snapshot.Create(ctx, s, "a", snapshot.Options{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		obj, err := b.Get(ctx, res.Key)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		moved := strings.Replace(res.Key, "/a/", "/b/", 1)
		put(moved, string(body))
		if _, err := snapshot.Restore(ctx, s, b, moved); !errors.Is(err, snapshot.ErrCorrupt) {
			t.Fatalf("moved: %v", err)
		}
	})
}

// TestEmptyStore: a snapshot of a store without collections restores as
// "every collection empty".
func TestEmptyStore(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		empty := openStore(t)
		res, err := snapshot.Create(ctx, empty, "empty", snapshot.Options{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		if res.TotalDocs != 0 || len(res.Collections) != 0 || res.Bookmark != "" {
			t.Fatalf("%+v", res)
		}
		s := openStore(t)
		fill(t, s)
		rr, err := snapshot.Restore(ctx, s, b, res.Key)
		if err != nil {
			t.Fatal(err)
		}
		if rr.TotalDocs != 0 || rr.Deleted != 11 || len(nonEmpty(stateOf(t, s))) != 0 {
			t.Fatalf("%+v, %v", rr, stateOf(t, s))
		}
	})
}
