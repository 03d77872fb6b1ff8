package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dotdo/events/internal/cdcx"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/lake"
)

// These tests are internal: they set testHookStreaming, the package's
// test-only hook, which runs while Create reads the store. No test of this
// package runs in parallel, so setting it cannot disturb another test.

func openFileStore(t *testing.T) *cdc.Store {
	t.Helper()
	s, err := cdc.Open(context.Background(), filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rawColl(t *testing.T, s *cdc.Store, name string) *raw {
	t.Helper()
	c, err := cdc.NewCollection[json.RawMessage](s, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// docsOf returns every document of every collection of s: collection → id
// → JSON (empty collections left out).
func docsOf(t *testing.T, s *cdc.Store) map[string]map[string]string {
	t.Helper()
	ctx := context.Background()
	names, err := cdcx.Store(s).Collections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, n := range names {
		entries, err := rawColl(t, s, n).FindEntries(ctx, nil, cdc.FindOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			continue
		}
		m := map[string]string{}
		for _, e := range entries {
			m[e.ID] = string(e.Doc)
		}
		out[n] = m
	}
	return out
}

func equalDocs(a, b map[string]map[string]string) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]string) bool { return maps.Equal(x, y) })
}

func fill(t *testing.T, c *raw, n int) {
	t.Helper()
	batch := make([]cdc.Entry[json.RawMessage], 0, n)
	for i := range n {
		batch = append(batch, cdc.Entry[json.RawMessage]{ID: fmt.Sprintf("d%05d", i), Doc: json.RawMessage(fmt.Sprintf(`{"v":%d}`, i))})
	}
	if err := c.PutMany(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

// TestCreateDoesNotHoldWriters: while Create reads the store, a Put from
// another goroutine commits (the hook waits for it before the first row is
// read), and the snapshot is still exactly the state at its bookmark,
// without that Put.
func TestCreateDoesNotHoldWriters(t *testing.T) {
	ctx := context.Background()
	s := openFileStore(t)
	c := rawColl(t, s, "c")
	fill(t, c, 5000)
	before := docsOf(t, s)
	bmBefore, err := s.Bookmark(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var putBM cdc.Bookmark
	var once sync.Once
	testHookStreaming = func() {
		once.Do(func() {
			type put struct {
				bm  cdc.Bookmark
				err error
			}
			done := make(chan put, 1)
			go func() {
				if err := c.Put(ctx, "late", json.RawMessage(`{"late":true}`)); err != nil {
					done <- put{err: err}
					return
				}
				bm, err := s.Bookmark(ctx)
				done <- put{bm, err}
			}()
			select {
			case p := <-done:
				if p.err != nil {
					t.Errorf("put during create: %v", p.err)
				}
				putBM = p.bm
			case <-time.After(30 * time.Second):
				t.Error("a Put did not commit while Create read the store: the writers are held")
			}
		})
	}
	t.Cleanup(func() { testHookStreaming = nil })

	b := lake.Dir(t.TempDir())
	res, err := Create(ctx, s, "stream", Options{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	testHookStreaming = nil
	if putBM == "" {
		t.Fatal("the Put did not commit before Create returned")
	}
	if res.Bookmark != bmBefore {
		t.Fatalf("snapshot at %s, want %s (the state before the Put at %s)", res.Bookmark, bmBefore, putBM)
	}
	if res.TotalDocs != 5000 {
		t.Fatalf("TotalDocs %d", res.TotalDocs)
	}
	fresh := openFileStore(t)
	if _, err := Restore(ctx, fresh, b, res.Key); err != nil {
		t.Fatal(err)
	}
	if got := docsOf(t, fresh); !equalDocs(got, before) {
		t.Fatalf("restored snapshot differs from the state at %s (%d collections, %d docs in c)", res.Bookmark, len(got), len(got["c"]))
	}

	// The next snapshot holds the Put and sorts after the first.
	res2, err := Create(ctx, s, "stream", Options{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Key <= res.Key || res2.Bookmark != putBM || res2.TotalDocs != 5001 {
		t.Fatalf("second snapshot %s at %s with %d docs; first %s", res2.Key, res2.Bookmark, res2.TotalDocs, res.Key)
	}
}

// TestCreateMemoryStore: a ":memory:" store (no separate read connection)
// is still snapshotted, in the write transaction.
func TestCreateMemoryStore(t *testing.T) {
	ctx := context.Background()
	s, err := cdc.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	fill(t, rawColl(t, s, "c"), 1500)
	want := docsOf(t, s)
	b := lake.Dir(t.TempDir())
	done := make(chan struct{})
	var res Result
	go func() {
		defer close(done)
		res, err = Create(ctx, s, "mem", Options{Bucket: b})
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Create on a :memory: store did not return (deadlock?)")
	}
	if err != nil {
		t.Fatal(err)
	}
	fresh := openFileStore(t)
	if _, err := Restore(ctx, fresh, b, res.Key); err != nil {
		t.Fatal(err)
	}
	if got := docsOf(t, fresh); !equalDocs(got, want) {
		t.Fatal("restored snapshot of a :memory: store differs")
	}
}

// TestReserveBehind: a reservation for a state older than the last named
// snapshot's is refused when the state was read in another transaction,
// and granted (at the next name) when read in the same one.
func TestReserveBehind(t *testing.T) {
	ctx := context.Background()
	s := openFileStore(t)
	if err := cdcx.Store(s).Migrate(ctx, "snapshot", keyMigrations); err != nil {
		t.Fatal(err)
	}
	dir := "snapshots/x/"
	reserve := func(seq int64, elsewhere bool) (time.Time, string, error) {
		var ts time.Time
		var name string
		err := s.Update(ctx, func(tx *cdc.Tx) error {
			var err error
			ts, name, err = reserveName(ctx, tx, dir, changelog.BookmarkFromSeq(seq), time.Time{}, elsewhere)
			return err
		})
		return ts, name, err
	}
	_, first, err := reserve(7, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := reserve(5, true); !errors.Is(err, errBehind) {
		t.Fatalf("reserve behind: %v", err)
	}
	_, same, err := reserve(7, true)
	if err != nil || same <= first {
		t.Fatalf("reserve at the same bookmark: %q after %q, %v", same, first, err)
	}
	_, forced, err := reserve(5, false)
	if err != nil || forced <= same {
		t.Fatalf("reserve in the reading transaction: %q after %q, %v", forced, same, err)
	}
}

// TestConcurrentCreatesSortByBookmark: snapshots taken at once, while a
// writer writes, get distinct keys that sort in bookmark order.
func TestConcurrentCreatesSortByBookmark(t *testing.T) {
	ctx := context.Background()
	s := openFileStore(t)
	c := rawColl(t, s, "c")
	fill(t, c, 2000)
	b := lake.Dir(t.TempDir())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.Put(ctx, fmt.Sprintf("w%d", i%100), json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))); err != nil {
				t.Error(err)
				return
			}
		}
	})
	results := make([]Result, 8)
	var cw sync.WaitGroup
	for i := range results {
		cw.Go(func() {
			res, err := Create(ctx, s, "many", Options{Bucket: b})
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	cw.Wait()
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	slices.SortFunc(results, func(a, b Result) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	for i := 1; i < len(results); i++ {
		if results[i].Key == results[i-1].Key {
			t.Fatalf("two snapshots got %s", results[i].Key)
		}
		if results[i].Bookmark < results[i-1].Bookmark {
			t.Fatalf("%s at %s sorts after %s at %s", results[i].Key, results[i].Bookmark, results[i-1].Key, results[i-1].Bookmark)
		}
		if results[i].Timestamp.Before(results[i-1].Timestamp) {
			t.Fatalf("%s time %v before %s time %v", results[i].Key, results[i].Timestamp, results[i-1].Key, results[i-1].Timestamp)
		}
	}
}
