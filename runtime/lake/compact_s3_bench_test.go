package lake_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/laketest"
)

// singleDeletes hides a bucket's DeleteMany: Compact then removes its
// inputs with one request each.
type singleDeletes struct{ lake.Bucket }

// BenchmarkCompactS3Deletes compacts 2,000 small objects of one hour on a
// real S3 server (versitygw) with batched deletes (DeleteObjects, 1,000
// keys a request) and, alternately, with one DeleteObject request per
// input; it reports the time of each and their ratio.
//
//	go test -run '^$' -bench CompactS3Deletes -benchtime 1x ./runtime/lake/
func BenchmarkCompactS3Deletes(b *testing.B) {
	const objects, rounds = 2000, 3
	ctx := context.Background()
	hour := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	var batched, single time.Duration
	for round := range 2 * rounds {
		bucket := laketest.NewVersity(b)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range objects {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				line := fmt.Sprintf(`{"type":"t","ts":%q,"do":{"id":"s%d"},"id":"e%d"}`, wire.FormatTime(hour), i%50, i)
				key := lakeformat.StoreKey(hour, fmt.Sprintf("s%d", i%50), hour.UnixMilli(), uint64(i), lakeformat.Sum([]byte(line)))
				if err := bucket.Put(ctx, key, strings.NewReader(line+"\n"), lake.PutOptions{}); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		var target lake.Bucket = bucket
		if round%2 == 1 {
			target = singleDeletes{bucket}
		}
		t0 := time.Now()
		res, err := lake.Compact(ctx, target, lake.CompactOptions{Before: hour.Add(time.Hour)})
		el := time.Since(t0)
		if err != nil || res.ObjectsIn != objects {
			b.Fatalf("Compact: %+v, %v", res, err)
		}
		if round%2 == 1 {
			single += el
		} else {
			batched += el
		}
	}
	b.ReportMetric(batched.Seconds()/rounds, "s/compact-batched")
	b.ReportMetric(single.Seconds()/rounds, "s/compact-single")
	b.ReportMetric(single.Seconds()/batched.Seconds(), "speed-up")
}
