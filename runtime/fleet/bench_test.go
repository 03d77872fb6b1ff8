package fleet_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
)

// benchEnv gates the measured load: FLEET_BENCH=1 go test -run TestLoad -v ./runtime/fleet/
const benchEnv = "FLEET_BENCH"

// arrivals records when each (store, doc) first reached a sink.
type arrivals struct {
	mu       sync.Mutex
	at       map[[2]string]time.Time
	requests int
	events   int
}

func newArrivals() *arrivals { return &arrivals{at: map[[2]string]time.Time{}} }

func (a *arrivals) record(lines [][]byte) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	for _, l := range lines {
		var ev struct {
			DocID string `json:"docId"`
			DO    struct {
				ID string `json:"id"`
			} `json:"do"`
		}
		if json.Unmarshal(l, &ev) == nil && ev.DocID != "" {
			a.events++
			k := [2]string{ev.DO.ID, ev.DocID}
			if _, ok := a.at[k]; !ok {
				a.at[k] = now
			}
		}
	}
}

// recordingBucket records the events written to the lake.
type recordingBucket struct {
	lake.Bucket
	a *arrivals
}

func (b recordingBucket) Put(ctx context.Context, key string, body io.ReadSeeker, opts lake.PutOptions) error {
	if err := b.Bucket.Put(ctx, key, body, opts); err != nil {
		return err
	}
	if _, err := body.Seek(0, io.SeekStart); err == nil {
		raw, _ := io.ReadAll(body)
		var lines [][]byte
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
		b.a.record(lines)
	}
	return nil
}

// recordingIngest records the events POSTed to it.
func recordingIngest(t testing.TB, a *arrivals) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		lines := make([][]byte, len(body.Events))
		for i, e := range body.Events {
			lines[i] = e
		}
		a.record(lines)
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func p99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)*99/100]
}

// pace calls write(i) rate times a second for dur, spread over workers
// goroutines, and returns each call's commit time.
func pace(rate int, dur time.Duration, workers int, write func(i int) (time.Time, time.Duration)) (map[int]time.Time, []time.Duration) {
	commits := map[int]time.Time{}
	var puts []time.Duration
	var mu sync.Mutex
	total := int(float64(rate) * dur.Seconds())
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < total; i += workers {
				due := start.Add(time.Duration(float64(i) / float64(rate) * float64(time.Second)))
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				at, put := write(i)
				mu.Lock()
				commits[i] = at
				puts = append(puts, put)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return commits, puts
}

// TestLoad2000 measures 2,000 stores × 1 change/s through a fleet
// (MaxOpen 2,500, BatchSize 1000, HTTP + lake.Dir) against two controls in
// the same process: one store pushing the same 2,000 changes/s through one
// emitter, and the same 2,000 stores writing with no sinks.
func TestLoad2000(t *testing.T) {
	if os.Getenv(benchEnv) == "" {
		t.Skip("set " + benchEnv + "=1 to run")
	}
	const stores, rate = 2000, 2000
	dur := 20 * time.Second
	ctx := context.Background()
	storeDir, lakeDir := t.TempDir(), t.TempDir()
	id := func(i int) string { return fmt.Sprintf("t%04d", i%stores) }

	// Candidate: the fleet.
	a := newArrivals()
	srv := recordingIngest(t, a)
	lb := recordingBucket{lake.Dir(lakeDir), newArrivals()}
	f, err := fleet.Open(ctx, fleet.Options{Dir: storeDir, Class: "Tenant", MaxOpen: 2500,
		Emitter: emitter.Options{Endpoint: srv.URL, Bucket: lb}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range stores { // create them (not measured)
		if err := f.Do(ctx, id(i), func(s *cdc.Store) error { return users(t, s).Put(ctx, "warm", user{}) }); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	go f.Run(runCtx)
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.requests, a.events = 0, 0
	a.mu.Unlock()
	cpu0, wall0 := cpuTime(), time.Now()
	commits, puts := pace(rate, dur, 8, func(i int) (time.Time, time.Duration) {
		var at time.Time
		var put time.Duration
		if err := f.Do(ctx, id(i), func(s *cdc.Store) error {
			c, err := cdc.NewCollection[user](s, "users")
			if err != nil {
				return err
			}
			t0 := time.Now()
			err = c.Put(ctx, fmt.Sprint("d", i), user{N: i})
			at = time.Now()
			put = at.Sub(t0)
			return err
		}); err != nil {
			t.Error(err)
		}
		return at, put
	})
	// Let the pipeline catch up (its last batches), then stop the clock.
	waitFor(t, "every event delivered", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		lb.a.mu.Lock()
		defer lb.a.mu.Unlock()
		return len(a.at) >= len(commits) && len(lb.a.at) >= len(commits)
	})
	fleetCPU, fleetWall := cpuTime()-cpu0, time.Since(wall0)
	cancel()
	lags := func(ar *arrivals) []time.Duration {
		ar.mu.Lock()
		defer ar.mu.Unlock()
		var out []time.Duration
		for i, c := range commits {
			if at, ok := ar.at[[2]string{id(i), fmt.Sprint("d", i)}]; ok {
				out = append(out, at.Sub(c))
			}
		}
		return out
	}
	httpLag, lakeLag := lags(a), lags(lb.a)
	st := f.Stats()
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	reqPer500 := float64(a.requests) / float64(a.events) * 500
	a.mu.Unlock()
	t.Logf("fleet: %d changes in %v: Put p99 %v; lag p99 http %v lake %v; %.2f HTTP requests per 500 events; lake objects %d; CPU %v (%.2f cores)",
		len(commits), fleetWall.Round(time.Millisecond), p99(puts), p99(httpLag), p99(lakeLag), reqPer500, lb.a.requests,
		fleetCPU, fleetCPU.Seconds()/fleetWall.Seconds())
	t.Logf("fleet stats: %+v", st)

	// Control 1: the same 2,000 stores writing with no sinks.
	dbs := make([]*cdc.Store, stores)
	for i := range stores {
		if dbs[i], err = cdc.Open(ctx, filepath.Join(storeDir, fleet.FileName(id(i)))); err != nil {
			t.Fatal(err)
		}
	}
	cpu0, wall0 = cpuTime(), time.Now()
	_, _ = pace(rate, dur, 8, func(i int) (time.Time, time.Duration) {
		t0 := time.Now()
		c, err := cdc.NewCollection[user](dbs[i%stores], "users") // as the fleet's writes do
		if err == nil {
			err = c.Put(ctx, fmt.Sprint("n", i), user{N: i})
		}
		if err != nil {
			t.Error(err)
		}
		return time.Now(), time.Since(t0)
	})
	noSinkCPU, noSinkWall := cpuTime()-cpu0, time.Since(wall0)
	for _, db := range dbs {
		db.Close()
	}
	t.Logf("no sinks: CPU %v (%.2f cores)", noSinkCPU, noSinkCPU.Seconds()/noSinkWall.Seconds())

	// Control 2: one store, one emitter, the same rate and sinks.
	a2 := newArrivals()
	srv2 := recordingIngest(t, a2)
	one, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "one.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	em, err := emitter.New(one, emitter.Options{CDC: true, Endpoint: srv2.URL, BatchSize: 1000,
		Bucket: recordingBucket{lake.Dir(t.TempDir()), newArrivals()}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx2, cancel2 := context.WithCancel(ctx)
	go em.Run(runCtx2)
	oneCol := users(t, one)
	cpu0, wall0 = cpuTime(), time.Now()
	commits2, _ := pace(rate, dur, 8, func(i int) (time.Time, time.Duration) {
		t0 := time.Now()
		if err := oneCol.Put(ctx, fmt.Sprint("d", i), user{N: i}); err != nil {
			t.Error(err)
		}
		return time.Now(), time.Since(t0)
	})
	waitFor(t, "the single emitter delivered", func() bool {
		a2.mu.Lock()
		defer a2.mu.Unlock()
		return len(a2.at) >= len(commits2)
	})
	oneCPU, oneWall := cpuTime()-cpu0, time.Since(wall0)
	cancel2()
	_ = em.Close(ctx)
	t.Logf("one emitter: CPU %v (%.2f cores)", oneCPU, oneCPU.Seconds()/oneWall.Seconds())
	t.Logf("ratios: fleet/one-emitter CPU %.2f; fleet/no-sinks CPU %.2f",
		fleetCPU.Seconds()/oneCPU.Seconds(), fleetCPU.Seconds()/noSinkCPU.Seconds())
}

// BenchmarkPut compares a Put through Do with a new collection each time
// (what a request handler does) to a Put through a long-lived collection,
// on the same open fleet store, interleaved.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	f := openFleet(b, fleet.Options{Dir: b.TempDir(), Emitter: emitter.Options{Bucket: lake.Dir(b.TempDir())}})
	var long *cdc.Collection[user]
	if err := f.Do(ctx, "bench", func(s *cdc.Store) error {
		var err error
		long, err = cdc.NewCollection[user](s, "users")
		return err
	}); err != nil {
		b.Fatal(err)
	}
	b.Run("long-lived", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if err := long.Put(ctx, "d", user{N: i}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Do+NewCollection", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if err := f.Do(ctx, "bench", func(s *cdc.Store) error {
				c, err := cdc.NewCollection[user](s, "users")
				if err != nil {
					return err
				}
				return c.Put(ctx, "d", user{N: i})
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestRestoreFromFleetLake measures snapshot.RestoreTo of one store from a
// fleet's lake of 2,000 stores against the same restore from a lake that
// holds only that store, interleaved.
func TestRestoreFromFleetLake(t *testing.T) {
	if os.Getenv(benchEnv) == "" {
		t.Skip("set " + benchEnv + "=1 to run")
	}
	ctx := context.Background()
	const stores, changes = 2000, 5
	fleetLake, oneLake := lake.Dir(t.TempDir()), lake.Dir(t.TempDir())
	f := openFleet(t, fleet.Options{Dir: t.TempDir(), MaxOpen: 2500, Emitter: emitter.Options{Bucket: fleetLake}})
	const target = "t0007"
	var last cdc.Bookmark
	for n := range changes {
		for i := range stores {
			id := fmt.Sprintf("t%04d", i)
			if err := f.Do(ctx, id, func(s *cdc.Store) error {
				if err := users(t, s).Put(ctx, fmt.Sprint("d", n), user{N: n}); err != nil {
					return err
				}
				if id == target {
					var err error
					last, err = s.Bookmark(ctx)
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
	}
	// The same store's changes alone, through one emitter.
	one, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "one.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	em, err := emitter.New(one, emitter.Options{CDC: true, Bucket: oneLake, Identity: eventsIdentity(target)})
	if err != nil {
		t.Fatal(err)
	}
	c := users(t, one)
	for n := range changes {
		if err := c.Put(ctx, fmt.Sprint("d", n), user{N: n}); err != nil {
			t.Fatal(err)
		}
	}
	oneLast, _ := one.Bookmark(ctx)
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_ = em.Close(ctx)
	restore := func(b lake.Bucket, bm cdc.Bookmark) time.Duration {
		fresh, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "fresh.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		start := time.Now()
		res, err := snapshotRestoreTo(ctx, fresh, b, target, bm)
		if err != nil {
			t.Fatalf("RestoreTo: %v", err)
		}
		if res != changes {
			t.Fatalf("replayed %d changes, want %d", res, changes)
		}
		return time.Since(start)
	}
	var tf, to time.Duration
	for range 3 {
		tf += restore(fleetLake, last)
		to += restore(oneLake, oneLast)
	}
	t.Logf("RestoreTo of one store: from the fleet's lake of %d stores %v, from its own lake %v (%.1f×)",
		stores, tf/3, to/3, tf.Seconds()/to.Seconds())
}
