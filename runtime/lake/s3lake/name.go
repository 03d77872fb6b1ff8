package s3lake

import (
	"fmt"
	"net/netip"
	"strings"
)

// ValidateBucketName reports whether name follows the S3 rules for general
// purpose bucket names: 3 to 63 characters of lowercase ASCII letters,
// digits, '.' and '-', starting and ending with a letter or digit, without
// "..", not an IPv4 address, and without the prefixes and suffixes S3
// reserves. (R2 is stricter: no '.'; R2 itself rejects such names.) The
// error matches ErrInvalidConfig.
func ValidateBucketName(name string) error {
	if reason := bucketNameProblem(name); reason != "" {
		return fmt.Errorf("%w: bucket name %q %s", ErrInvalidConfig, name, reason)
	}
	return nil
}

func bucketNameProblem(name string) string {
	if len(name) < 3 || len(name) > 63 {
		return "must be 3 to 63 characters long"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return "may hold only lowercase letters, digits, '.' and '-'"
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return "must start and end with a letter or digit"
	}
	if strings.Contains(name, "..") {
		return "must not contain \"..\""
	}
	if addr, err := netip.ParseAddr(name); err == nil && addr.Is4() {
		return "must not be an IP address"
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return fmt.Sprintf("must not start with %q", p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return fmt.Sprintf("must not end with %q", s)
		}
	}
	return ""
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
