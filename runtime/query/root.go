package query

import (
	"net/netip"
	"strings"
)

// remoteSchemes are the URL schemes a Root may use; DuckDB reads them with
// its httpfs extension (r2:// needs an R2 secret, s3:// an S3 one).
var remoteSchemes = []string{"r2", "s3", "gs", "gcs"}

// globMeta are the characters DuckDB's globs give a meaning to. A Root is a
// literal location, so they are refused rather than escaped: DuckDB has no
// escape for them.
const globMeta = "*?[]{}"

// lakeBase resolves the lake's location from the Bucket and Root options:
// the prefix, without a trailing '/', under which "events/..." is globbed.
func lakeBase(bucket, root string) (string, error) {
	switch {
	case bucket != "" && root != "":
		return "", invalid("Root", "set either Bucket or Root, not both")
	case root != "":
		return checkRoot(root)
	case bucket != "":
		if reason := bucketProblem(bucket); reason != "" {
			return "", invalid("Bucket", "%q %s", bucket, reason)
		}
		return "r2://" + bucket, nil
	default:
		return "", invalid("Bucket", "is required (or set Root)")
	}
}

// checkRoot validates a Root and returns it without trailing '/'.
func checkRoot(root string) (string, error) {
	if reason := checkValue(root); reason != "" {
		return "", invalid("Root", "%s", reason)
	}
	if strings.ContainsAny(root, globMeta) {
		return "", invalid("Root", "contains one of the glob characters %s", globMeta)
	}
	if strings.Contains(root, `\`) {
		return "", invalid("Root", `contains '\' (use '/' as the separator)`)
	}
	scheme, rest, remote := strings.Cut(root, "://")
	if !remote {
		if strings.Contains(root, ":") && !strings.HasPrefix(root, "/") && !strings.HasPrefix(root, ".") {
			// "http:..." or "md:..." would reach another DuckDB file system.
			return "", invalid("Root", "a local folder path cannot contain ':' unless it starts with '/' or '.'")
		}
		// "/" alone gives "", so globs start "/events/...".
		return strings.TrimRight(root, "/"), nil
	}
	known := false
	for _, s := range remoteSchemes {
		known = known || scheme == s
	}
	if !known {
		return "", invalid("Root", "scheme %q is not one of %q (or give a local folder path)", scheme, remoteSchemes)
	}
	rest = strings.TrimRight(rest, "/")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if reason := bucketProblem(bucket); reason != "" {
		return "", invalid("Root", "bucket %q %s", bucket, reason)
	}
	if prefix != "" {
		for seg := range strings.SplitSeq(prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return "", invalid("Root", "the key prefix %q has an empty, '.' or '..' segment", prefix)
			}
		}
	}
	return scheme + "://" + rest, nil
}

// bucketProblem says why name is not a valid S3 bucket name, or "".
// The rules: 3-63 characters of lowercase letters, digits, '.' and '-',
// starting and ending with a letter or digit, no "..", not an IP address.
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
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return "must start and end with a letter or digit"
	}
	if strings.Contains(name, "..") {
		return "may not contain \"..\""
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return "may not be an IP address"
	}
	return ""
}

// alnum reports whether c is a lowercase letter or a digit.
func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
