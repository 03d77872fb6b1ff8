package events

import (
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidStoreID is matched (with errors.Is) by every error about a
// store id that breaks the rule of ValidateStoreID.
var ErrInvalidStoreID = errors.New("events: invalid store id")

// maxStoreIDLen is the longest store id, in characters.
const maxStoreIDLen = 256

// ValidateStoreID reports whether id can name a store (Identity.ID): the
// id of its events, its snapshots and its lake objects. A store id is 1 to
// 256 characters of valid UTF-8 without '/', '\', NUL or other control
// characters, and does not start or end with '.' (so it is never "." or
// ".."). Keys and file names derived from an id stay within 255 bytes per
// segment however long it is (long ids are hashed there; the id itself is
// kept inside the events and snapshots). The error matches
// ErrInvalidStoreID and says what is wrong.
func ValidateStoreID(id string) error {
	if reason := storeIDProblem(id); reason != "" {
		return fmt.Errorf("%w %s: %s", ErrInvalidStoreID, quoteID(id), reason)
	}
	return nil
}

// storeIDProblem says what is wrong with id, or "".
func storeIDProblem(id string) string {
	switch {
	case id == "":
		return "empty"
	case !utf8.ValidString(id):
		return "not valid UTF-8"
	case utf8.RuneCountInString(id) > maxStoreIDLen:
		return "longer than " + strconv.Itoa(maxStoreIDLen) + " characters"
	case id[0] == '.' || id[len(id)-1] == '.':
		return "starts or ends with '.'"
	}
	for _, r := range id {
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

// quoteID quotes id for an error message, shortened when long.
func quoteID(id string) string {
	const max = 80
	if len(id) <= max {
		return strconv.Quote(id)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(id[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", id[:cut], len(id))
}
