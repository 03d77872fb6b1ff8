package snapshot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// TestCreateIsConsistent snapshots while another goroutine writes: each
// snapshot holds exactly the state at its bookmark.
func TestCreateIsConsistent(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	b := lake.Dir(t.TempDir())
	c := coll(t, s, "c")
	for i := range 3000 {
		put(t, c, fmt.Sprintf("d%04d", i), `{"v":0}`)
	}
	m := &model{}
	m.steps = append(m.steps, step{bm: bookmark(t, s), reset: stateOf(t, s)})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id, doc := fmt.Sprintf("d%04d", (i*37)%3500), fmt.Sprintf(`{"v":%d}`, i)
			w := write{coll: "c", id: id, doc: doc}
			var err error
			if i%5 == 0 {
				w = write{coll: "c", id: id, del: true}
				_, err = c.Delete(ctx, id)
			} else {
				err = c.Put(ctx, id, []byte(doc))
			}
			if err != nil {
				t.Error(err)
				return
			}
			bm, err := s.Bookmark(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			m.steps = append(m.steps, step{bm: bm, writes: []write{w}})
		}
	})
	var results []snapshot.Result
	for range 5 {
		res, err := snapshot.Create(ctx, s, "busy", snapshot.Options{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	close(stop)
	wg.Wait()
	for _, res := range results {
		fresh := openStore(t)
		if _, err := snapshot.Restore(ctx, fresh, b, res.Key); err != nil {
			t.Fatal(err)
		}
		if d := diffStates(m.at(res.Bookmark), nonEmpty(stateOf(t, fresh))); d != "" {
			t.Fatalf("snapshot at %s:\n%s", res.Bookmark, d)
		}
	}
	if results[0].Bookmark == results[len(results)-1].Bookmark {
		t.Log("the writer made no progress during the snapshots")
	}
}

// TestBucketLimits: a key a bucket cannot hold fails before the store is
// read, matching ErrInvalidID; the longest valid id is not such a key (its
// folder is hashed: TestLongIDs).
func TestBucketLimits(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	// 256 characters is a valid id, more bytes than a folder name holds.
	id := strings.Repeat("é", 256)
	if _, err := snapshot.Create(ctx, s, id, snapshot.Options{Bucket: lake.Dir(t.TempDir())}); err != nil {
		t.Fatalf("long id on a folder: %v", err)
	}
	// A prefix of many segments makes keys over 1,024 bytes.
	prefix := strings.TrimSuffix(strings.Repeat(strings.Repeat("p", 200)+"/", 5), "/")
	fresh := openStore(t)
	_, err := snapshot.Create(ctx, fresh, "s", snapshot.Options{Bucket: lake.Dir(t.TempDir()), Prefix: prefix})
	if !errors.Is(err, snapshot.ErrInvalidID) {
		t.Fatalf("long key: %v", err)
	}
	if bm := bookmark(t, fresh); bm != cdc.Bookmark("") {
		t.Fatalf("bookmark %s", bm)
	}
}
