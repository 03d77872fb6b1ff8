package cdc_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events/internal/sinkbench"
)

// BenchmarkWatchLatency measures, with 16 watchers of one store written at
// 1,000 commits/s (one Put each), how long after a Put returns each
// watcher yields its change; and how long Put takes with the watchers
// attached against without, in alternate rounds of the same process.
//
//	go test -run '^$' -bench WatchLatency -benchtime 1x ./runtime/cdc/
func BenchmarkWatchLatency(b *testing.B) {
	const (
		watchers = 16
		commits  = 3000 // per round
		rounds   = 3
		rate     = time.Millisecond // one commit per ms: 1,000/s
	)
	ctx := context.Background()
	s := openStore(b)
	users := newUsers(b, s)
	var lat, fromStart []time.Duration
	var putWith, putWithout []time.Duration
	for round := range 2 * rounds {
		attached := round%2 == 1
		bm, err := s.Bookmark(ctx)
		if err != nil {
			b.Fatal(err)
		}
		start := make([]time.Time, commits)
		done := make([]time.Time, commits)
		var mu sync.Mutex
		seen := make([][]time.Time, watchers)
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		if attached {
			for w := range watchers {
				seen[w] = make([]time.Time, 0, commits)
				wg.Go(func() {
					for c, err := range s.Watch(wctx, bm) {
						if err != nil {
							b.Error(err)
							return
						}
						now := time.Now()
						_ = c
						mu.Lock()
						seen[w] = append(seen[w], now)
						n := len(seen[w])
						mu.Unlock()
						if n == commits {
							return
						}
					}
				})
			}
		}
		next := time.Now()
		var puts []time.Duration
		for i := range commits {
			next = next.Add(rate)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			start[i] = time.Now()
			if err := users.Put(ctx, fmt.Sprintf("r%d-u%d", round, i), User{Name: "watched", Age: i}); err != nil {
				b.Fatal(err)
			}
			done[i] = time.Now()
			puts = append(puts, done[i].Sub(start[i]))
		}
		wg.Wait()
		cancel()
		if attached {
			putWith = append(putWith, puts...)
			for w := range watchers {
				if len(seen[w]) != commits {
					b.Fatalf("watcher %d saw %d of %d changes", w, len(seen[w]), commits)
				}
				for i, t := range seen[w] {
					lat = append(lat, max(0, t.Sub(done[i])))
					fromStart = append(fromStart, t.Sub(start[i]))
				}
			}
		} else {
			putWithout = append(putWithout, puts...)
		}
	}
	pct := func(d []time.Duration, p float64) time.Duration {
		s := slices.Sorted(slices.Values(d))
		return s[int(float64(len(s)-1)*p)]
	}
	mean := func(d []time.Duration) time.Duration {
		var t time.Duration
		for _, v := range d {
			t += v
		}
		return t / time.Duration(len(d))
	}
	b.ReportMetric(float64(pct(lat, 0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(pct(lat, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(pct(fromStart, 0.5).Microseconds()), "p50-from-put-start-µs")
	b.ReportMetric(float64(pct(fromStart, 0.99).Microseconds()), "p99-from-put-start-µs")
	b.ReportMetric(float64(mean(putWith))/float64(mean(putWithout)), "put-mean-ratio")
	b.ReportMetric(float64(pct(putWith, 0.5))/float64(pct(putWithout, 0.5)), "put-p50-ratio")
	b.Logf("put mean %v with watchers, %v without; p50 %v / %v; p99 %v / %v",
		mean(putWith), mean(putWithout), pct(putWith, 0.5), pct(putWithout, 0.5), pct(putWith, 0.99), pct(putWithout, 0.99))
}

// BenchmarkPutWatched is Put flat out with 16 watchers attached, against
// Put alone, alternately (ratio of the two).
//
//	go test -run '^$' -bench PutWatched -benchtime 1x ./runtime/cdc/
func BenchmarkPutWatched(b *testing.B) {
	const n, rounds = 5000, 3
	ctx := context.Background()
	s := openStore(b)
	users := newUsers(b, s)
	var with, without, cpuWith, cpuWithout time.Duration
	for round := range 2 * rounds {
		attached := round%2 == 1
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		if attached {
			bm, err := s.Bookmark(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for range 16 {
				wg.Go(func() {
					k := 0
					for _, err := range s.Watch(wctx, bm) {
						if err != nil {
							return
						}
						if k++; k == n {
							return
						}
					}
				})
			}
		}
		t0, c0 := time.Now(), sinkbench.CPU()
		for i := range n {
			if err := users.Put(ctx, fmt.Sprintf("r%d-u%d", round, i), User{Name: "flat out", Age: i}); err != nil {
				b.Fatal(err)
			}
		}
		el := time.Since(t0)
		wg.Wait()
		cpu := sinkbench.CPU() - c0
		cancel()
		if attached {
			with += el
			cpuWith += cpu
		} else {
			without += el
			cpuWithout += cpu
		}
	}
	b.ReportMetric(float64(cpuWith)/float64(cpuWithout), "cpu-ratio")
	b.ReportMetric(float64(cpuWith-cpuWithout)/float64(rounds*n*16)/1e3, "watcher-cpu-µs/change")
	b.ReportMetric(float64(with)/float64(without), "put-time-ratio")
	b.ReportMetric(float64(rounds*n)/without.Seconds(), "puts/s-alone")
	b.ReportMetric(float64(rounds*n)/with.Seconds(), "puts/s-watched")
}
