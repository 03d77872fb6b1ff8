package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/dotdo/events/runtime/lake"
)

const compactUsage = `Usage: events compact -lake DIR|s3://BUCKET [-age 2h | -before TIME] [-object-bytes N]

Compacts every hour and day of the lake that ends before the cut into Parquet
objects (lake.Compact): a whole day becomes day-level objects, a later hour
hour-level ones; the JSON Lines inputs are removed once every output is stored.
Every query reads the lake the same before, during and after, also when the
command is killed; running it again finishes the work. Late events into a
compacted hour are read, and the next compact folds them in.

Prints one JSON object with what was done: partitions, objectsIn, objectsOut,
bytesIn, bytesOut, events.

` + lakeHelp

// cmdCompact runs lake.Compact over a lake.
func cmdCompact(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compact", compactUsage, stderr)
	lakeSpec := fs.String("lake", "", "the lake: a folder, s3://BUCKET or r2://BUCKET")
	age := fs.Duration("age", 2*time.Hour, "compact what ends at least this long ago (leave time for late events)")
	before := fs.String("before", "", "compact what ends before this time instead (RFC 3339, e.g. 2026-11-28T00:00:00Z)")
	objectBytes := fs.Int64("object-bytes", 0, "the most bytes of event JSON one Parquet object holds (default 64 MiB)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	b, err := openLake(*lakeSpec)
	if err != nil {
		return err
	}
	opts := lake.CompactOptions{ObjectBytes: *objectBytes}
	switch {
	case *before != "":
		t, err := time.Parse(time.RFC3339Nano, *before)
		if err != nil {
			return usageErr("-before %q: %v", *before, err)
		}
		opts.Before = t
	case *age <= 0:
		return usageErr("-age %s must be positive", *age)
	default:
		opts.Before = time.Now().Add(-*age)
	}
	stop := startProgress(stderr, "compacting")
	res, err := lake.Compact(ctx, b, opts)
	stop()
	if err != nil {
		return err
	}
	out, err := json.Marshal(map[string]any{
		"partitions": res.Partitions, "objectsIn": res.ObjectsIn, "objectsOut": res.ObjectsOut,
		"bytesIn": res.BytesIn, "bytesOut": res.BytesOut, "events": res.Events,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(out))
	return err
}
