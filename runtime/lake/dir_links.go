package lake

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// noLinks checks the path rel (relative to the root, '/'-separated) for
// symbolic links: every folder on the way, and rel itself when last is set.
// A link is an error matching ErrOutsideRoot; the first missing part ends
// the check (what does not exist yet is created as a real folder or file).
// The root itself may be a link: the user chose it.
func (d *dirBucket) noLinks(rel string, last bool) error {
	if !last {
		i := strings.LastIndexByte(rel, '/')
		if i < 0 {
			return nil
		}
		rel = rel[:i]
	}
	if rel == "" {
		return nil
	}
	// Each prefix of full ending at a separator (or its end) is one part.
	full := d.root + string(filepath.Separator) + filepath.FromSlash(rel)
	for i := len(d.root) + 1; i <= len(full); i++ {
		if i < len(full) && full[i] != filepath.Separator {
			continue
		}
		fi, err := os.Lstat(full[:i])
		if err != nil {
			if notExist(err) {
				return nil
			}
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: dir: %q is a symbolic link; the bucket does not follow links", ErrOutsideRoot, rel)
		}
	}
	return nil
}

// keyLinks checks key's object path, and its sidecar's, for links.
func (d *dirBucket) keyLinks(key string, last bool) error {
	if err := d.noLinks(key, last); err != nil {
		return err
	}
	rel, err := filepath.Rel(d.root, d.metaPath(key))
	if err != nil {
		return err
	}
	return d.noLinks(filepath.ToSlash(rel), last)
}

// rootProblem returns an error when the root folder itself is unusable: it
// is a file (ENOTDIR) or cannot be looked at (EACCES, EIO, ...). A missing
// root is no problem: Put creates it. Such errors come from the environment,
// not from a key, and match none of the package's errors.
func (d *dirBucket) rootProblem() error {
	fi, err := os.Stat(d.root)
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("lake: dir %q: %w", d.root, err)
	case !fi.IsDir():
		return fmt.Errorf("lake: dir %q is not a folder: %w", d.root, syscall.ENOTDIR)
	}
	return nil
}
