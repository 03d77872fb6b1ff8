package lake_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/dotdo/events/runtime/lake"
)

// TestDirNeverLeavesItsRoot: symbolic links inside the root, to folders or
// files outside it, are never followed: reads, writes, deletes and
// listings through them fail with ErrOutsideRoot or skip them, and nothing
// outside changes.
func TestDirNeverLeavesItsRoot(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	ctx := context.Background()
	root, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := lake.Dir(root)
	put(t, d, "events/x", "inside", lake.PutOptions{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(outside, filepath.Join(root, "linked")))        // a folder link
	must(os.Symlink(secret, filepath.Join(root, "events", "leak"))) // a file link
	must(os.MkdirAll(filepath.Join(root, ".lake"), 0o755))
	must(os.Symlink(outside, filepath.Join(root, ".lake", "meta2"))) // not the sidecar tree: harmless

	for name, err := range map[string]error{
		"put through a folder link":     d.Put(ctx, "linked/new", strings.NewReader("x"), lake.PutOptions{}),
		"put over a file behind a link": d.Put(ctx, "linked/secret", strings.NewReader("x"), lake.PutOptions{}),
		"delete through a folder link":  d.Delete(ctx, "linked/secret"),
	} {
		if !errors.Is(err, lake.ErrOutsideRoot) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, key := range []string{"linked/secret", "events/leak"} {
		if _, err := d.Get(ctx, key); !errors.Is(err, lake.ErrOutsideRoot) {
			t.Errorf("get %s: %v", key, err)
		}
	}
	if _, err := d.List(ctx, "linked/", lake.ListOptions{}); !errors.Is(err, lake.ErrOutsideRoot) {
		t.Errorf("list through a folder link: %v", err)
	}
	// A listing of the whole bucket shows neither link nor what is behind it.
	if keys := listKeys(t, d, ""); strings.Join(keys, ",") != "events/x" {
		t.Errorf("listing: %q", keys)
	}
	// Metadata sidecars are not written through a link either.
	must(os.RemoveAll(filepath.Join(root, ".lake")))
	must(os.MkdirAll(filepath.Join(root, ".lake"), 0o755))
	must(os.Symlink(outside, filepath.Join(root, ".lake", "meta")))
	if err := d.Put(ctx, "events/y", strings.NewReader("y"), lake.PutOptions{Metadata: map[string]string{"a": "b"}}); !errors.Is(err, lake.ErrOutsideRoot) {
		t.Errorf("put with a linked sidecar tree: %v", err)
	}
	// Nothing outside changed.
	entries, _ := os.ReadDir(outside)
	if data, _ := os.ReadFile(secret); len(entries) != 1 || string(data) != "outside" {
		t.Errorf("outside changed: %d entries, secret %q", len(entries), data)
	}
	// The root itself may be a link: the user chose it.
	linkedRoot := filepath.Join(t.TempDir(), "lake")
	must(os.Symlink(outside, linkedRoot))
	put(t, lake.Dir(linkedRoot), "k", "v", lake.PutOptions{})
}

// TestDirEnvironmentErrors: a root that is a file is the environment's
// fault, not the key's: the errors match syscall.ENOTDIR and none of the
// permanent errors (so a sender retries), and once the root is fixed the
// same Put works.
func TestDirEnvironmentErrors(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "lake")
	if err := os.WriteFile(root, []byte("a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := lake.Dir(root)
	permanent := func(err error) bool {
		return errors.Is(err, lake.ErrConflict) || errors.Is(err, lake.ErrInvalidKey) || errors.Is(err, lake.ErrInvalidOptions) ||
			errors.Is(err, lake.ErrOutsideRoot) || errors.Is(err, lake.ErrNotFound)
	}
	err := d.Put(ctx, "events/2024/01/01/00/k.jsonl", strings.NewReader("x"), lake.PutOptions{Metadata: map[string]string{"a": "b"}})
	if err == nil || permanent(err) || !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("put: %v", err)
	}
	if _, err := d.Get(ctx, "k"); err == nil || permanent(err) || !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("get: %v", err)
	}
	if _, err := d.List(ctx, "", lake.ListOptions{}); err == nil || permanent(err) || !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("list: %v", err)
	}
	// Fixed: the same Put succeeds.
	if err := os.Remove(root); err != nil {
		t.Fatal(err)
	}
	put(t, d, "events/2024/01/01/00/k.jsonl", "x", lake.PutOptions{})
	// A conflict inside the root stays a (permanent) conflict.
	if err := d.Put(ctx, "events/2024/01/01/00/k.jsonl/sub", strings.NewReader("x"), lake.PutOptions{}); !errors.Is(err, lake.ErrConflict) {
		t.Errorf("conflict: %v", err)
	}
	if os.Geteuid() != 0 {
		// A read-only root: EACCES, not permanent.
		ro := t.TempDir()
		if err := os.Chmod(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(ro, 0o755)
		err := lake.Dir(ro).Put(ctx, "k", strings.NewReader("x"), lake.PutOptions{})
		if err == nil || permanent(err) || !errors.Is(err, os.ErrPermission) {
			t.Errorf("read-only root: %v", err)
		}
	}
}
