package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// tempFile is a fully written, synced temporary file.
type tempFile struct {
	path    string
	size    int64
	modTime time.Time
}

// writeTemp copies r into a new hidden temporary file in dir, creating dir
// as needed, and syncs it. On error nothing is left behind.
func writeTemp(ctx context.Context, dir string, r io.Reader) (tempFile, error) {
	f, err := createTemp(dir)
	if err != nil {
		return tempFile{}, err
	}
	t := tempFile{path: f.Name()}
	fail := func(err error) (tempFile, error) {
		f.Close()
		os.Remove(t.path)
		return tempFile{}, err
	}
	if err := copyContext(ctx, f, r); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(t.path)
		return tempFile{}, err
	}
	t.size, t.modTime = fi.Size(), fi.ModTime()
	return t, nil
}

// createTemp creates a new file named ".lake-tmp-<random>" in dir, creating
// dir as needed. It retries when a concurrent Delete prunes dir between the
// two steps.
func createTemp(dir string) (*os.File, error) {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, fmt.Sprintf("%s-tmp-%016x", reservedPrefix, rand.Uint64()))
		var f *os.File
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, err
}

// copyContext copies r to w, stopping early when ctx ends.
func copyContext(ctx context.Context, w io.Writer, r io.Reader) error {
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("read body: %w", rerr)
		}
	}
}

// syncDir makes the renames in dir durable. Windows cannot sync a folder;
// there it does nothing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// isNotDir reports whether err says that a path's folder is a file.
func isNotDir(err error) bool {
	return errors.Is(err, syscall.ENOTDIR)
}

// isConflict reports whether err says that a file is where a folder must be,
// or a folder where a file must be.
func isConflict(err error) bool {
	return isNotDir(err) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY)
}
