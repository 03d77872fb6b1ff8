package lake_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/dotdo/events/runtime/lake"
)

// BenchmarkDirPut: one events-sized object with metadata per Put, in an
// hour folder, as the lake sink writes them (fsync included).
func BenchmarkDirPut(b *testing.B) {
	var d lake.Bucket = lake.Dir(b.TempDir())
	body := bytes.Repeat([]byte("x"), 4096)
	opts := lake.PutOptions{ContentType: "application/x-ndjson", Metadata: map[string]string{"doId": "s", "doName": "", "doColo": "", "eventCount": "10"}}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := d.Put(ctx, fmt.Sprintf("events/2024/01/15/14/s_%d.jsonl", i), bytes.NewReader(body), opts); err != nil {
			b.Fatal(err)
		}
	}
}
