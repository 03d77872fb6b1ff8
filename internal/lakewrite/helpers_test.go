package lakewrite_test

import (
	"context"
	"io"
	"strings"
	"testing"

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

func put(t *testing.T, b lake.Bucket, key, body string, opts lake.PutOptions) {
	t.Helper()
	if err := b.Put(context.Background(), key, strings.NewReader(body), opts); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

// get returns the object's content and info.
func get(t *testing.T, b lake.Bucket, key string) (string, lake.ObjectInfo) {
	t.Helper()
	obj, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return string(data), obj.Info
}

func listKeys(t *testing.T, b lake.Bucket, prefix string) []string {
	t.Helper()
	all, err := lake.ListAll(context.Background(), b, prefix)
	if err != nil {
		t.Fatalf("ListAll(%q): %v", prefix, err)
	}
	keys := make([]string, len(all))
	for i, o := range all {
		keys[i] = o.Key
	}
	return keys
}
