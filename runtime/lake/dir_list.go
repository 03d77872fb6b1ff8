package lake

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// List implements Bucket. It walks only the folders that can hold keys under
// prefix and after opts.StartAfter, in lexical key order, so paging through
// many thousands of keys reads each folder about once per page.
func (d *dirBucket) List(ctx context.Context, prefix string, opts ListOptions) (ListPage, error) {
	if d.err != nil {
		return ListPage{}, d.err
	}
	if err := ValidatePrefix(prefix); err != nil {
		return ListPage{}, err
	}
	if prefix != "" {
		if err := checkDirSegments(strings.TrimSuffix(prefix, "/"), "prefix"); err != nil {
			return ListPage{}, err
		}
	}
	if err := opts.Validate(); err != nil {
		return ListPage{}, err
	}
	w := dirWalker{
		ctx:        ctx,
		root:       d.root,
		startAfter: opts.StartAfter,
		want:       opts.pageSize() + 1, // one more tells whether there is more
	}
	// Start in the deepest folder the prefix names; its last part, if any,
	// filters that folder's entries.
	dirKey, namePrefix := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirKey, namePrefix = prefix[:i+1], prefix[i+1:]
	}
	if err := d.noLinks(strings.TrimSuffix(dirKey, "/"), true); err != nil {
		return ListPage{}, fmt.Errorf("lake: dir: list %q: %w", prefix, err)
	}
	if err := d.rootProblem(); err != nil {
		return ListPage{}, fmt.Errorf("lake: dir: list %q: %w", prefix, err)
	}
	if err := w.walk(dirKey, namePrefix); err != nil {
		return ListPage{}, fmt.Errorf("lake: dir: list %q: %w", prefix, err)
	}
	page := ListPage{Objects: w.found}
	if len(page.Objects) > opts.pageSize() {
		page.Objects = page.Objects[:opts.pageSize()]
		page.More = true
	}
	return page, nil
}

// dirWalker collects objects in lexical key order.
type dirWalker struct {
	ctx        context.Context
	root       string
	startAfter string
	want       int
	found      []ObjectInfo
}

// dirEntry is a folder entry with the string it sorts by: its name, followed
// by '/' for a folder, because every key in folder "a" is "a/…", which
// sorts after "a-b" and before "a0".
type dirEntry struct {
	name, sortKey string
	isDir         bool
	de            fs.DirEntry
}

// walk lists the folder of dirKey ("" or ending in '/'), keeping entries
// whose name starts with namePrefix, until enough objects are found.
func (w *dirWalker) walk(dirKey, namePrefix string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	entries, err := w.readDir(dirKey, namePrefix)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if len(w.found) >= w.want {
			return nil
		}
		key := dirKey + e.name
		if e.isDir {
			if err := w.walk(key+"/", ""); err != nil {
				return err
			}
			continue
		}
		if key <= w.startAfter {
			continue
		}
		info, err := fileInfo(e.de)
		if err != nil {
			if notExist(err) {
				continue // deleted meanwhile
			}
			return err
		}
		if info == nil {
			continue
		}
		w.found = append(w.found, ObjectInfo{
			Key:          key,
			Size:         info.Size(),
			LastModified: info.ModTime().UTC(),
		})
	}
	return nil
}

// readDir returns the files and folders of dirKey's folder whose names start
// with namePrefix, in key order, without reserved names and without folders
// that hold only keys up to StartAfter. A missing folder has no entries.
func (w *dirWalker) readDir(dirKey, namePrefix string) ([]dirEntry, error) {
	dir := filepath.Join(w.root, filepath.FromSlash(dirKey))
	des, err := os.ReadDir(dir)
	if err != nil {
		if notExist(err) {
			return nil, nil
		}
		return nil, err
	}
	entries := make([]dirEntry, 0, len(des))
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, reservedPrefix) || !strings.HasPrefix(name, namePrefix) {
			continue
		}
		e := dirEntry{name: name, sortKey: name, isDir: de.IsDir(), de: de}
		if e.isDir {
			// Every key in the folder starts with sub: skip the folder when
			// StartAfter is past all of them.
			sub := dirKey + name + "/"
			if w.startAfter >= sub && !strings.HasPrefix(w.startAfter, sub) {
				continue
			}
			e.sortKey += "/"
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b dirEntry) int { return strings.Compare(a.sortKey, b.sortKey) })
	return entries, nil
}

// fileInfo returns the file information of a regular file entry; nil for
// anything else. Symbolic links are not objects of the bucket (it never
// follows them: they may lead outside its folder), so they are not listed.
func fileInfo(de fs.DirEntry) (fs.FileInfo, error) {
	if de.Type()&fs.ModeSymlink != 0 {
		return nil, nil
	}
	info, err := de.Info()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil
	}
	return info, nil
}
