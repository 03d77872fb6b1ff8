package lake

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateKey reports whether key can name an object in every Bucket. A key
// is 1 to MaxKeyLen bytes of valid UTF-8 without NUL or other control
// characters and without '\'; it is made of '/'-separated segments, none
// empty (no leading or trailing '/', no "a//b") and none "." or "..".
// The error matches ErrInvalidKey and says what is wrong.
func ValidateKey(key string) error {
	if reason := keyProblem(key); reason != "" {
		return fmt.Errorf("%w %s: %s", ErrInvalidKey, quoteKey(key), reason)
	}
	return nil
}

// ValidatePrefix reports whether prefix can select keys in a listing: empty,
// or a valid key, or a valid key followed by '/'. The error matches
// ErrInvalidKey.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	reason := ""
	switch {
	case prefix == "/":
		reason = "a prefix cannot be just \"/\""
	case len(prefix) > MaxKeyLen:
		reason = fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	default:
		reason = keyProblem(strings.TrimSuffix(prefix, "/"))
	}
	if reason != "" {
		return fmt.Errorf("%w: prefix %s: %s", ErrInvalidKey, quoteKey(prefix), reason)
	}
	return nil
}

// keyProblem says what is wrong with key, or "" when it is valid.
func keyProblem(key string) string {
	switch {
	case key == "":
		return "empty"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(key):
		return "not valid UTF-8"
	case key[0] == '/':
		return "starts with '/'"
	case key[len(key)-1] == '/':
		return "ends with '/'"
	}
	for _, r := range key {
		switch {
		case r == 0:
			return "contains a NUL character"
		case unicode.IsControl(r):
			return fmt.Sprintf("contains the control character %U", r)
		case r == '\\':
			return "contains '\\'"
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return "contains an empty segment (\"//\")"
		case ".", "..":
			return fmt.Sprintf("contains a %q segment", seg)
		}
	}
	return ""
}

// quoteKey quotes key for an error message, shortened when long.
func quoteKey(key string) string {
	const max = 80
	if len(key) <= max {
		return fmt.Sprintf("%q", key)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", key[:cut], len(key))
}
