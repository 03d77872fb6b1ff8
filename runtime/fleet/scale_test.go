package fleet_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
)

// scaleEnv gates the tests at scale: FLEET_SCALE=1 go test -run Scale ./runtime/fleet/
const scaleEnv = "FLEET_SCALE"

// openFDs counts this process's open descriptors.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestScale10k: 10,000 stores, MaxOpen 1,000, Zipf-distributed access,
// under the machine's descriptor limit: every change delivered; it logs the
// open-on-miss p99 and the peak descriptor count.
func TestScale10k(t *testing.T) {
	if os.Getenv(scaleEnv) == "" {
		t.Skip("set " + scaleEnv + "=1 to run")
	}
	ctx := context.Background()
	in := newIngest(t)
	b := lake.Dir(t.TempDir())
	f := openFleet(t, fleet.Options{Dir: t.TempDir(), Class: "Tenant", MaxOpen: 1000,
		Emitter: emitter.Options{Endpoint: in.srv.URL, Bucket: b, FlushInterval: 200 * time.Millisecond}})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go f.Run(runCtx)
	const n = 10_000
	want := map[string][]string{}
	put := func(id string) time.Duration {
		start := time.Now()
		if err := f.Do(ctx, id, func(s *cdc.Store) error {
			if err := users(t, s).Put(ctx, "u", user{Name: id}); err != nil {
				return err
			}
			want[id] = append(want[id], bookmark(t, s))
			return nil
		}); err != nil {
			t.Fatalf("Do %s: %v", id, err)
		}
		return time.Since(start)
	}
	peak := 0
	for i := range n { // create every store
		put(fmt.Sprintf("t%05d", i))
		if i%500 == 0 {
			peak = max(peak, openFDs())
		}
	}
	t.Logf("created %d stores; fds now %d", n, openFDs())
	// Zipf-distributed access: misses reopen closed stores.
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, n-1)
	var misses []time.Duration
	for i := range 20_000 {
		id := fmt.Sprintf("t%05d", z.Uint64())
		before := f.Stats().Opens
		d := put(id)
		if f.Stats().Opens > before {
			misses = append(misses, d)
		}
		if i%500 == 0 {
			peak = max(peak, openFDs())
		}
	}
	slices.Sort(misses)
	if len(misses) > 0 {
		t.Logf("open-on-miss: %d misses, p50 %v p99 %v max %v; peak fds %d", len(misses),
			misses[len(misses)/2], misses[len(misses)*99/100], misses[len(misses)-1], peak)
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	got, requests := in.snapshot()
	checkDelivery(t, "http", got, want, nil, "Tenant", false)
	checkDelivery(t, "lake", lakeEvents(t, b), want, nil, "Tenant", true)
	st := f.Stats()
	t.Logf("stats: open %d, opens %d, evictions %d, delivery opens %d; http requests %d for %d events",
		st.Open, st.Opens, st.Evictions, st.DeliveryOpens, requests, len(got))
	if st.Open > 1000 {
		t.Errorf("%d open, MaxOpen 1000", st.Open)
	}
	if peak > 10_000 {
		t.Errorf("peak %d descriptors, want at most 10,000", peak)
	}
}

// TestScaleStart100k: a new fleet over 100,000 store files whose changes
// were all delivered starts and serves its first Do without touching them
// (the index lists none as pending). The files are placeholders: the fleet
// must not open them.
func TestScaleStart100k(t *testing.T) {
	if os.Getenv(scaleEnv) == "" {
		t.Skip("set " + scaleEnv + "=1 to run")
	}
	ctx := context.Background()
	dir := t.TempDir()
	opts := fleet.Options{Dir: dir, Emitter: emitter.Options{Bucket: lake.Dir(t.TempDir())}}
	f, err := fleet.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 100_000 {
		if err := os.WriteFile(filepath.Join(dir, fleet.FileName(fmt.Sprintf("t%06d", i))), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	f2 := openFleet(t, opts)
	if err := f2.Do(ctx, "new-tenant", func(s *cdc.Store) error { return users(t, s).Put(ctx, "u", user{}) }); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("100,000 store files: Open + first Do took %v", took)
	if st := f2.Stats(); st.Opens != 1 {
		t.Errorf("opens = %d, want 1", st.Opens)
	}
}
