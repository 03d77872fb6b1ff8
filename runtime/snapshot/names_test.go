package snapshot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

var badIDs = []string{
	"", ".", "..", ".hidden", "trailing.", "a/b", `a\b`, "a\x00b", "a\nb", "a\x7fb", "a\u0085b",
	strings.Repeat("é", 257), "\xff",
}

func TestInvalidNames(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	b := lake.Dir(t.TempDir())
	for _, id := range badIDs {
		if _, err := snapshot.Create(ctx, s, id, snapshot.Options{Bucket: b}); !errors.Is(err, snapshot.ErrInvalidID) || !errors.Is(err, events.ErrInvalidStoreID) {
			t.Errorf("Create id %q: %v", id, err)
		}
		if _, err := snapshot.List(ctx, b, id, snapshot.ListOptions{}); !errors.Is(err, snapshot.ErrInvalidID) {
			t.Errorf("List id %q: %v", id, err)
		}
		if _, err := snapshot.RestoreTo(ctx, s, b, id, snapshot.Target{Bookmark: "00000000000000000001"}); !errors.Is(err, snapshot.ErrInvalidID) {
			t.Errorf("RestoreTo id %q: %v", id, err)
		}
	}
	for _, p := range []string{"/", "/abs", "a//b", "../x", "a/../b", "a/./b", "x.", `a\b`, "a\x01", strings.Repeat("p", 257), strings.Repeat("p", 251)} {
		if _, err := snapshot.Create(ctx, s, "ok", snapshot.Options{Bucket: b, Prefix: p}); !errors.Is(err, snapshot.ErrInvalidID) {
			t.Errorf("prefix %q: %v", p, err)
		}
	}
	badKeys := []string{
		"", "x.json", "snapshots/2024-01-15T12-34-56-789Z.json",
		"snapshots/../2024-01-15T12-34-56-789Z.json",
		"snapshots/id/../2024-01-15T12-34-56-789Z.json",
		"../snapshots/id/2024-01-15T12-34-56-789Z.json",
		"snapshots/id/2024-01-15T12-34-56-789Z.jsonl",
		"snapshots/id/2024-01-15T12:34:56.789Z.json",
		"snapshots/id/2024-13-15T12-34-56-789Z.json",
		"snapshots/id/2024-01-15T12-34-56-789Z_1.json",
		"snapshots/id/2024-01-15T12-34-56-789Z_000000.json",
		"snapshots/.id/2024-01-15T12-34-56-789Z.json",
		`snapshots\id/2024-01-15T12-34-56-789Z.json`,
		"snapshots/i\x00d/2024-01-15T12-34-56-789Z.json",
		"events/2024/01/15/12/x_1_00000000000000000001.jsonl",
		"snapshots/" + strings.Repeat("i", 257) + "/2024-01-15T12-34-56-789Z.json",
	}
	for _, k := range badKeys {
		if err := snapshot.Delete(ctx, b, k); !errors.Is(err, snapshot.ErrInvalidID) {
			t.Errorf("Delete %q: %v", k, err)
		}
		if _, err := snapshot.Restore(ctx, s, b, k); !errors.Is(err, snapshot.ErrInvalidID) {
			t.Errorf("Restore %q: %v", k, err)
		}
	}
	if _, err := snapshot.List(ctx, b, "x", snapshot.ListOptions{Limit: -1}); !errors.Is(err, snapshot.ErrInvalidOptions) {
		t.Errorf("negative limit: %v", err)
	}
	if _, err := snapshot.Create(ctx, nil, "x", snapshot.Options{Bucket: b}); !errors.Is(err, snapshot.ErrInvalidOptions) {
		t.Errorf("nil store: %v", err)
	}
	if _, err := snapshot.Create(ctx, s, "x", snapshot.Options{}); !errors.Is(err, snapshot.ErrInvalidOptions) {
		t.Errorf("nil bucket: %v", err)
	}
}

func TestSameMillisecondAndList(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		s := openStore(t)
		c := coll(t, s, "c")
		var keys []string
		for i := range 30 {
			put(t, c, "d", fmt.Sprintf(`{"i":%d}`, i))
			res, err := snapshot.Create(ctx, s, "do-1", snapshot.Options{Bucket: b})
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, res.Key)
		}
		// Concurrent ones too.
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		for range 8 {
			wg.Go(func() {
				res, err := snapshot.Create(ctx, s, "do-1", snapshot.Options{Bucket: b})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				keys = append(keys, res.Key)
				mu.Unlock()
			})
		}
		wg.Wait()
		if _, err := snapshot.Create(ctx, s, "do-10", snapshot.Options{Bucket: b}); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Fatalf("key %s used twice", k)
			}
			seen[k] = true
		}
		list, err := snapshot.List(ctx, b, "do-1", snapshot.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(keys) {
			t.Fatalf("listed %d, created %d", len(list), len(keys))
		}
		// Newest first: the sequential ones in reverse order of creation.
		for i := range 30 {
			if got := list[len(list)-1-i].Key; got != keys[i] {
				t.Fatalf("list[%d] = %s, want %s", len(list)-1-i, got, keys[i])
			}
		}
		for i := 1; i < len(list); i++ {
			if list[i].Timestamp.After(list[i-1].Timestamp) || list[i].ID != "do-1" {
				t.Fatalf("order: %v then %v", list[i-1], list[i])
			}
		}
		// Each snapshot is a distinct state: restoring the 10th gives i=9.
		if _, err := snapshot.Restore(ctx, s, b, keys[9]); err != nil {
			t.Fatal(err)
		}
		if got := stateOf(t, s)["c"]["d"]; got != `{"i":9}` {
			t.Fatalf("restored %s", got)
		}
		top, err := snapshot.List(ctx, b, "do-1", snapshot.ListOptions{Limit: 3})
		if err != nil || len(top) != 3 || top[0].Key != list[0].Key {
			t.Fatalf("limit: %v %v", top, err)
		}
	})
}

func TestListPastOneThousand(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		// Objects named as snapshots: List reads keys only.
		const n = 1105
		for i := range n {
			key := fmt.Sprintf("snapshots/do-1/2024-01-%02dT%02d-%02d-00-000Z.json", 1+i/(24*60), i/60%24, i%60)
			if err := b.Put(ctx, key, strings.NewReader("{}"), lake.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range []string{"snapshots/do-10/2024-01-01T00-00-00-000Z.json", "snapshots/do-1/notes.txt", "snapshots/do-1x/2024-01-01T00-00-00-000Z.json"} {
			if err := b.Put(ctx, k, strings.NewReader("{}"), lake.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		list, err := snapshot.List(ctx, b, "do-1", snapshot.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != n || list[0].Key != "snapshots/do-1/2024-01-01T18-24-00-000Z.json" || list[n-1].Key != "snapshots/do-1/2024-01-01T00-00-00-000Z.json" {
			t.Fatalf("%d listed, first %s, last %s", len(list), list[0].Key, list[len(list)-1].Key)
		}
		// Delete removes only snapshot keys.
		if err := snapshot.Delete(ctx, b, list[0].Key); err != nil {
			t.Fatal(err)
		}
		if err := snapshot.Delete(ctx, b, "snapshots/do-1/notes.txt"); !errors.Is(err, snapshot.ErrInvalidID) {
			t.Fatalf("delete notes: %v", err)
		}
		if _, err := b.Get(ctx, "snapshots/do-1/notes.txt"); err != nil {
			t.Fatal(err)
		}
		after, err := snapshot.List(ctx, b, "do-1", snapshot.ListOptions{Limit: 1})
		if err != nil || len(after) != 1 || after[0].Key != list[1].Key {
			t.Fatalf("after delete: %v %v", after, err)
		}
	})
}

// TestLongIDs: the longest store ids (256 characters, up to 1,024 bytes)
// snapshot, list and restore; no key segment is over 250 bytes, and two
// long ids that share their first characters stay apart.
func TestLongIDs(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		ids := []string{strings.Repeat("é", 255) + "a", strings.Repeat("é", 255) + "b", strings.Repeat("😀", 256)}
		if err := events.ValidateStoreID(ids[2]); err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			s := openStore(t)
			put(t, coll(t, s, "c"), "d", fmt.Sprintf(`{"n":%d}`, i))
			res, err := snapshot.Create(ctx, s, id, snapshot.Options{Bucket: b})
			if err != nil {
				t.Fatal(err)
			}
			for seg := range strings.SplitSeq(res.Key, "/") {
				if len(seg) > 250 {
					t.Fatalf("key %q has a %d-byte segment", res.Key, len(seg))
				}
			}
			list, err := snapshot.List(ctx, b, id, snapshot.ListOptions{})
			if err != nil || len(list) != 1 || list[0].Key != res.Key {
				t.Fatalf("List: %+v %v", list, err)
			}
			fresh := openStore(t)
			if _, err := snapshot.Restore(ctx, fresh, b, res.Key); err != nil {
				t.Fatal(err)
			}
			if d := diffStates(stateOf(t, s), stateOf(t, fresh)); d != "" {
				t.Fatal(d)
			}
		}
	})
}
