package cdc

import "github.com/dotdo/events/runtime/changelog"

// The change-log vocabulary lives in package changelog, free of SQLite, so
// that readers of the lake share it; these names keep it at hand here.

// Bookmark marks a position in a store's change log: fixed width, so it
// sorts lexically in issue order; the zero Bookmark means "before the first
// change". See changelog.Bookmark.
type Bookmark = changelog.Bookmark

// Op is the kind of a change: OpInsert, OpUpdate or OpDelete.
type Op = changelog.Op

// The three kinds of change.
const (
	OpInsert = changelog.OpInsert
	OpUpdate = changelog.OpUpdate
	OpDelete = changelog.OpDelete
)

// Change is one entry of a collection's change log, typed.
type Change[T any] = changelog.Change[T]

// RawChange is one entry of the change log with its documents as JSON.
type RawChange = changelog.RawChange

// Entry is a document with its id, for bulk writes and collection states.
type Entry[T any] = changelog.Entry[T]

// ValidateID reports whether id can name a document: 1-512 bytes of valid
// UTF-8 without control characters. Errors match ErrInvalidID.
func ValidateID(id string) error { return changelog.ValidateID(id) }

// ValidateCollection reports whether name can name a collection: 1-128 ASCII
// letters, digits, '_' and '-', starting with a letter or '_'. Errors match
// ErrInvalidCollection.
func ValidateCollection(name string) error { return changelog.ValidateCollection(name) }

// ParseBookmark checks s and returns it as a Bookmark. Errors match
// ErrInvalidBookmark.
func ParseBookmark(s string) (Bookmark, error) { return changelog.ParseBookmark(s) }
