package cdc

import (
	"errors"

	"github.com/dotdo/events/runtime/changelog"
)

// Errors returned by this package; match them with errors.Is.
var (
	// ErrInvalidID is returned for a document id that is empty, longer than
	// 512 bytes, not valid UTF-8 or holding control characters.
	ErrInvalidID = changelog.ErrInvalidID
	// ErrInvalidCollection is returned for an invalid collection name, and
	// for a name that differs only in ASCII case from an existing
	// collection's (SQLite compares names without case, so they would share
	// one table).
	ErrInvalidCollection = changelog.ErrInvalidCollection
	// ErrEncode is returned when a document cannot be encoded as JSON, or
	// nests arrays and objects more than 1000 levels deep (the most SQLite's
	// JSON functions, and so Find and Count, can read).
	ErrEncode = errors.New("cdc: document does not encode")
	// ErrDecode is returned when a stored document cannot be decoded into T.
	ErrDecode = changelog.ErrDecode
	// ErrInvalidBookmark is returned for a string that is not a bookmark.
	ErrInvalidBookmark = changelog.ErrInvalidBookmark
	// ErrInvalidOptions is returned for bad FindOptions or a bad filter.
	ErrInvalidOptions = errors.New("cdc: invalid options")
	// ErrHeld is returned when a store's change log is already delivered by
	// another holder: an emitter (or fleet, or CLI) on the same database, in
	// this process or another, that has not been closed. A holder that
	// crashed releases it at once.
	ErrHeld = errors.New("cdc: store is held by another emitter")
	// ErrPruned is returned by Collection.Changes and Store.ChangesAfter for
	// a bookmark below what the change log still keeps (see WithRetention):
	// changes after it were pruned, and are never skipped silently.
	ErrPruned = errors.New("cdc: changes were pruned")
	// ErrClosed ends a Watch when its store is closed.
	ErrClosed = errors.New("cdc: store is closed")
	// ErrReadOnly is returned for a write inside Store.View.
	ErrReadOnly = errors.New("cdc: read-only transaction (Store.View)")
)
