package lakesql

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is matched (with errors.Is) by every error about a query's
// parameters; the message says which one is wrong.
var ErrInvalid = errors.New("lakesql: invalid query parameter")

// MaxValueLen is the longest string parameter, in characters.
const MaxValueLen = 1000

// Lake says where the lake is and whose events to read.
type Lake struct {
	// Bucket is an R2 bucket: the lake is r2://{Bucket}. Set Bucket or Root.
	Bucket string
	// Root is where the lake is: a local folder, or s3://bucket[/prefix],
	// r2://bucket[/prefix], gs://, gcs://. Set Bucket or Root.
	Root string
	// DOID, when set, reads only the events of that store (its "do"."id").
	// Bookmarks compare only within one store, so StateAtBookmark needs it.
	DOID string
}

// invalid returns an error matching ErrInvalid about a parameter.
func invalid(param, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, param, fmt.Sprintf(format, args...))
}

// remoteSchemes are the URL schemes a Root may use.
var remoteSchemes = []string{"r2", "s3", "gs", "gcs"}

// base returns the location under which "events/..." is globbed, without a
// trailing '/'.
func (l Lake) base() (string, error) {
	switch {
	case l.Bucket != "" && l.Root != "":
		return "", invalid("Lake.Root", "set either Bucket or Root, not both")
	case l.Bucket != "":
		if reason := bucketProblem(l.Bucket); reason != "" {
			return "", invalid("Lake.Bucket", "%q %s", l.Bucket, reason)
		}
		return "r2://" + l.Bucket, nil
	case l.Root == "":
		return "", invalid("Lake.Bucket", "is required (or set Root)")
	}
	root := l.Root
	if reason := valueProblem(root); reason != "" {
		return "", invalid("Lake.Root", "%s", reason)
	}
	if strings.ContainsAny(root, `*?[]{}\`) {
		return "", invalid("Lake.Root", "contains a glob character or '\\'")
	}
	scheme, rest, remote := strings.Cut(root, "://")
	if !remote {
		if strings.Contains(root, ":") && !strings.HasPrefix(root, "/") && !strings.HasPrefix(root, ".") {
			return "", invalid("Lake.Root", "a local folder path cannot contain ':' unless it starts with '/' or '.'")
		}
		return strings.TrimRight(root, "/"), nil
	}
	known := false
	for _, s := range remoteSchemes {
		known = known || scheme == s
	}
	if !known {
		return "", invalid("Lake.Root", "scheme %q is not one of %q (or give a local folder path)", scheme, remoteSchemes)
	}
	rest = strings.TrimRight(rest, "/")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if reason := bucketProblem(bucket); reason != "" {
		return "", invalid("Lake.Root", "bucket %q %s", bucket, reason)
	}
	for seg := range strings.SplitSeq(prefix, "/") {
		if prefix != "" && (seg == "" || seg == "." || seg == "..") {
			return "", invalid("Lake.Root", "the key prefix %q has an empty, '.' or '..' segment", prefix)
		}
	}
	return scheme + "://" + rest, nil
}

// bucketProblem says why name is not an S3 bucket name (3-63 lowercase
// letters, digits, '.' and '-', starting and ending with a letter or digit,
// no "..", not an IP address), or "".
func bucketProblem(name string) string {
	if len(name) < 3 || len(name) > 63 {
		return "must be 3-63 characters long"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return "may contain only lowercase letters, digits, '.' and '-'"
		}
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return "must start and end with a letter or digit"
	}
	if strings.Contains(name, "..") {
		return `may not contain ".."`
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return "may not be an IP address"
	}
	return ""
}

// valueProblem says why v cannot be a string parameter, or "".
func valueProblem(v string) string {
	if !utf8.ValidString(v) {
		return "not valid UTF-8"
	}
	if utf8.RuneCountInString(v) > MaxValueLen {
		return fmt.Sprintf("longer than %d characters", MaxValueLen)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Sprintf("contains the control character %U", r)
		}
	}
	return ""
}

// literal quotes v as a DuckDB string literal: quotes doubled, nothing else
// is special in it. Callers check v with valueProblem first.
func literal(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }
