package laketest

import (
	"io"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fixedBackend is the s3mem backend of gofakes3 v1.2.0 with two departures
// from S3 fixed:
//
//   - PutObject merges the metadata of the object it replaces into the new
//     one (so metadata can never be removed); S3 replaces it. Here a Put
//     deletes the old object first, under a lock that makes the pair atomic
//     to readers.
//   - ListBucket sets IsTruncated when any key at all follows a full page,
//     even one outside the listed prefix; S3 sets it only when more keys
//     match. Here a truncated page is checked for a next matching key.
type fixedBackend struct {
	*s3mem.Backend
	mu sync.RWMutex
}

// PutObject implements gofakes3.Backend.
func (b *fixedBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if conditions == nil {
		if _, err := b.Backend.DeleteObject(bucket, key); err != nil {
			return gofakes3.PutObjectResult{}, err
		}
	}
	return b.Backend.PutObject(bucket, key, meta, input, size, conditions)
}

// DeleteObject implements gofakes3.Backend.
func (b *fixedBackend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Backend.DeleteObject(bucket, key)
}

// DeleteMulti implements gofakes3.Backend.
func (b *fixedBackend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Backend.DeleteMulti(bucket, keys...)
}

// GetObject implements gofakes3.Backend.
func (b *fixedBackend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.Backend.GetObject(bucket, key, rng)
}

// HeadObject implements gofakes3.Backend.
func (b *fixedBackend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.Backend.HeadObject(bucket, key)
}

// ListBucket implements gofakes3.Backend.
func (b *fixedBackend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	list, err := b.Backend.ListBucket(name, prefix, page)
	if err != nil || !list.IsTruncated || list.NextMarker == "" {
		return list, err
	}
	next, err := b.Backend.ListBucket(name, prefix, gofakes3.ListBucketPage{
		Marker:    list.NextMarker,
		HasMarker: true,
		MaxKeys:   1,
	})
	if err != nil {
		return nil, err
	}
	if len(next.Contents) == 0 && len(next.CommonPrefixes) == 0 {
		list.IsTruncated = false
		list.NextMarker = ""
	}
	return list, nil
}
