package emitter

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
)

// TestSeqBlocksReservedAhead: sequence numbers come from blocks reserved in
// the store ahead of need, so Emit never waits for the writer: inside the
// caller's transaction a used-up block makes Emit refuse (ErrBacklogFull)
// instead of deadlocking, and a new emitter never reuses a number.
func TestSeqBlocksReservedAhead(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	opts := Options{Endpoint: srv.URL, Logger: slog.New(slog.DiscardHandler)}
	e, err := New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.seq.block, e.seq.end = 16, e.seq.next+16 // a small block, to use it up
	e.mu.Unlock()
	var accepted, refused int
	err = store.Update(ctx, func(tx *cdc.Tx) error {
		for range 40 {
			switch err := e.Emit(events.Custom{Type: "t"}); {
			case err == nil:
				accepted++
			case errors.Is(err, ErrBacklogFull):
				refused++
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if accepted != 16 || refused != 24 {
		t.Fatalf("accepted %d, refused %d", accepted, refused)
	}
	// Once the writer is free the next block arrives and Emit goes on.
	deadline := time.Now().Add(10 * time.Second)
	for e.Emit(events.Custom{Type: "t"}) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no new block")
		}
		time.Sleep(time.Millisecond)
	}
	e.mu.Lock()
	used := e.seq.next - 1
	e.mu.Unlock()
	Abandon(e)
	e2, err := New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if e2.seq.next <= used {
		t.Fatalf("new emitter starts at %d, at or below used %d", e2.seq.next, used)
	}
}
