package lake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/lake"
)

// files returns the paths of every file under root, relative, '/'-separated.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// failingReader returns n bytes of data, then an error.
type failingReader struct {
	*strings.Reader
	n int
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("disk on fire")
	}
	p = p[:min(len(p), r.n)]
	n, err := r.Reader.Read(p)
	r.n -= n
	return n, err
}

func TestDirFailedPutChangesNothing(t *testing.T) {
	root := t.TempDir()
	d := lake.Dir(root)
	put(t, d, "k/obj", "old content", lake.PutOptions{Metadata: map[string]string{"v": "old"}})
	before := files(t, root)
	r := &failingReader{Reader: strings.NewReader(strings.Repeat("new ", 1000)), n: 100}
	err := d.Put(context.Background(), "k/obj", r, lake.PutOptions{Metadata: map[string]string{"v": "new"}})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Put = %v", err)
	}
	if body, info := get(t, d, "k/obj"); body != "old content" || info.Metadata["v"] != "old" {
		t.Fatalf("after failed Put: %q %v", body, info.Metadata)
	}
	if after := files(t, root); !slices.Equal(before, after) {
		t.Fatalf("files changed: %q -> %q", before, after)
	}
	// A failed first Put leaves no object.
	r = &failingReader{Reader: strings.NewReader("xxxxxxxx"), n: 3}
	if err := d.Put(context.Background(), "k/new", r, lake.PutOptions{}); err == nil {
		t.Fatal("Put succeeded")
	}
	if _, err := d.Get(context.Background(), "k/new"); !errors.Is(err, lake.ErrNotFound) {
		t.Fatalf("Get = %v", err)
	}
}

// gateReader returns its first half, then blocks until released.
type gateReader struct {
	data    []byte
	off     int
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func (r *gateReader) Read(p []byte) (int, error) {
	if r.off == len(r.data)/2 {
		r.once.Do(func() { close(r.reached) })
		<-r.release
	}
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	end := len(r.data)
	if r.off < len(r.data)/2 {
		end = len(r.data) / 2
	}
	n := copy(p, r.data[r.off:end])
	r.off += n
	return n, nil
}

func (r *gateReader) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekStart {
		return 0, errors.New("only rewinds")
	}
	r.off = 0
	return 0, nil
}

func TestDirNoPartialObjectVisible(t *testing.T) {
	root := t.TempDir()
	d := lake.Dir(root)
	put(t, d, "k/obj", "old", lake.PutOptions{})
	r := &gateReader{data: bytes.Repeat([]byte("N"), 1<<20), reached: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error)
	go func() { done <- d.Put(context.Background(), "k/obj", r, lake.PutOptions{}) }()
	<-r.reached

	// Half the new body is on disk, in a temporary file nobody sees.
	if body, _ := get(t, d, "k/obj"); body != "old" {
		t.Fatalf("mid-Put Get = %d bytes", len(body))
	}
	if keys := listKeys(t, d, ""); !slices.Equal(keys, []string{"k/obj"}) {
		t.Fatalf("mid-Put List = %q", keys)
	}
	temps := 0
	for _, f := range files(t, root) {
		if strings.Contains(f, ".lake-tmp-") {
			temps++
		}
	}
	if temps != 1 {
		t.Fatalf("want one temporary file mid-Put, have %q", files(t, root))
	}
	close(r.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if body, _ := get(t, d, "k/obj"); len(body) != 1<<20 {
		t.Fatalf("after Put: %d bytes", len(body))
	}
	for _, f := range files(t, root) {
		if strings.Contains(f, "tmp") {
			t.Fatalf("temporary file left: %s", f)
		}
	}
}

func TestDirConcurrentPutsOneKey(t *testing.T) {
	root := t.TempDir()
	d := lake.Dir(root)
	ctx := context.Background()
	const writers, size = 12, 64 << 10
	var wg sync.WaitGroup
	stop := make(chan struct{})
	readErrs := make(chan error, 1)
	// A reader checks every version it sees is whole and carries its own metadata.
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			obj, err := d.Get(ctx, "same/key")
			if errors.Is(err, lake.ErrNotFound) {
				continue
			}
			if err == nil {
				err = checkWhole(obj, size)
			}
			if err != nil {
				select {
				case readErrs <- err:
				default:
				}
				return
			}
		}
	})
	var writeWG sync.WaitGroup
	for i := range writers {
		writeWG.Go(func() {
			body := bytes.Repeat([]byte{byte('a' + i)}, size)
			opts := lake.PutOptions{Metadata: map[string]string{"writer": string(rune('a' + i))}}
			if err := d.Put(ctx, "same/key", bytes.NewReader(body), opts); err != nil {
				t.Error(err)
			}
		})
	}
	writeWG.Wait()
	close(stop)
	wg.Wait()
	select {
	case err := <-readErrs:
		t.Fatal(err)
	default:
	}
	obj, err := d.Get(ctx, "same/key")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkWhole(obj, size); err != nil {
		t.Fatal(err)
	}
	if obj.Info.Metadata == nil {
		t.Fatal("final object lost its metadata")
	}
	if keys := listKeys(t, d, ""); !slices.Equal(keys, []string{"same/key"}) {
		t.Fatalf("keys = %q", keys)
	}
	if n := len(files(t, root)); n != 2 { // the object and its sidecar
		t.Fatalf("files = %q", files(t, root))
	}
}

// checkWhole reads and closes obj, checking it is size copies of one byte
// and that its metadata, if any, names that byte.
func checkWhole(obj *lake.Object, size int) error {
	defer obj.Body.Close()
	data, err := io.ReadAll(obj.Body)
	if err != nil {
		return err
	}
	if len(data) != size || bytes.Count(data, data[:1]) != size {
		return fmt.Errorf("torn object: %d bytes", len(data))
	}
	if w, ok := obj.Info.Metadata["writer"]; ok && w != string(data[:1]) {
		return fmt.Errorf("body of writer %q has metadata of writer %q", data[:1], w)
	}
	return nil
}

func TestDirConflicts(t *testing.T) {
	root := t.TempDir()
	d := lake.Dir(root)
	ctx := context.Background()
	put(t, d, "a", "file a", lake.PutOptions{})
	put(t, d, "x/y", "file x/y", lake.PutOptions{})
	if err := d.Put(ctx, "a/b", strings.NewReader("z"), lake.PutOptions{}); !errors.Is(err, lake.ErrConflict) {
		t.Errorf("Put a/b over object a: %v", err)
	}
	if err := d.Put(ctx, "x", strings.NewReader("z"), lake.PutOptions{}); !errors.Is(err, lake.ErrConflict) {
		t.Errorf("Put x over folder x: %v", err)
	}
	if keys := listKeys(t, d, ""); !slices.Equal(keys, []string{"a", "x/y"}) {
		t.Fatalf("keys = %q", keys)
	}
}

func TestDirReservedAndLongSegments(t *testing.T) {
	root := t.TempDir()
	d := lake.Dir(root)
	ctx := context.Background()
	for _, k := range []string{".lake/meta/a.meta", "a/.lake-tmp-0123", "a/.lakefront", strings.Repeat("s", 251)} {
		if err := d.Put(ctx, k, strings.NewReader("x"), lake.PutOptions{}); !errors.Is(err, lake.ErrInvalidKey) {
			t.Errorf("Put(%.20q) = %v", k, err)
		}
		if _, err := d.Get(ctx, k); !errors.Is(err, lake.ErrInvalidKey) {
			t.Errorf("Get(%.20q) = %v", k, err)
		}
	}
	if _, err := d.List(ctx, ".lake/", lake.ListOptions{}); !errors.Is(err, lake.ErrInvalidKey) {
		t.Errorf("List(.lake/) = %v", err)
	}
	put(t, d, strings.Repeat("s", 250), "x", lake.PutOptions{Metadata: map[string]string{"k": "v"}})
	put(t, d, ".hidden/ok", "x", lake.PutOptions{})
	if keys := listKeys(t, d, ""); len(keys) != 2 || keys[0] != ".hidden/ok" {
		t.Fatalf("keys = %q", keys)
	}
}

func TestDirSidecarsInvisible(t *testing.T) {
	root := t.TempDir()
	d := lake.Dir(root)
	meta := lake.PutOptions{ContentType: "application/json", Metadata: map[string]string{"a": "b"}}
	put(t, d, "events/2024/01/15/14/s_1_00000000000000000001.jsonl", "{}\n", meta)
	put(t, d, "snapshots/s/1.json", "{}", meta)
	for _, f := range files(t, root) {
		if strings.HasPrefix(f, ".lake/") {
			if !strings.HasSuffix(f, ".meta") {
				t.Errorf("hidden file %s does not end in .meta", f)
			}
			continue
		}
		if f != "events/2024/01/15/14/s_1_00000000000000000001.jsonl" && f != "snapshots/s/1.json" {
			t.Errorf("unexpected file %s", f)
		}
	}
	// Globs match hidden names too, like DuckDB's: none reaches a sidecar.
	globs := map[string]int{
		"events/*/*/*/*/*.jsonl":     1,
		"snapshots/*/*.json":         1,
		"*/*/*.json":                 1,
		"*/*/*/*/*/*.jsonl":          1,
		"*/*/*/*/*.json":             0,
		"*/*/*/*/*/*/*/*.jsonl":      0,
		"*/*/*/*/*/*/*/*.jsonl.meta": 1,
	}
	for glob, want := range globs {
		m, _ := filepath.Glob(filepath.Join(root, glob))
		if len(m) != want {
			t.Errorf("glob %s matches %q", glob, m)
		}
	}
	if keys := listKeys(t, d, ""); len(keys) != 2 {
		t.Fatalf("keys = %q", keys)
	}
}

func TestDirSidecarNamesNeverCollide(t *testing.T) {
	root := t.TempDir()
	d := lake.Dir(root)
	m := func(v string) lake.PutOptions { return lake.PutOptions{Metadata: map[string]string{"v": v}} }
	// Keys whose sidecars would share a name under a plain "key.meta" scheme.
	put(t, d, "a", "1", m("a"))
	put(t, d, "a.meta/b", "2", m("a.meta/b"))
	put(t, d, "c.meta/d.meta/e", "3", m("c.meta/d.meta/e"))
	put(t, d, "c", "4", m("c"))
	put(t, d, "c.meta/d", "5", m("c.meta/d"))
	for _, k := range []string{"a", "a.meta/b", "c.meta/d.meta/e", "c", "c.meta/d"} {
		if _, info := get(t, d, k); info.Metadata["v"] != k {
			t.Errorf("%s: metadata %q", k, info.Metadata)
		}
	}
}

func TestDirStaleSidecarIgnored(t *testing.T) {
	root := t.TempDir()
	d := lake.Dir(root)
	put(t, d, "k", "with metadata", lake.PutOptions{ContentType: "text/plain", Metadata: map[string]string{"a": "b"}})
	// Another process (or a crash between the two renames) replaces the
	// object without its sidecar.
	if err := os.WriteFile(filepath.Join(root, "k"), []byte("replaced"), 0o644); err != nil {
		t.Fatal(err)
	}
	body, info := get(t, d, "k")
	if body != "replaced" || info.Metadata != nil || info.ContentType != lake.DefaultContentType {
		t.Fatalf("got %q %q %v", body, info.ContentType, info.Metadata)
	}
	// A damaged sidecar is ignored too.
	put(t, d, "k", "again", lake.PutOptions{Metadata: map[string]string{"a": "b"}})
	if err := os.WriteFile(filepath.Join(root, ".lake", "meta", "k.meta"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if body, info := get(t, d, "k"); body != "again" || info.Metadata != nil {
		t.Fatalf("got %q %v", body, info.Metadata)
	}
}

func TestDirFolderLifecycle(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "not", "yet")
	d := lake.Dir(root)
	if page, err := d.List(ctx, "", lake.ListOptions{}); err != nil || len(page.Objects) != 0 {
		t.Fatalf("List of a missing folder: %+v %v", page, err)
	}
	if _, err := d.Get(ctx, "a"); !errors.Is(err, lake.ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
	put(t, d, "a/b/c", "x", lake.PutOptions{Metadata: map[string]string{"k": "v"}})
	put(t, d, "a/d", "x", lake.PutOptions{})
	if err := d.Delete(ctx, "a/b/c"); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"a/b", ".lake/meta/a.d"} {
		if _, err := os.Stat(filepath.Join(root, gone)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("empty folder %s kept: %v", gone, err)
		}
	}
	if got := files(t, root); !slices.Equal(got, []string{"a/d"}) {
		t.Fatalf("files = %q", got)
	}

	// Errors of Dir surface on use.
	bad := lake.Dir("")
	if err := bad.Put(ctx, "k", strings.NewReader("x"), lake.PutOptions{}); err == nil {
		t.Error("Put on Dir(\"\") succeeded")
	}
	if _, err := bad.List(ctx, "", lake.ListOptions{}); err == nil {
		t.Error("List on Dir(\"\") succeeded")
	}
	// A folder that is a file fails clearly.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if err := lake.Dir(file).Put(ctx, "k", strings.NewReader("x"), lake.PutOptions{}); err == nil {
		t.Error("Put into a file succeeded")
	}
}

func TestDirManyKeysOneFolderPaging(t *testing.T) {
	// Paging a big folder reads it once per page and stats only what it returns.
	root := t.TempDir()
	d := lake.Dir(root)
	if err := os.MkdirAll(filepath.Join(root, "big"), 0o755); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := range 1500 {
		keys = append(keys, "big/"+strconv.Itoa(i))
	}
	for _, k := range keys {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(k)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	got := listKeys(t, d, "big/")
	if !slices.Equal(got, slices.Sorted(slices.Values(keys))) {
		t.Fatalf("%d keys, not in order", len(got))
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("listing 1500 keys took %v", el)
	}
}
