package s3lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dotdo/events/runtime/lake"
)

// ErrInvalidConfig is matched by the errors of a Bucket made with a nil
// client or an invalid bucket name.
var ErrInvalidConfig = errors.New("s3lake: invalid configuration")

// Bucket is a lake.Bucket in one bucket of an S3-compatible store.
type Bucket struct {
	client *s3.Client
	name   string
	err    error
}

var _ lake.Bucket = (*Bucket)(nil)

// New returns the lake.Bucket of the bucket named bucket, reached through
// client. A nil client or a name that breaks the S3 bucket naming rules
// (ValidateBucketName) makes every method fail with an error matching
// ErrInvalidConfig.
func New(client *s3.Client, bucket string) *Bucket {
	b := &Bucket{client: client, name: bucket}
	switch {
	case client == nil:
		b.err = fmt.Errorf("%w: nil S3 client", ErrInvalidConfig)
	default:
		b.err = ValidateBucketName(bucket)
	}
	return b
}

// Name returns the bucket's name.
func (b *Bucket) Name() string { return b.name }

// Put implements lake.Bucket with one PutObject request.
func (b *Bucket) Put(ctx context.Context, key string, body io.ReadSeeker, opts lake.PutOptions) error {
	if err := b.check(key); err != nil {
		return err
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	meta, err := encodeMetadata(opts.Metadata)
	if err != nil {
		return err
	}
	if body == nil {
		return fmt.Errorf("%w: put %q: nil body", lake.ErrInvalidOptions, key)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("s3lake: put %q: rewind body: %w", key, err)
	}
	contentType := opts.ContentType
	if contentType == "" {
		contentType = lake.DefaultContentType
	}
	_, err = b.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(b.name),
		Key:         aws.String(key),
		Body:        body,
		ContentType: aws.String(contentType),
		Metadata:    meta,
	})
	if err != nil {
		return b.putError(key, err)
	}
	return nil
}

// Get implements lake.Bucket with one GetObject request.
func (b *Bucket) Get(ctx context.Context, key string) (*lake.Object, error) {
	if err := b.check(key); err != nil {
		return nil, err
	}
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.name),
		Key:    aws.String(key),
	})
	if err != nil {
		if isNoSuchKey(err) {
			return nil, fmt.Errorf("%w: %q in %s: %w", lake.ErrNotFound, key, b.name, err)
		}
		return nil, fmt.Errorf("s3lake: get %q in %s: %w", key, b.name, err)
	}
	info := lake.ObjectInfo{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		LastModified: aws.ToTime(out.LastModified).UTC(),
		ContentType:  aws.ToString(out.ContentType),
		Metadata:     decodeMetadata(out.Metadata),
	}
	if info.ContentType == "" {
		info.ContentType = lake.DefaultContentType
	}
	return &lake.Object{Body: out.Body, Info: info}, nil
}

// List implements lake.Bucket with one ListObjectsV2 request.
func (b *Bucket) List(ctx context.Context, prefix string, opts lake.ListOptions) (lake.ListPage, error) {
	if b.err != nil {
		return lake.ListPage{}, b.err
	}
	if err := lake.ValidatePrefix(prefix); err != nil {
		return lake.ListPage{}, err
	}
	if err := opts.Validate(); err != nil {
		return lake.ListPage{}, err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.name)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if opts.StartAfter != "" {
		in.StartAfter = aws.String(opts.StartAfter)
	}
	if opts.Limit > 0 {
		in.MaxKeys = aws.Int32(int32(min(opts.Limit, lake.MaxListLimit)))
	}
	out, err := b.client.ListObjectsV2(ctx, in)
	if err != nil {
		return lake.ListPage{}, fmt.Errorf("s3lake: list %q in %s: %w", prefix, b.name, err)
	}
	page := lake.ListPage{
		Objects: make([]lake.ObjectInfo, 0, len(out.Contents)),
		More:    aws.ToBool(out.IsTruncated),
	}
	for _, o := range out.Contents {
		page.Objects = append(page.Objects, lake.ObjectInfo{
			Key:          aws.ToString(o.Key),
			Size:         aws.ToInt64(o.Size),
			LastModified: aws.ToTime(o.LastModified).UTC(),
		})
	}
	return page, nil
}

// Delete implements lake.Bucket with one DeleteObject request.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := b.check(key); err != nil {
		return err
	}
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(b.name),
		Key:    aws.String(key),
	})
	if err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("s3lake: delete %q in %s: %w", key, b.name, err)
	}
	return nil
}

// DeleteMany implements lake.BatchDeleter with one DeleteObjects request:
// at most lake.MaxBatchDelete keys, all checked before anything is sent;
// missing keys are not an error. The error names the keys the server
// could not remove (the others are removed).
func (b *Bucket) DeleteMany(ctx context.Context, keys []string) error {
	if len(keys) > lake.MaxBatchDelete {
		return fmt.Errorf("s3lake: delete %d keys in %s: %w: at most %d at once", len(keys), b.name, lake.ErrInvalidKey, lake.MaxBatchDelete)
	}
	ids := make([]types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		if err := b.check(k); err != nil {
			return err
		}
		ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
	}
	if len(ids) == 0 {
		return nil
	}
	out, err := b.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String(b.name),
		Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("s3lake: delete %d keys in %s: %w", len(keys), b.name, err)
	}
	var failed []string
	for _, e := range out.Errors {
		if aws.ToString(e.Code) == "NoSuchKey" {
			continue
		}
		failed = append(failed, fmt.Sprintf("%q (%s: %s)", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
	}
	if n := len(failed); n > 0 {
		if n > 5 {
			failed = append(failed[:5], fmt.Sprintf("and %d more", n-5))
		}
		return fmt.Errorf("s3lake: delete in %s: %d of %d keys not removed: %s", b.name, n, len(keys), strings.Join(failed, ", "))
	}
	return nil
}

// check returns the configuration error or the key's problem, if any.
func (b *Bucket) check(key string) error {
	if b.err != nil {
		return b.err
	}
	return lake.ValidateKey(key)
}
