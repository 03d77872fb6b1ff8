package fleet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
)

// storeFDs counts this process's descriptors on the files of the stores
// in dir (not the fleet's own _fleet.db).
func storeFDs(t *testing.T, dir string) map[string]int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	out := map[string]int{}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || filepath.Dir(target) != dir || strings.HasPrefix(filepath.Base(target), "_") {
			continue
		}
		store, _, _ := strings.Cut(filepath.Base(target), ".db")
		out[store]++
	}
	return out
}

// TestIdleStoreCost: an idle open store holds at most 4 descriptors (its
// SQLite connection and the holder lock) and no goroutine runs code of
// this module for it.
func TestIdleStoreCost(t *testing.T) {
	ctx := context.Background()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := openFleet(t, fleet.Options{Dir: dir, Emitter: emitter.Options{Bucket: lake.Dir(t.TempDir())}})
	const n = 10
	for i := range n {
		if err := f.Do(ctx, fmt.Sprintf("idle-%d", i), func(s *cdc.Store) error {
			c := users(t, s)
			if err := c.Put(ctx, "u", user{}); err != nil {
				return err
			}
			if i%2 == 1 {
				_, _, err := c.Get(ctx, "u") // a read outside a transaction
				return err
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := f.Stats(); st.Open != n {
		t.Fatalf("%d stores open, want %d", st.Open, n)
	}
	defer func() { t.Logf("fds: %v", storeFDs(t, dir)) }()
	waitFor(t, "at most 4 descriptors per store", func() bool {
		fds := storeFDs(t, dir)
		if len(fds) != n {
			return false
		}
		for _, c := range fds {
			if c > 4 {
				return false
			}
		}
		return true
	})
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, g := range strings.Split(stacks, "\n\n") {
		if strings.Contains(g, "github.com/dotdo/events/") && !strings.Contains(g, "fleet_test.") && !strings.Contains(g, "testing.tRunner") {
			t.Errorf("a goroutine of this module runs while the stores are idle:\n%s", g)
		}
	}
}
