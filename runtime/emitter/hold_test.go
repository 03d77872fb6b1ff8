package emitter_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// TestOneEmitterPerStore: a second emitter on a store, through the same
// handle or another handle on the file, fails with cdc.ErrHeld while the
// first lives; once it is closed a new one starts.
func TestOneEmitterPerStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s1 := openStoreAt(t, path)
	s2 := openStoreAt(t, path)
	opts := emitter.Options{Bucket: lake.Dir(t.TempDir()), CDC: true}
	em, err := emitter.New(s1, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*cdc.Store{s1, s2} {
		if _, err := emitter.New(s, opts); !errors.Is(err, cdc.ErrHeld) {
			t.Fatalf("second emitter: %v, want cdc.ErrHeld", err)
		}
	}
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}
	em2, err := emitter.New(s2, opts)
	if err != nil {
		t.Fatalf("emitter after Close: %v", err)
	}
	if err := em2.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
