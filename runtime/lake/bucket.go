package lake

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors returned by Bucket implementations. Match them with errors.Is.
var (
	// ErrNotFound is matched by the error of Get for a key that holds no object.
	ErrNotFound = errors.New("lake: object not found")
	// ErrInvalidKey is matched by every error about a malformed key or prefix.
	ErrInvalidKey = errors.New("lake: invalid key")
	// ErrInvalidOptions is matched by every error about malformed PutOptions
	// (content type, metadata) or ListOptions.
	ErrInvalidOptions = errors.New("lake: invalid options")
	// ErrConflict is matched by the error of a Put that a backend cannot
	// store because the key is also a folder of other keys, or one of its
	// folders is an object (a local folder cannot hold both "a" and "a/b").
	ErrConflict = errors.New("lake: key conflicts with an existing object")
	// ErrOutsideRoot is matched by the error of a Dir bucket's method that
	// would follow a symbolic link, which could lead outside its folder.
	ErrOutsideRoot = errors.New("lake: path leads outside the bucket's folder")
	// ErrCorrupt is matched by the error of Events for an events object line
	// that is not a JSON object with a type and a time.
	ErrCorrupt = errors.New("lake: corrupt events object")
)

// Limits and defaults shared by every Bucket implementation.
const (
	// MaxKeyLen is the longest key, in bytes (the S3 limit).
	MaxKeyLen = 1024
	// MaxListLimit is the most objects one List call returns (the S3 page size).
	MaxListLimit = 1000
	// MaxMetadataSize is the largest total size of user metadata, counted as
	// the bytes of every key and value (the S3 limit).
	MaxMetadataSize = 2048
	// DefaultContentType is the content type of an object put without one.
	DefaultContentType = "application/octet-stream"
)

// Bucket is a flat store of objects under '/'-separated keys: an S3 or R2
// bucket, or a local folder. Implementations are safe for concurrent use.
type Bucket interface {
	// Put stores body under key, replacing any object there. body is re-read
	// from the start on retry.
	Put(ctx context.Context, key string, body io.ReadSeeker, opts PutOptions) error
	// Get opens the object at key; the caller closes Body. A missing key is an
	// error matching ErrNotFound.
	Get(ctx context.Context, key string) (*Object, error)
	// List returns keys under prefix in lexical order, after opts.StartAfter,
	// at most opts.Limit (0 = backend page size, ≤1000). The listed
	// ObjectInfo carry Key, Size and LastModified only.
	List(ctx context.Context, prefix string, opts ListOptions) (ListPage, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// BatchDeleter is implemented by a Bucket that removes many objects in one
// request (S3's and R2's DeleteObjects). Compact removes its inputs with it
// when the bucket has it: one request per MaxBatchDelete objects instead
// of one each.
type BatchDeleter interface {
	// DeleteMany removes keys, at most MaxBatchDelete of them; missing keys
	// are not an error. A key it could not remove is named in the error;
	// the others are removed.
	DeleteMany(ctx context.Context, keys []string) error
}

// MaxBatchDelete is the most keys one DeleteMany takes (S3's limit).
const MaxBatchDelete = 1000

// PutOptions are the optional attributes of a stored object.
type PutOptions struct {
	// ContentType is the object's media type; empty means DefaultContentType.
	ContentType string
	// Metadata are user-defined attributes returned by Get. Keys are ASCII
	// letters, digits, '-' and '_', unique ignoring case; values are UTF-8.
	// The total size is at most MaxMetadataSize.
	Metadata map[string]string
}

// Object is an opened object: its content and its attributes.
type Object struct {
	// Body is the content; the caller must close it.
	Body io.ReadCloser
	// Info describes the object.
	Info ObjectInfo
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	// Key is the object's key.
	Key string
	// Size is the content length in bytes.
	Size int64
	// LastModified is when the object was last written, in UTC.
	LastModified time.Time
	// ContentType is the object's media type (set by Get only).
	ContentType string
	// Metadata are the object's user-defined attributes (set by Get only).
	Metadata map[string]string
}

// ListOptions select a page of a listing.
type ListOptions struct {
	// StartAfter, when set, lists only keys lexically greater than it.
	StartAfter string
	// Limit is the most objects to return: 0 means the backend's page size,
	// values above MaxListLimit mean MaxListLimit.
	Limit int
}

// ListPage is one page of a listing.
type ListPage struct {
	// Objects are the listed objects in lexical key order.
	Objects []ObjectInfo
	// More reports that another call with StartAfter set to the last key
	// may return more objects.
	More bool
}
