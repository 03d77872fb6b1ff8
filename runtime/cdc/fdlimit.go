package cdc

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"modernc.org/sqlite"
)

// sqliteCantOpen is SQLITE_CANTOPEN, the primary result code SQLite gives
// for any file it cannot open, whatever the reason.
const sqliteCantOpen = 14

// explainCantOpen turns SQLite's "unable to open database file (14)" into
// what ran out when the process is at its open-file limit (EMFILE) or the
// system at its own (ENFILE): SQLite does not say, so a file is opened to
// find out. The error then matches syscall.EMFILE or syscall.ENFILE.
func explainCantOpen(err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqliteCantOpen {
		return err
	}
	f, perr := os.Open(os.DevNull)
	if perr == nil {
		f.Close()
		return err
	}
	switch {
	case errors.Is(perr, syscall.EMFILE):
		return fmt.Errorf("%w: the process is out of file descriptors (its open-file limit, ulimit -n; each store uses several): %w", err, syscall.EMFILE)
	case errors.Is(perr, syscall.ENFILE):
		return fmt.Errorf("%w: the system is out of file descriptors (its open-file table is full): %w", err, syscall.ENFILE)
	}
	return err
}
