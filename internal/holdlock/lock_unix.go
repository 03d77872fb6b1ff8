//go:build unix && !linux

package holdlock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes a flock(2) lock: like an OFD lock it belongs to the open
// file description (no OFD locks here), and it is independent of SQLite's
// POSIX locks.
func tryLock(f *os.File) error {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return ErrBusy
	}
	if err != nil {
		return fmt.Errorf("holdlock: lock %s: %w", f.Name(), err)
	}
	return nil
}
