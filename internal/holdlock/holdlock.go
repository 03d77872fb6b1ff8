// Package holdlock is the lock that makes one holder at a time deliver a
// store's change log (an emitter, and later a fleet or the CLI, in any
// process). It is a lock on a file of its own next to the database
// (<db>-holder.lock), taken as an open-file-description lock: the kernel
// drops it when the holder's process dies, so a crashed holder never blocks
// the next one, and it never touches the database file itself (closing a
// second descriptor of the database would drop SQLite's own POSIX locks).
package holdlock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrBusy is returned by Acquire when another open lock holds the file.
var ErrBusy = errors.New("holdlock: held")

// Lock is a held lock. Release it once; the file stays (removing it could
// let two holders lock two different files).
type Lock struct{ f *os.File }

// Acquire takes the lock of the database at dbPath without waiting. When
// another holder has it, the error matches ErrBusy and names its process id
// when known.
func Acquire(dbPath string) (*Lock, error) {
	path := dbPath + "-holder.lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("holdlock: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, ErrBusy) {
			if pid := readPID(path); pid != "" {
				return nil, fmt.Errorf("%w (by process %s, per %s)", ErrBusy, pid, path)
			}
		}
		return nil, err
	}
	// Say who holds it, for the next one's error message.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops its lock
	l.f = nil
	return err
}

func readPID(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
