package changelog

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Errors of the vocabulary; package cdc returns the same values.
var (
	// ErrInvalidID is returned for a document id that is empty, longer than
	// MaxIDLen bytes, not valid UTF-8 or holding control characters.
	ErrInvalidID = errors.New("cdc: invalid document id")
	// ErrInvalidCollection is returned for an invalid collection name.
	ErrInvalidCollection = errors.New("cdc: invalid collection name")
	// ErrInvalidBookmark is returned for a string that is not a bookmark.
	ErrInvalidBookmark = errors.New("cdc: invalid bookmark")
	// ErrDecode is returned when a stored document cannot be decoded into T.
	ErrDecode = errors.New("cdc: document does not decode")
)

// MaxIDLen is the longest document id, in bytes.
const MaxIDLen = 512

// MaxCollectionLen is the longest collection name, in characters.
const MaxCollectionLen = 128

// ValidateID reports whether id can name a document: 1-512 bytes of valid
// UTF-8 without control characters.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidID, len(id), MaxIDLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidID, id)
	}
	for _, r := range id {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return fmt.Errorf("%w: %q holds control character %U", ErrInvalidID, id, r)
		}
	}
	return nil
}

// ValidateCollection reports whether name can name a collection: 1-128 ASCII
// letters, digits, '_' and '-', starting with a letter or '_'.
func ValidateCollection(name string) error {
	if name == "" || len(name) > MaxCollectionLen {
		return fmt.Errorf("%w: %q must be 1-%d characters", ErrInvalidCollection, name, MaxCollectionLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if i == 0 && !letter {
			return fmt.Errorf("%w: %q must start with a letter or '_'", ErrInvalidCollection, name)
		}
		if !letter && !(c >= '0' && c <= '9') && c != '-' {
			return fmt.Errorf("%w: %q may hold only ASCII letters, digits, '_' and '-'", ErrInvalidCollection, name)
		}
	}
	return nil
}
