package snapshot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// upstreamKey is where the upstream library puts a snapshot (its README).
const upstreamKey = "snapshots/abc123/2024-01-15T12-34-56-789Z.json"

// upstreamBody is a body as upstream's createSnapshot writes it: no
// version, bookmark or checksum; rows {_id, ...document} in any order,
// pretty-printed.
const upstreamBody = `{
  "doId": "abc123",
  "timestamp": "2024-01-15T12:34:56.789Z",
  "collections": ["users", "posts"],
  "totalDocs": 3,
  "data": {
    "users": [
      {"_id": "u2", "name": "Bob", "tags": ["a", "b"]},
      {"_id": "u1", "name": "Ann", "__id": "kept as is", "n": 1.50}
    ],
    "posts": [{"title": "Hi", "_id": "p1"}]
  }
}`

// TestRestoreUpstreamSnapshot: an upstream body restores, and the result
// says what could not be verified.
func TestRestoreUpstreamSnapshot(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		put := func(key, body string) {
			t.Helper()
			if err := b.Put(ctx, key, strings.NewReader(body), lake.PutOptions{ContentType: "application/json"}); err != nil {
				t.Fatal(err)
			}
		}
		put(upstreamKey, upstreamBody)
		s := openStore(t)
		res, err := snapshot.Restore(ctx, s, b, upstreamKey)
		if err != nil {
			t.Fatal(err)
		}
		if res.TotalDocs != 3 || res.Inserted != 3 || strings.Join(res.Collections, ",") != "posts,users" || len(res.Unverified) != 2 {
			t.Fatalf("result %+v", res)
		}
		want := state{
			"users": {"u1": `{"name":"Ann","__id":"kept as is","n":1.50}`, "u2": `{"name":"Bob","tags":["a","b"]}`},
			"posts": {"p1": `{"title":"Hi"}`},
		}
		if d := diffStates(want, stateOf(t, s)); d != "" {
			t.Fatal(d)
		}
		// It lists as a snapshot of its store.
		list, err := snapshot.List(ctx, b, "abc123", snapshot.ListOptions{})
		if err != nil || len(list) != 1 || list[0].Key != upstreamKey {
			t.Fatalf("List: %+v %v", list, err)
		}

		// Every check its layout allows still holds, and changes nothing.
		before := stateOf(t, s)
		bad := map[string]string{
			"count":       strings.Replace(upstreamBody, `"totalDocs": 3`, `"totalDocs": 4`, 1),
			"repeated id": strings.Replace(upstreamBody, `"_id": "u2"`, `"_id": "u1"`, 1),
			"no _id":      strings.Replace(upstreamBody, `"_id": "p1"`, `"id": "p1"`, 1),
			"collections": strings.Replace(upstreamBody, `["users", "posts"]`, `["users"]`, 1),
			"bad doc id":  strings.Replace(upstreamBody, `"_id": "p1"`, `"_id": ""`, 1),
			"cut":         upstreamBody[:len(upstreamBody)-10],
			"other store": strings.Replace(upstreamBody, `"doId": "abc123"`, `"doId": "xyz"`, 1),
		}
		for name, body := range bad {
			put(upstreamKey, body)
			if _, err := snapshot.Restore(ctx, s, b, upstreamKey); !errors.Is(err, snapshot.ErrCorrupt) {
				t.Errorf("%s: %v", name, err)
			}
		}
		// A body of this package's shape without its version is rejected
		// as before: a bookmark or sha256 marks it as not upstream's.
		for _, extra := range []string{`"bookmark": "00000000000000000001",`, `"sha256": "00",`} {
			put(upstreamKey, strings.Replace(upstreamBody, `"doId"`, extra+` "doId"`, 1))
			if _, err := snapshot.Restore(ctx, s, b, upstreamKey); !errors.Is(err, snapshot.ErrVersion) && !errors.Is(err, snapshot.ErrCorrupt) {
				t.Errorf("%s: %v", extra, err)
			}
		}
		if d := diffStates(before, stateOf(t, s)); d != "" {
			t.Fatalf("a rejected body changed the store:\n%s", d)
		}
	})
}
