package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/snapshot"
)

// TestSnapshotAndRestoreTo: a fleet's store takes a snapshot, and
// RestoreTo rebuilds it into a new store from the snapshot and the fleet's
// lake (whose objects hold many stores' events), through an eviction and a
// reopen of the store (which skips change numbers: rule 6).
func TestSnapshotAndRestoreTo(t *testing.T) {
	ctx := context.Background()
	b := lake.Dir(t.TempDir())
	f := openFleet(t, fleet.Options{Dir: t.TempDir(), Class: "Tenant", MaxOpen: 2,
		Emitter: emitter.Options{Bucket: b}})
	write := func(id string, docs ...string) {
		t.Helper()
		if err := f.Do(ctx, id, func(s *cdc.Store) error {
			c := users(t, s)
			for _, d := range docs {
				if err := c.Put(ctx, d, user{Name: d + "@" + id}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		write(fmt.Sprintf("other-%d", i), "a", "b")
	}
	write("acme", "u1", "u2", "u3")
	if err := f.Do(ctx, "acme", func(s *cdc.Store) error {
		_, err := snapshot.Create(ctx, s, "acme", snapshot.Options{Bucket: b})
		return err
	}); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 4 { // evicts acme (MaxOpen 2)
		write(fmt.Sprintf("other-%d", i), "c")
	}
	write("acme", "u4")
	var want map[string]user
	var target cdc.Bookmark
	if err := f.Do(ctx, "acme", func(s *cdc.Store) error {
		c := users(t, s)
		if _, err := c.Delete(ctx, "u2"); err != nil {
			return err
		}
		if err := c.Put(ctx, "u1", user{Name: "changed"}); err != nil {
			return err
		}
		want = allUsers(t, c)
		var err error
		target, err = s.Bookmark(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	fresh, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "restored.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	res, err := snapshot.RestoreTo(ctx, fresh, b, "acme", snapshot.Target{Bookmark: target})
	if err != nil {
		t.Fatalf("RestoreTo: %v", err)
	}
	if res.Snapshot == "" {
		t.Errorf("RestoreTo used no snapshot")
	}
	got := allUsers(t, users(t, fresh))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("restored %v, want %v", got, want)
	}
}

func allUsers(t *testing.T, c *cdc.Collection[user]) map[string]user {
	t.Helper()
	out := map[string]user{}
	entries, err := c.FindEntries(context.Background(), nil, cdc.FindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		out[e.ID] = e.Doc
	}
	return out
}

// TestStoreFileNames: ids that differ only in case get distinct files;
// long ids get hashed names and IDs still lists them; invalid ids get an
// error matching events.ErrInvalidStoreID and create no file; no store file
// starts with '_'.
func TestStoreFileNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := openFleet(t, fleet.Options{Dir: dir, Emitter: emitter.Options{Bucket: lake.Dir(t.TempDir())}})
	long := strings.Repeat("Ab_", 80) // 240 bytes: a hashed name
	ids := []string{"Tenant", "tenant", "TENANT", "_under", "a.b", "ünï", long, long + "x"}
	for _, id := range ids {
		if err := f.Do(ctx, id, func(s *cdc.Store) error { return users(t, s).Put(ctx, "u", user{Name: id}) }); err != nil {
			t.Fatalf("Do %q: %v", id, err)
		}
	}
	before, _ := os.ReadDir(dir)
	for _, bad := range []string{"", "a/b", "..", "x\x00y", strings.Repeat("x", 600)} {
		err := f.Do(ctx, bad, func(*cdc.Store) error { t.Fatalf("fn ran for %q", bad); return nil })
		if !errors.Is(err, events.ErrInvalidStoreID) {
			t.Errorf("Do(%q) = %v, want ErrInvalidStoreID", bad, err)
		}
		if err := f.Emit(ctx, bad, events.Custom{Type: "x"}); !errors.Is(err, events.ErrInvalidStoreID) {
			t.Errorf("Emit(%q) = %v, want ErrInvalidStoreID", bad, err)
		}
	}
	if err := f.Emit(ctx, "tenant", events.Custom{Type: "x", DO: events.Identity{ID: "Tenant"}}); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("Emit with another store's identity = %v, want ErrInvalidEvent", err)
	}
	after, _ := os.ReadDir(dir)
	if len(after) != len(before) {
		t.Errorf("invalid ids created files: %d entries, then %d", len(before), len(after))
	}
	seen := map[string]bool{}
	for _, e := range after {
		name := e.Name()
		if len(name) > 255 {
			t.Errorf("name of %d bytes", len(name))
		}
		if strings.HasSuffix(name, ".db") {
			if seen[strings.ToLower(name)] {
				t.Errorf("two files fold to %q", name)
			}
			seen[strings.ToLower(name)] = true
			if strings.HasPrefix(name, "_") && name != "_fleet.db" {
				t.Errorf("store file %q starts with '_'", name)
			}
		}
	}
	got, err := f.IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Fatalf("IDs = %d ids, want %d", len(got), len(ids))
	}
	for _, id := range ids {
		found := false
		for _, g := range got {
			found = found || g == id
		}
		if !found {
			t.Errorf("IDs lacks %q", id[:min(len(id), 20)])
		}
	}
	// Each store kept its own document (no two ids share a file).
	for _, id := range ids {
		if err := f.Do(ctx, id, func(s *cdc.Store) error {
			u, _, err := users(t, s).Get(ctx, "u")
			if err == nil && u.Name != id {
				err = fmt.Errorf("store %q holds %q", id[:min(len(id), 20)], u.Name[:min(len(u.Name), 20)])
			}
			return err
		}); err != nil {
			t.Error(err)
		}
	}
}
