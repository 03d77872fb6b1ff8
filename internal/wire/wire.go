// Package wire holds the encoding primitives of the events wire format that
// this module's packages share: JSON strings, "ts" values and batch bodies.
// Users encode events with the events package.
package wire

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// ErrInvalidEvent is the error events.ErrInvalidEvent names: here, so the
// functions below can wrap it without importing the events package.
var ErrInvalidEvent = errors.New("events: invalid event")

// TimeLayout is the layout of "ts": UTC, milliseconds (events.TimeLayout).
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime formats t in the wire format of "ts": UTC, milliseconds.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}

// ParseTime parses a "ts" value. Any RFC 3339 time is accepted; the result is
// in UTC, truncated to milliseconds. Errors match ErrInvalidEvent.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: ts %q is not an RFC 3339 time", ErrInvalidEvent, s)
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// AppendBatch appends a batch body, {"events":[...],"batchId":...}, made of
// already encoded events to dst.
func AppendBatch(dst []byte, batchID string, encoded [][]byte) []byte {
	dst = append(dst, `{"events":[`...)
	for i, e := range encoded {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e...)
	}
	dst = append(dst, ']')
	if batchID != "" {
		dst = append(dst, `,"batchId":`...)
		dst = AppendString(dst, batchID)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does; HTML characters are not escaped.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript parsers.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// MaxTypeLen is the longest event type.
const MaxTypeLen = 128

// ValidType reports whether s is a valid event type: 1 to MaxTypeLen
// characters of ASCII letters, digits, '.', '_' and '-'. The root package
// and the ingest's scanner both hold events to it.
func ValidType[S string | []byte](s S) bool {
	if len(s) == 0 || len(s) > MaxTypeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !typeChar[s[i]] {
			return false
		}
	}
	return true
}

var typeChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	return t
}()
