package lakeformat

import (
	"fmt"
	"time"
)

// IngestKey returns the key of an object of many stores' events written by
// an ingest server (package runtime/ingest):
//
//	events/{yyyy}/{mm}/{dd}/{hh}/_i-{ms}_{seq}_{sum}.jsonl
//
// where ms is the first event's epoch milliseconds, seq the index of the
// first event in its batch, zero-padded to 20 digits, and sum is Sum(body).
// Nothing in it depends on which server wrote it: every server of a fleet
// behind a load balancer writes a retried batch to the same key with the
// same bytes.
func IngestKey(ts time.Time, firstMs int64, seq uint64, sum string) string {
	return fmt.Sprintf("%s%si-%d_%020d_%s%s", HourPrefix(ts), MultiPrefix, firstMs, seq, sum, JSONL)
}
