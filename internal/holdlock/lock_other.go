//go:build !unix

package holdlock

import "os"

// tryLock does not lock on systems without OFD or flock locks: one holder
// at a time is then the caller's to ensure.
func tryLock(*os.File) error { return nil }
