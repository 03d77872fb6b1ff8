package query

import (
	"context"
	"fmt"
	"strings"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/lake"
)

// HasFiles reports whether the lake in b holds an events object (JSON Lines
// or compacted) in the folder a query with date range dr (nil: the whole
// lake) globs. Queries need it no more on a lake this module's writers made
// (they keep placeholder objects for DuckDB's globs); on a lake only another
// writer made, lake.EnsurePlaceholders once is the fix, and IsNoFiles
// recognises the error until then. b's keys are the lake's ("events/yyyy/...").
func HasFiles(ctx context.Context, b lake.Bucket, dr *DateRange) (bool, error) {
	bounds, err := dr.check("DateRange")
	if err != nil {
		return false, err
	}
	// The literal part of the glob: "events/" and the shared folders.
	segs, shared := (&source{bounds: bounds}).folders()
	prefix := lakeformat.Root
	for _, seg := range segs[:shared] {
		prefix += seg + "/"
	}
	opts := lake.ListOptions{}
	for {
		page, err := b.List(ctx, prefix, opts)
		if err != nil {
			return false, fmt.Errorf("query: list %s: %w", prefix, err)
		}
		for _, o := range page.Objects {
			if layoutObject(o.Key) {
				return true, nil
			}
		}
		if !page.More || len(page.Objects) == 0 {
			return false, nil
		}
		opts.StartAfter = page.Objects[len(page.Objects)-1].Key
	}
}

// layoutObject reports whether key is where the globs' "*" levels look: a
// JSON Lines object in an hour folder or a compacted (Parquet) object in an
// hour or day folder.
func layoutObject(key string) bool {
	_, name, day, ok := lakeformat.Parse(key)
	return ok && (!day && strings.HasSuffix(name, lakeformat.JSONL) || strings.HasSuffix(name, lakeformat.Parquet))
}
