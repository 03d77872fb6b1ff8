package snapshot

import (
	"strconv"
	"strings"

	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/lake"
)

// contentType is the content type of snapshot objects.
const contentType = "application/json"

// Metadata keys of snapshot objects: the upstream ones (doId, timestamp,
// collections, docCount) and this package's bookmark and layout version.
const (
	metaDOID        = "doId"
	metaTimestamp   = "timestamp"
	metaCollections = "collections"
	metaDocCount    = "docCount"
	metaBookmark    = "bookmark"
	metaVersion     = "version"
)

// metadata is the metadata of a snapshot object. Collection names are
// comma-separated, as upstream; when they do not all fit in the metadata
// limit, only the first that fit are listed (the body has them all).
func metadata(id string, res Result) map[string]string {
	m := map[string]string{
		metaDOID:      id,
		metaTimestamp: wire.FormatTime(res.Timestamp),
		metaDocCount:  strconv.Itoa(res.TotalDocs),
		metaBookmark:  string(res.Bookmark),
		metaVersion:   strconv.Itoa(layoutVersion),
	}
	used := len(metaCollections)
	for k, v := range m {
		used += len(k) + len(v)
	}
	var b strings.Builder
	for _, c := range res.Collections {
		extra := len(c)
		if b.Len() > 0 {
			extra++
		}
		if used+b.Len()+extra > lake.MaxMetadataSize {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c)
	}
	m[metaCollections] = b.String()
	return m
}
