package emitter_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// TestLakeEnvironmentErrorRetried: a lake whose root is a file fails every
// write; that is the environment, not the events: the lake sink backs off
// and retries instead of dead-lettering, HTTP is not held back, and once the
// root is a folder every change and custom event arrives, once.
func TestLakeEnvironmentErrorRetried(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "lake")
	if err := os.WriteFile(root, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := newIngest(t)
	store := openStore(t)
	users := newUsers(t, store)
	clk := newClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	em, err := emitter.New(store, emitter.Options{Endpoint: in.URL, Bucket: lake.Dir(root), CDC: true,
		Now: clk.Now, Jitter: func() time.Duration { return 0 }, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)
	if err := users.Put(ctx, "u1", user{Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	for n := range 5 {
		mustEmit(t, em, custom("user.action", n))
	}
	for attempt := 1; attempt <= 3; attempt++ {
		err := em.Flush(ctx)
		var de *emitter.DeliveryError
		if !errors.As(err, &de) || de.Sink != "lake" || de.Permanent || errors.Is(err, emitter.ErrDeadLettered) {
			t.Fatalf("flush %d with a file as the lake root: %v", attempt, err)
		}
		st := em.Stats()
		if st.Lake.Attempt != attempt || st.Lake.DeadLettered != 0 || st.HTTP.Delivered != 6 {
			t.Fatalf("stats after attempt %d: %+v", attempt, st)
		}
	}
	if dead, err := em.DeadLetters(ctx, 0); err != nil || len(dead) != 0 {
		t.Fatalf("dead letters %v: %v", dead, err)
	}
	// Fixed: the next due retry delivers everything.
	if err := os.Remove(root); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if err := em.HandleAlarm(ctx); err != nil {
		t.Fatal(err)
	}
	evs := lakeEvents(t, lake.Dir(root))
	counts := idCounts(evs)
	if len(evs) != 6 || len(counts) != 6 {
		t.Fatalf("lake holds %d events, %d distinct", len(evs), len(counts))
	}
	if got := customNs(evs, "user.action"); !equalInts(got, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("custom events in the lake: %v", got)
	}
	if st := em.Stats(); st.Lake.Attempt != 0 || st.Lake.Delivered != 6 || len(in.events()) != 6 {
		t.Fatalf("stats after recovery: %+v", st)
	}
}

// TestLakeKeyClashDeadLettered: a folder of the lake that is an object
// (what a file-system-backed S3 server answers with 409) fails the same way
// until someone changes the bucket: the batch is set aside, not retried for
// ever, Flush says so, and Redrive delivers it once the bucket is fixed.
func TestLakeKeyClashDeadLettered(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	clash := filepath.Join(root, "events")
	if err := os.WriteFile(clash, []byte("an object where the events folder belongs"), 0o644); err != nil {
		t.Fatal(err)
	}
	store := openStore(t)
	em, err := emitter.New(store, emitter.Options{Bucket: lake.Dir(root), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)
	for n := range 3 {
		mustEmit(t, em, custom("user.action", n))
	}
	if err := em.Flush(ctx); !errors.Is(err, emitter.ErrDeadLettered) || !errors.Is(err, lake.ErrConflict) {
		t.Fatalf("flush into a clashing lake: %v, want ErrDeadLettered wrapping lake.ErrConflict", err)
	}
	dead, err := em.DeadLetters(ctx, 0)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters %+v: %v", dead, err)
	}
	if err := os.Remove(clash); err != nil {
		t.Fatal(err)
	}
	if n, err := em.Redrive(ctx); err != nil || n == 0 {
		t.Fatalf("redrive: %d, %v", n, err)
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	evs := lakeEvents(t, lake.Dir(root))
	if got := customNs(evs, "user.action"); !equalInts(got, []int{0, 1, 2}) || len(idCounts(evs)) != 3 {
		t.Fatalf("custom events in the lake after the redrive: %v", got)
	}
}
