package lake

import (
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"
)

// maxContentTypeLen is the longest content type accepted.
const maxContentTypeLen = 256

// Validate reports whether the options can be stored by every Bucket: the
// content type, when set, is a printable ASCII media type; metadata keys are
// non-empty ASCII letters, digits, '-' and '_', unique ignoring case (S3
// lowercases them); values are valid UTF-8; keys and values total at most
// MaxMetadataSize bytes. The error matches ErrInvalidOptions.
func (o PutOptions) Validate() error {
	if ct := o.ContentType; ct != "" {
		if len(ct) > maxContentTypeLen || !printableASCII(ct) {
			return fmt.Errorf("%w: content type %q must be at most %d printable ASCII characters", ErrInvalidOptions, ct, maxContentTypeLen)
		}
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			return fmt.Errorf("%w: content type %q: %v", ErrInvalidOptions, ct, err)
		}
	}
	size := 0
	seen := make(map[string]string, len(o.Metadata))
	for k, v := range o.Metadata {
		if !validMetadataKey(k) {
			return fmt.Errorf("%w: metadata key %q must be 1 or more ASCII letters, digits, '-' or '_'", ErrInvalidOptions, k)
		}
		lower := strings.ToLower(k)
		if other, dup := seen[lower]; dup {
			return fmt.Errorf("%w: metadata keys %q and %q differ only in case", ErrInvalidOptions, other, k)
		}
		seen[lower] = k
		if !utf8.ValidString(v) {
			return fmt.Errorf("%w: metadata %q: value is not valid UTF-8", ErrInvalidOptions, k)
		}
		size += len(k) + len(v)
	}
	if size > MaxMetadataSize {
		return fmt.Errorf("%w: metadata is %d bytes, more than %d", ErrInvalidOptions, size, MaxMetadataSize)
	}
	return nil
}

// Validate reports whether the options are well formed: Limit is not
// negative and StartAfter is valid UTF-8 of at most MaxKeyLen bytes. The
// error matches ErrInvalidOptions.
func (o ListOptions) Validate() error {
	if o.Limit < 0 {
		return fmt.Errorf("%w: negative list limit %d", ErrInvalidOptions, o.Limit)
	}
	if len(o.StartAfter) > MaxKeyLen || !utf8.ValidString(o.StartAfter) {
		return fmt.Errorf("%w: StartAfter %s must be valid UTF-8 of at most %d bytes", ErrInvalidOptions, quoteKey(o.StartAfter), MaxKeyLen)
	}
	return nil
}

// pageSize is the number of objects a List call with these options returns
// at most: Limit, or MaxListLimit when Limit is 0 or larger.
func (o ListOptions) pageSize() int {
	if o.Limit <= 0 || o.Limit > MaxListLimit {
		return MaxListLimit
	}
	return o.Limit
}

func validMetadataKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
