package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/wire"
)

// defaultPrefix is where snapshots go when Options.Prefix is empty.
const defaultPrefix = "snapshots"

// maxSegment is the longest key segment a snapshot key has, in bytes: the
// file name limit (255) less what a local bucket adds (lake.Dir).
const maxSegment = 250

// maxSuffix is the most snapshots of one store in one millisecond.
const maxSuffix = 999999

// keyTimeLen is the length of the time part of a snapshot key: the event
// time format (events.TimeLayout) with ':' and '.' written as '-', so it is
// safe in every bucket and file system.
const keyTimeLen = len("2006-01-02T15-04-05-000Z")

// validateID checks a store id by events.ValidateStoreID; the error also
// matches ErrInvalidID.
func validateID(id string) error {
	if err := events.ValidateStoreID(id); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	return nil
}

// segmentProblem says what is wrong with one segment of a prefix or key, or
// "": it follows the store id rule and is at most maxSegment bytes.
func segmentProblem(s string) string {
	if err := events.ValidateStoreID(s); err != nil {
		return err.Error()
	}
	if len(s) > maxSegment {
		return fmt.Sprintf("longer than %d bytes", maxSegment)
	}
	return ""
}

// hashedIDPrefix is how much of a long id a hashed segment keeps, in bytes.
const hashedIDPrefix = 150

// idSegment is the key segment of a store's snapshot folder: the id itself
// when it fits in maxSegment bytes, else ".~", the id's first bytes (at
// most 150, whole characters), '~' and 32 hex digits of the SHA-256 of the
// id. No valid id starts with '.', so a hashed segment is never another
// id's own; two ids share one only by a 128-bit digest collision. The body
// and metadata of every snapshot hold the whole id.
func idSegment(id string) string {
	if len(id) <= maxSegment {
		return id
	}
	cut := hashedIDPrefix
	for cut > 0 && !utf8.RuneStart(id[cut]) {
		cut--
	}
	sum := sha256.Sum256([]byte(id))
	return ".~" + id[:cut] + "~" + hex.EncodeToString(sum[:16])
}

// hashedSegment reports whether seg is one idSegment makes of a long id.
func hashedSegment(seg string) bool {
	rest, ok := strings.CutPrefix(seg, ".~")
	if !ok || len(rest) < 33 || rest[len(rest)-33] != '~' || segmentProblem(rest[:len(rest)-33]) != "" {
		return false
	}
	_, err := hex.DecodeString(rest[len(rest)-32:])
	return err == nil && strings.ToLower(rest[len(rest)-32:]) == rest[len(rest)-32:]
}

// cleanPrefix checks a snapshot prefix and returns it without a trailing
// '/'; "" means defaultPrefix. Every '/'-separated segment follows the rules
// of segmentProblem.
func cleanPrefix(prefix string) (string, error) {
	p := strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return defaultPrefix, nil
	}
	for seg := range strings.SplitSeq(p, "/") {
		if reason := segmentProblem(seg); reason != "" {
			return "", fmt.Errorf("%w: prefix %s: segment %s: %s", ErrInvalidID, quote(prefix), quote(seg), reason)
		}
	}
	return p, nil
}

// dirOf is the folder of a store's snapshots, with its trailing '/'.
func dirOf(prefix, id string) string { return prefix + "/" + idSegment(id) + "/" }

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
	id     string    // the store id's segment (idSegment)
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
	for i, seg := range segs {
		if i == len(segs)-2 && hashedSegment(seg) {
			continue
		}
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
