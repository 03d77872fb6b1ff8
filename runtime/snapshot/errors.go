package snapshot

import "errors"

// Errors returned by this package; match them with errors.Is.
var (
	// ErrInvalidID matches errors about a store id, a prefix or a snapshot key
	// that breaks the naming rules (a store id: events.ValidateStoreID;
	// errors about one match events.ErrInvalidStoreID too).
	ErrInvalidID = errors.New("snapshot: invalid id, prefix or key")
	// ErrInvalidOptions matches errors about missing or malformed arguments
	// other than names: a nil store or bucket, a negative limit, a bad target.
	ErrInvalidOptions = errors.New("snapshot: invalid options")
	// ErrNotFound matches the error of restoring a snapshot that does not
	// exist. The error also matches lake.ErrNotFound.
	ErrNotFound = errors.New("snapshot: not found")
	// ErrCorrupt matches errors about a snapshot body or a lake event that is
	// cut, malformed or fails its checksum. Nothing was changed.
	ErrCorrupt = errors.New("snapshot: corrupt")
	// ErrVersion matches the error of restoring a body whose layout version
	// is missing or not one this package reads. Nothing was changed.
	ErrVersion = errors.New("snapshot: unsupported layout version")
	// ErrGap matches the error of a point-in-time restore that cannot find
	// every change between the snapshot and the target, in the lake or in the
	// store's change log. Nothing was changed.
	ErrGap = errors.New("snapshot: gap in the change chain")
	// ErrConflict matches the error of a point-in-time restore that finds two
	// different changes under one bookmark (two stores writing under one id).
	// Nothing was changed.
	ErrConflict = errors.New("snapshot: conflicting changes")
)
