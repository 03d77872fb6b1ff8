package snapshot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/wire"
)

// DefaultPrefix is where snapshots go when Options.Prefix is empty.
const DefaultPrefix = "snapshots"

// MaxIDLen is the longest store id, prefix segment or key segment, in
// characters.
const MaxIDLen = 256

// maxSuffix is the most snapshots of one store in one millisecond.
const maxSuffix = 999999

// keyTimeLen is the length of the time part of a snapshot key: the event
// time format (events.TimeLayout) with ':' and '.' written as '-', so it is
// safe in every bucket and file system.
const keyTimeLen = len("2006-01-02T15-04-05-000Z")

// ValidateID reports whether id can name a store's snapshots: 1-256
// characters of valid UTF-8 without '/', '\', NUL or other control
// characters, not starting or ending with '.' (so never "." or ".."). The
// error matches ErrInvalidID.
func ValidateID(id string) error {
	if reason := segmentProblem(id); reason != "" {
		return fmt.Errorf("%w: id %s: %s", ErrInvalidID, quote(id), reason)
	}
	return nil
}

// segmentProblem says what is wrong with one segment of a key, or "".
func segmentProblem(s string) string {
	switch {
	case s == "":
		return "empty"
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case utf8.RuneCountInString(s) > MaxIDLen:
		return fmt.Sprintf("longer than %d characters", MaxIDLen)
	case s[0] == '.' || s[len(s)-1] == '.':
		return "starts or ends with '.'"
	}
	for _, r := range s {
		switch {
		case r == '/':
			return "contains '/'"
		case r == '\\':
			return "contains '\\'"
		case r == 0:
			return "contains a NUL character"
		case unicode.IsControl(r):
			return fmt.Sprintf("contains the control character %U", r)
		}
	}
	return ""
}

// cleanPrefix checks a snapshot prefix and returns it without a trailing
// '/'; "" means DefaultPrefix. Every '/'-separated segment follows the rules
// of ValidateID.
func cleanPrefix(prefix string) (string, error) {
	p := strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return DefaultPrefix, nil
	}
	for seg := range strings.SplitSeq(p, "/") {
		if reason := segmentProblem(seg); reason != "" {
			return "", fmt.Errorf("%w: prefix %s: segment %s: %s", ErrInvalidID, quote(prefix), quote(seg), reason)
		}
	}
	return p, nil
}

// dirOf is the folder of a store's snapshots, with its trailing '/'.
func dirOf(prefix, id string) string { return prefix + "/" + id + "/" }

// formatName returns the object name of a snapshot taken at ts (UTC,
// milliseconds), the n-th of its millisecond (0 for the first).
func formatName(ts time.Time, n int) string {
	s := strings.NewReplacer(":", "-", ".", "-").Replace(wire.FormatTime(ts))
	if n > 0 {
		s += fmt.Sprintf("_%06d", n)
	}
	return s + ".json"
}

// parseName undoes formatName; ok is false for any other name.
func parseName(name string) (ts time.Time, n int, ok bool) {
	base, found := strings.CutSuffix(name, ".json")
	if !found || len(base) < keyTimeLen {
		return time.Time{}, 0, false
	}
	stamp, rest := base[:keyTimeLen], base[keyTimeLen:]
	if rest != "" {
		digits, found := strings.CutPrefix(rest, "_")
		if !found || len(digits) != 6 {
			return time.Time{}, 0, false
		}
		v, err := strconv.Atoi(digits)
		if err != nil || v < 1 || digits[0] == '+' || digits[0] == '-' {
			return time.Time{}, 0, false
		}
		n = v
	}
	b := []byte(stamp)
	if b[13] != '-' || b[16] != '-' || b[19] != '-' {
		return time.Time{}, 0, false
	}
	b[13], b[16], b[19] = ':', ':', '.'
	t, err := time.Parse(events.TimeLayout, string(b))
	if err != nil || formatName(t, n) != name {
		return time.Time{}, 0, false
	}
	return t, n, true
}

// keyParts is a parsed snapshot key.
type keyParts struct {
	prefix string    // without its trailing '/'
	id     string    // the store id
	ts     time.Time // the snapshot's time
	n      int       // its rank in its millisecond
}

// parseKey checks that key names a snapshot: {prefix}/{id}/{name}, every
// segment valid and the name as formatName makes it.
func parseKey(key string) (keyParts, error) {
	segs := strings.Split(key, "/")
	if len(segs) < 3 {
		return keyParts{}, fmt.Errorf("%w: key %s is not {prefix}/{id}/{time}.json", ErrInvalidID, quote(key))
	}
	for _, seg := range segs {
		if reason := segmentProblem(seg); reason != "" {
			return keyParts{}, fmt.Errorf("%w: key %s: segment %s: %s", ErrInvalidID, quote(key), quote(seg), reason)
		}
	}
	name := segs[len(segs)-1]
	ts, n, ok := parseName(name)
	if !ok {
		return keyParts{}, fmt.Errorf("%w: key %s: %s is not a snapshot name ({UTC time with '-' for ':' and '.'}.json)", ErrInvalidID, quote(key), quote(name))
	}
	return keyParts{
		prefix: strings.Join(segs[:len(segs)-2], "/"),
		id:     segs[len(segs)-2],
		ts:     ts,
		n:      n,
	}, nil
}

// quote quotes s for an error message, shortened when long.
func quote(s string) string {
	const max = 80
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}
