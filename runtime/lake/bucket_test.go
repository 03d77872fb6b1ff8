package lake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/laketest"
)

// eachBucket runs f against every kind of bucket, each new and empty.
func eachBucket(t *testing.T, f func(t *testing.T, b lake.Bucket)) {
	t.Helper()
	for name, b := range laketest.Buckets(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

func TestPutGetOverwrite(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		before := time.Now().Add(-2 * time.Second)
		put(t, b, "a/b/c.txt", "first", lake.PutOptions{})
		body, info := get(t, b, "a/b/c.txt")
		if body != "first" || info.Key != "a/b/c.txt" || info.Size != 5 {
			t.Fatalf("got %q %+v", body, info)
		}
		if info.LastModified.Location() != time.UTC || info.LastModified.Before(before) || info.LastModified.After(time.Now().Add(2*time.Second)) {
			t.Errorf("LastModified = %v", info.LastModified)
		}
		if info.ContentType != lake.DefaultContentType || info.Metadata != nil {
			t.Errorf("default content type/metadata: %q %v", info.ContentType, info.Metadata)
		}

		put(t, b, "a/b/c.txt", "second, longer", lake.PutOptions{ContentType: "text/plain"})
		body, info = get(t, b, "a/b/c.txt")
		if body != "second, longer" || info.Size != int64(len(body)) || info.ContentType != "text/plain" {
			t.Fatalf("after overwrite: %q %+v", body, info)
		}
		put(t, b, "a/b/c.txt", "", lake.PutOptions{})
		if body, info = get(t, b, "a/b/c.txt"); body != "" || info.Size != 0 || info.ContentType != lake.DefaultContentType {
			t.Fatalf("empty object: %q %+v", body, info)
		}
		if keys := listKeys(t, b, ""); !slices.Equal(keys, []string{"a/b/c.txt"}) {
			t.Fatalf("keys = %q", keys)
		}
	})
}

func TestPutRewindsBody(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		r := strings.NewReader("whole body")
		io.CopyN(io.Discard, r, 6)
		if err := b.Put(context.Background(), "k", r, lake.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if body, _ := get(t, b, "k"); body != "whole body" {
			t.Fatalf("body = %q", body)
		}
	})
}

func TestTrickyKeys(t *testing.T) {
	keys := []string{
		"sp ace/a+b=c&d?e#f",
		"pct/%41%2F%zz",
		"unicode/日本語/ü-ß.json",
		"dots/.hidden/a..b/...",
		"semi;colon/(paren)/'quote'/\"dq\"",
		"tilde/~user/*star*/[br]",
	}
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		for _, k := range keys {
			put(t, b, k, "body of "+k, lake.PutOptions{})
		}
		for _, k := range keys {
			if body, info := get(t, b, k); body != "body of "+k || info.Key != k {
				t.Errorf("Get(%q) = %q, %q", k, body, info.Key)
			}
		}
		want := slices.Sorted(slices.Values(keys))
		if got := listKeys(t, b, ""); !slices.Equal(got, want) {
			t.Errorf("list = %q, want %q", got, want)
		}
	})
}

func TestMetadataRoundTrip(t *testing.T) {
	meta := map[string]string{
		"doId":       "store-1",
		"doName":     "Café ☕ ünïcode",
		"doColo":     "  padded\t",
		"eventCount": "42",
		"plain":      "a=?b?=c",
		"Mixed_Case": "x",
		"empty":      "",
		"ctl":        "line1\nline2",
	}
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		put(t, b, "m/obj.jsonl", "{}\n", lake.PutOptions{ContentType: "application/x-ndjson", Metadata: meta})
		_, info := get(t, b, "m/obj.jsonl")
		if info.ContentType != "application/x-ndjson" {
			t.Errorf("content type = %q", info.ContentType)
		}
		if !maps.Equal(info.Metadata, meta) {
			t.Errorf("metadata = %q\nwant       %q", info.Metadata, meta)
		}
		// Overwriting without metadata drops the old metadata.
		put(t, b, "m/obj.jsonl", "{}\n", lake.PutOptions{})
		if _, info := get(t, b, "m/obj.jsonl"); info.Metadata != nil || info.ContentType != lake.DefaultContentType {
			t.Errorf("after plain overwrite: %q %v", info.ContentType, info.Metadata)
		}
		// The listing carries no metadata.
		page, err := b.List(context.Background(), "m/", lake.ListOptions{})
		if err != nil || len(page.Objects) != 1 || page.Objects[0].Size != 3 || page.Objects[0].LastModified.IsZero() {
			t.Fatalf("list: %+v %v", page, err)
		}
	})
}

func TestGetNotFound(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		put(t, b, "dir/obj", "x", lake.PutOptions{})
		for _, k := range []string{"missing", "dir", "dir/obj/child", "dir/ob"} {
			obj, err := b.Get(context.Background(), k)
			if !errors.Is(err, lake.ErrNotFound) || obj != nil {
				t.Errorf("Get(%q) = %v, %v; want ErrNotFound", k, obj, err)
			}
		}
	})
}

func TestDelete(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		put(t, b, "d/one", "1", lake.PutOptions{Metadata: map[string]string{"k": "v"}})
		put(t, b, "d/two", "2", lake.PutOptions{})
		put(t, b, "d/sub/three", "3", lake.PutOptions{})
		for _, k := range []string{"d/one", "d/one", "never/was", "d", "d/sub"} {
			if err := b.Delete(ctx, k); err != nil {
				t.Fatalf("Delete(%q): %v", k, err)
			}
		}
		if _, err := b.Get(ctx, "d/one"); !errors.Is(err, lake.ErrNotFound) {
			t.Fatalf("Get after delete: %v", err)
		}
		if keys := listKeys(t, b, ""); !slices.Equal(keys, []string{"d/sub/three", "d/two"}) {
			t.Fatalf("keys = %q", keys)
		}
		if err := b.Delete(ctx, "d/sub/three"); err != nil {
			t.Fatal(err)
		}
		// A key deleted and put again has only its new metadata.
		put(t, b, "d/one", "new", lake.PutOptions{})
		if body, info := get(t, b, "d/one"); body != "new" || info.Metadata != nil {
			t.Fatalf("re-put: %q %v", body, info.Metadata)
		}
		if keys := listKeys(t, b, ""); !slices.Equal(keys, []string{"d/one", "d/two"}) {
			t.Fatalf("keys = %q", keys)
		}
	})
}

// pagingKeys returns n keys whose lexical order differs from the order of
// folders walked naively ('-' and ' ' sort before '/').
func pagingKeys(n int) []string {
	keys := make([]string, 0, n)
	for i := 0; len(keys) < n; i++ {
		switch i % 4 {
		case 0:
			keys = append(keys, fmt.Sprintf("p/%03d/x", i/4))
		case 1:
			keys = append(keys, fmt.Sprintf("p/%03d-x", i/4))
		case 2:
			keys = append(keys, fmt.Sprintf("p/%03d x", i/4))
		case 3:
			keys = append(keys, fmt.Sprintf("p/%03d/y/z", i/4))
		}
	}
	return keys
}

// putMany puts every key (body = key) with a few workers.
func putMany(t *testing.T, b lake.Bucket, keys []string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	work := make(chan string)
	for range 6 {
		wg.Go(func() {
			for k := range work {
				if err := b.Put(context.Background(), k, strings.NewReader(k), lake.PutOptions{}); err != nil {
					errs <- fmt.Errorf("Put(%q): %w", k, err)
				}
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestListOrderAndPaging(t *testing.T) {
	keys := pagingKeys(1050)
	want := slices.Sorted(slices.Values(keys))
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		putMany(t, b, keys)
		put(t, b, "q/outside", "x", lake.PutOptions{}) // after the prefix
		put(t, b, "o/outside", "x", lake.PutOptions{}) // before the prefix

		// Default page: the S3 page size.
		page, err := b.List(ctx, "p/", lake.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Objects) != lake.MaxListLimit || !page.More {
			t.Fatalf("first page: %d objects, More=%v", len(page.Objects), page.More)
		}
		for i, o := range page.Objects {
			if o.Key != want[i] || o.Size != int64(len(o.Key)) {
				t.Fatalf("object %d = %+v, want key %q", i, o, want[i])
			}
		}
		page, err = b.List(ctx, "p/", lake.ListOptions{StartAfter: want[999]})
		if err != nil || len(page.Objects) != len(want)-1000 || page.More {
			t.Fatalf("second page: %d objects, More=%v, %v", len(page.Objects), page.More, err)
		}
		if page.Objects[0].Key != want[1000] {
			t.Fatalf("second page starts at %q", page.Objects[0].Key)
		}
		// Limits above the page size are the page size.
		if page, err = b.List(ctx, "p/", lake.ListOptions{Limit: 5000}); err != nil || len(page.Objects) != 1000 {
			t.Fatalf("limit 5000: %d, %v", len(page.Objects), err)
		}

		// ListAll pages through everything, in order.
		if got := listKeys(t, b, "p/"); !slices.Equal(got, want) {
			t.Fatalf("ListAll: %d keys, order differs from sorted %d keys", len(got), len(want))
		}
		// Small pages, chained by StartAfter.
		var got []string
		opts := lake.ListOptions{Limit: 97}
		for {
			page, err := b.List(ctx, "p/", opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Objects {
				got = append(got, o.Key)
			}
			if !page.More {
				break
			}
			opts.StartAfter = page.Objects[len(page.Objects)-1].Key
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages of 97: %d keys, differ from sorted", len(got))
		}
		// StartAfter need not be a key, and can be inside a folder.
		for _, sa := range []string{"p/050", "p/050/", "p/050/x", "p/050/xa", "p/050/y", "p/", "a", "p/zzz"} {
			page, err := b.List(ctx, "p/", lake.ListOptions{StartAfter: sa, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			i, _ := slices.BinarySearch(want, sa+"\x00")
			end := min(i+3, len(want))
			var keys []string
			for _, o := range page.Objects {
				keys = append(keys, o.Key)
			}
			if !slices.Equal(keys, want[i:end]) || page.More != (end < len(want)) {
				t.Errorf("StartAfter %q: %q More=%v, want %q", sa, keys, page.More, want[i:end])
			}
		}
		// A prefix that is not a folder.
		if got := listKeys(t, b, "p/05"); !slices.Equal(got, filterPrefix(want, "p/05")) {
			t.Errorf("prefix p/05: %q", got)
		}
		if got := listKeys(t, b, ""); len(got) != len(want)+2 || got[0] != "o/outside" || got[len(got)-1] != "q/outside" {
			t.Errorf("whole bucket: %d keys", len(got))
		}
	})
}

func filterPrefix(keys []string, prefix string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

func TestListPrefixIsolation(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		for _, k := range []string{"snapshots/do-1/1.json", "snapshots/do-1/2.json", "snapshots/do-10/1.json", "snapshots/do-1-x/1.json", "snapshots/do-2/1.json", "snapshots/do-1.json"} {
			put(t, b, k, "{}", lake.PutOptions{})
		}
		if got := listKeys(t, b, "snapshots/do-1/"); !slices.Equal(got, []string{"snapshots/do-1/1.json", "snapshots/do-1/2.json"}) {
			t.Errorf("do-1/: %q", got)
		}
		// A full page whose next keys are outside the prefix has no More.
		page, err := b.List(ctx, "snapshots/do-1/", lake.ListOptions{Limit: 2})
		if err != nil || len(page.Objects) != 2 || page.More {
			t.Errorf("page of 2: %+v %v", page, err)
		}
		if got := listKeys(t, b, "snapshots/do-1"); len(got) != 5 {
			t.Errorf("do-1 without slash: %q", got)
		}
		if got := listKeys(t, b, "nothing/"); len(got) != 0 {
			t.Errorf("nothing/: %q", got)
		}
	})
}

var badKeys = map[string]string{
	"empty":            "",
	"dot-dot":          "a/../b",
	"leading-dot-dot":  "../etc/passwd",
	"dot":              "a/./b",
	"only-dot":         ".",
	"absolute":         "/abs/key",
	"backslash":        `a\b`,
	"backslash-dotdot": `..\..\x`,
	"nul":              "a\x00b",
	"newline":          "a\nb",
	"tab":              "a\tb",
	"del":              "a\x7fb",
	"c1-control":       "a\u0085b",
	"empty-segment":    "a//b",
	"trailing-slash":   "a/b/",
	"too-long":         strings.Repeat("k", lake.MaxKeyLen+1),
	"invalid-utf8":     "a\xffb",
}

func TestBadKeysRejected(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		put(t, b, "a/b", "keep", lake.PutOptions{})
		for name, key := range badKeys {
			err := b.Put(ctx, key, strings.NewReader("bad"), lake.PutOptions{})
			if !errors.Is(err, lake.ErrInvalidKey) {
				t.Errorf("%s: Put(%q) = %v, want ErrInvalidKey", name, key, err)
			}
			if _, err := b.Get(ctx, key); !errors.Is(err, lake.ErrInvalidKey) {
				t.Errorf("%s: Get = %v", name, err)
			}
			if err := b.Delete(ctx, key); !errors.Is(err, lake.ErrInvalidKey) {
				t.Errorf("%s: Delete = %v", name, err)
			}
			if key != "" && key != "a/b/" {
				if _, err := b.List(ctx, key, lake.ListOptions{}); !errors.Is(err, lake.ErrInvalidKey) {
					t.Errorf("%s: List = %v", name, err)
				}
			}
		}
		if keys := listKeys(t, b, ""); !slices.Equal(keys, []string{"a/b"}) {
			t.Fatalf("bad keys changed the bucket: %q", keys)
		}
		if body, _ := get(t, b, "a/b"); body != "keep" {
			t.Fatalf("a/b = %q", body)
		}
		// The longest valid key works.
		seg := strings.Repeat("s", 200)
		long := seg + "/" + seg + "/" + seg + "/" + seg + "/" + seg + "/" + strings.Repeat("x", lake.MaxKeyLen-5*201)
		put(t, b, long, "long", lake.PutOptions{})
		if body, _ := get(t, b, long); body != "long" {
			t.Fatalf("long key = %q", body)
		}
	})
}

func TestBadOptionsRejected(t *testing.T) {
	bad := map[string]lake.PutOptions{
		"content-type-ctl":   {ContentType: "text/plain\r\nX-Evil: 1"},
		"content-type-junk":  {ContentType: "not a media type"},
		"content-type-utf8":  {ContentType: "text/plain; charset=ü"},
		"meta-key-space":     {Metadata: map[string]string{"a b": "v"}},
		"meta-key-empty":     {Metadata: map[string]string{"": "v"}},
		"meta-key-colon":     {Metadata: map[string]string{"a:b": "v"}},
		"meta-key-dup-case":  {Metadata: map[string]string{"Key": "1", "key": "2"}},
		"meta-value-invalid": {Metadata: map[string]string{"k": "\xff"}},
		"meta-too-large":     {Metadata: map[string]string{"k": strings.Repeat("v", lake.MaxMetadataSize)}},
	}
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx := context.Background()
		for name, opts := range bad {
			err := b.Put(ctx, "opts/"+name, strings.NewReader("x"), opts)
			if !errors.Is(err, lake.ErrInvalidOptions) {
				t.Errorf("%s: Put = %v, want ErrInvalidOptions", name, err)
			}
		}
		if _, err := b.List(ctx, "", lake.ListOptions{Limit: -1}); !errors.Is(err, lake.ErrInvalidOptions) {
			t.Errorf("negative limit: %v", err)
		}
		if _, err := b.List(ctx, "", lake.ListOptions{StartAfter: "\xff"}); !errors.Is(err, lake.ErrInvalidOptions) {
			t.Errorf("invalid StartAfter: %v", err)
		}
		if keys := listKeys(t, b, ""); len(keys) != 0 {
			t.Fatalf("bad options changed the bucket: %q", keys)
		}
	})
}

func TestCanceledContext(t *testing.T) {
	eachBucket(t, func(t *testing.T, b lake.Bucket) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := b.Put(ctx, "c/k", strings.NewReader("x"), lake.PutOptions{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Put = %v", err)
		}
		if keys := listKeys(t, b, ""); len(keys) != 0 {
			t.Fatalf("canceled Put wrote %q", keys)
		}
	})
}
