package s3lake

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/dotdo/events/runtime/lake"
)

// isNoSuchKey reports whether err says that the key holds no object: the
// NoSuchKey error, or any 404 that is not about a missing bucket.
func isNoSuchKey(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		case "NoSuchBucket":
			return false
		}
	}
	var status interface{ HTTPStatusCode() int }
	return errors.As(err, &status) && status.HTTPStatusCode() == http.StatusNotFound
}

// putError wraps the error of a PutObject request, classifying the answers
// of file-system-backed servers (such as Versity S3 Gateway's posix
// backend) that no retry can change: a key that is also a folder of other
// keys, or one of whose folders is an object, is lake.ErrConflict (they
// answer 409 ObjectParentIsFile, ExistingObjectIsDirectory or
// DirectoryObjectContainsData; also for a folder segment longer than the
// file system allows); a key too long for the server (400 KeyTooLongError,
// e.g. a segment over 255 bytes) is lake.ErrInvalidKey. Other 409 answers
// (S3's OperationAborted) stay retryable.
func (b *Bucket) putError(key string, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ObjectParentIsFile", "ExistingObjectIsDirectory", "DirectoryObjectContainsData":
			return fmt.Errorf("%w: s3lake: put %q in %s: the key is a folder of other keys, or one of its folders is an object, on this server: %w", lake.ErrConflict, key, b.name, err)
		case "KeyTooLongError":
			return fmt.Errorf("%w: s3lake: put %q in %s: the server refuses the key as too long: %w", lake.ErrInvalidKey, key, b.name, err)
		}
	}
	return fmt.Errorf("s3lake: put %q in %s: %w", key, b.name, err)
}
