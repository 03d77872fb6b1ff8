package lake

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// reservedPrefix starts the name of every file and folder a dirBucket keeps
// for itself: the metadata tree at the root and temporary files. Keys with a
// segment starting with it are rejected by dirBucket, and List skips them.
const reservedPrefix = ".lake"

// maxDirSegment is the longest key segment a dirBucket accepts: the usual
// file name limit (255 bytes) less the sidecar suffixes.
const maxDirSegment = 255 - max(len(metaSuffix), len(metaDirSuffix))

// lockStripes is the number of locks that serialise writers of one key.
const lockStripes = 64

// dirBucket is the Bucket of Dir (see there). A sidecar is used only while
// it records the object's size and modification time, so after a crash
// between the two renames of a Put, or an object replaced by another
// program, Get returns the object without metadata rather than with
// metadata that is not its own.
type dirBucket struct {
	root  string
	err   error
	seed  maphash.Seed
	locks [lockStripes]sync.RWMutex
}

// Dir returns a Bucket stored in the folder at path, which is created on the
// first Put: the object at key "a/b.jsonl" is the file "a/b.jsonl" under
// it, so tools such as DuckDB can read the lake directly. Errors (an empty
// path, an unusable working directory) surface on use.
//
// Put writes a hidden temporary file (".lake-tmp-*") next to the target,
// syncs it and renames it over the target, so readers see the old or the new
// content, never a part. Content type and metadata live in a sidecar file
// under the hidden folder ".lake/meta/", which globs such as
// "events/**/*.jsonl" never match and List never returns; a sidecar that no
// longer matches its object's size and time is ignored.
//
// A local folder cannot hold an object "a" and an object "a/b" at once: such
// a Put fails with ErrConflict. Key segments may not start with ".lake" and
// may be at most 250 bytes; on case-insensitive file systems keys differing
// only in case are one object. Writers of one key in one bucket are
// serialised; Puts to one key from separate processes at once may leave the
// object without its metadata. Temporary files left by a crash are never
// listed; they may be deleted.
//
// The bucket never reads or writes outside its folder: a symbolic link in
// it (to a folder or a file) is refused with an error matching
// ErrOutsideRoot. Failures of the file system itself (the folder is a file
// or not mounted, no permission, a read-only or full disk) match none of the
// package's errors: they wrap the operating system's error (errors.Is with
// syscall.ENOTDIR, fs.ErrPermission, syscall.EROFS, syscall.ENOSPC, ...) and
// are worth retrying once the environment is fixed.
func Dir(path string) Bucket {
	d := &dirBucket{seed: maphash.MakeSeed()}
	if path == "" {
		d.err = errors.New("lake: dir: empty folder path")
		return d
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		d.err = fmt.Errorf("lake: dir %q: %w", path, err)
		return d
	}
	d.root = abs
	return d
}

// Put implements Bucket.
func (d *dirBucket) Put(ctx context.Context, key string, body io.ReadSeeker, opts PutOptions) error {
	if err := d.check(key); err != nil {
		return err
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	if body == nil {
		return fmt.Errorf("%w: put %q: nil body", ErrInvalidOptions, key)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("lake: dir: put %q: rewind body: %w", key, err)
	}
	if err := d.keyLinks(key, false); err != nil {
		return d.putError(key, err)
	}
	target := d.objectPath(key)
	if fi, err := os.Lstat(target); err == nil && fi.IsDir() {
		return fmt.Errorf("%w: dir: put %q: the key is a folder of other objects", ErrConflict, key)
	}

	tmp, err := writeTemp(ctx, filepath.Dir(target), body)
	if err != nil {
		return d.putError(key, err)
	}
	defer os.Remove(tmp.path) // no-op once renamed

	var metaTmp string
	if opts.ContentType != "" || len(opts.Metadata) > 0 {
		data, err := encodeMeta(opts, tmp.size, tmp.modTime)
		if err != nil {
			return fmt.Errorf("lake: dir: put %q: %w", key, err)
		}
		mt, err := writeTemp(ctx, filepath.Dir(d.metaPath(key)), strings.NewReader(string(data)))
		if err != nil {
			return d.putError(key, err)
		}
		defer os.Remove(mt.path)
		metaTmp = mt.path
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	metaPath := d.metaPath(key)
	if err := d.commit(key, tmp.path, metaTmp, target, metaPath); err != nil {
		return d.putError(key, err)
	}
	if metaTmp != "" {
		if err := syncDir(filepath.Dir(metaPath)); err != nil {
			return d.putError(key, err)
		}
	}
	if err := syncDir(filepath.Dir(target)); err != nil {
		return d.putError(key, err)
	}
	return nil
}

// commit renames the written temporary files into place under key's lock.
// The sidecar goes first: until the object's rename it does not match the
// object there, so it is ignored; afterwards both are in place. Without a
// new sidecar an old one is removed (it would not match anyway).
func (d *dirBucket) commit(key, tmp, metaTmp, target, metaPath string) error {
	mu := d.lock(key)
	mu.Lock()
	defer mu.Unlock()
	if metaTmp != "" {
		if err := os.Rename(metaTmp, metaPath); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return err
	}
	if metaTmp == "" {
		if err := os.Remove(metaPath); err != nil && !notExist(err) {
			return err
		}
	}
	return nil
}

// Get implements Bucket.
func (d *dirBucket) Get(ctx context.Context, key string) (*Object, error) {
	if err := d.check(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := d.keyLinks(key, true); err != nil {
		return nil, fmt.Errorf("lake: dir: get %q: %w", key, err)
	}
	mu := d.lock(key)
	mu.RLock()
	defer mu.RUnlock()
	f, err := os.Open(d.objectPath(key))
	if err != nil {
		if notExist(err) {
			if perr := d.rootProblem(); perr != nil {
				return nil, fmt.Errorf("lake: dir: get %q: %w", key, perr)
			}
			return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
		}
		return nil, fmt.Errorf("lake: dir: get %q: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lake: dir: get %q: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	info := ObjectInfo{
		Key:          key,
		Size:         fi.Size(),
		LastModified: fi.ModTime().UTC(),
		ContentType:  DefaultContentType,
	}
	m, err := readMeta(d.metaPath(key))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lake: dir: get %q: %w", key, err)
	}
	if m != nil && m.matches(fi) {
		if m.ContentType != "" {
			info.ContentType = m.ContentType
		}
		info.Metadata = m.Metadata
	}
	return &Object{Body: f, Info: info}, nil
}

// Delete implements Bucket.
func (d *dirBucket) Delete(ctx context.Context, key string) error {
	if err := d.check(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.keyLinks(key, false); err != nil {
		return fmt.Errorf("lake: dir: delete %q: %w", key, err)
	}
	target := d.objectPath(key)
	removed, err := d.remove(key, target)
	if err != nil {
		return fmt.Errorf("lake: dir: delete %q: %w", key, err)
	}
	if !removed {
		return nil
	}
	if err := syncDir(filepath.Dir(target)); err != nil && !notExist(err) {
		return fmt.Errorf("lake: dir: delete %q: %w", key, err)
	}
	// Empty folders are not objects; drop them so listings stay quick.
	d.pruneEmpty(path.Dir(key))
	return nil
}

// remove removes the object at target and its sidecar under key's lock,
// reporting whether there was an object. A folder is not an object: it is
// left alone.
func (d *dirBucket) remove(key, target string) (bool, error) {
	mu := d.lock(key)
	mu.Lock()
	defer mu.Unlock()
	existed := false
	fi, err := os.Lstat(target)
	switch {
	case err != nil && notExist(err):
		// No object; a stray sidecar is still removed below.
	case err != nil:
		return false, err
	case fi.IsDir():
		return false, nil
	default:
		if err := os.Remove(target); err != nil && !notExist(err) {
			return false, err
		}
		existed = true
	}
	if err := os.Remove(d.metaPath(key)); err != nil && !notExist(err) {
		return false, err
	}
	return existed, nil
}

// check returns the construction error or the key's problem, if any.
func (d *dirBucket) check(key string) error {
	if d.err != nil {
		return d.err
	}
	if err := ValidateKey(key); err != nil {
		return err
	}
	return checkDirSegments(key, "key")
}

// checkDirSegments rejects what is valid in a key but not in a dirBucket.
func checkDirSegments(key, what string) error {
	for seg := range strings.SplitSeq(key, "/") {
		if strings.HasPrefix(seg, reservedPrefix) {
			return fmt.Errorf("%w: %s %s: segment %q: names starting with %q are reserved by the dir backend", ErrInvalidKey, what, quoteKey(key), seg, reservedPrefix)
		}
		if len(seg) > maxDirSegment {
			return fmt.Errorf("%w: %s %s: a segment is longer than %d bytes, the dir backend's limit", ErrInvalidKey, what, quoteKey(key), maxDirSegment)
		}
	}
	return nil
}

func (d *dirBucket) objectPath(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

// metaPath returns the path of key's sidecar: under ".lake/meta", each
// folder of the key with metaDirSuffix and its last segment with metaSuffix,
// so a sidecar and a sidecar folder never have the same name (the folder
// "a.meta" of key "a.meta/b" and the sidecar "a.meta" of key "a" would).
func (d *dirBucket) metaPath(key string) string {
	dir, base := path.Split(key)
	return filepath.Join(d.metaDir(path.Clean(dir)), base+metaSuffix)
}

// metaDir returns the sidecar folder of the folder dirKey ("." for the root).
func (d *dirBucket) metaDir(dirKey string) string {
	var b strings.Builder
	if dirKey != "." && dirKey != "" {
		for seg := range strings.SplitSeq(dirKey, "/") {
			b.WriteString(seg)
			b.WriteString(metaDirSuffix)
			b.WriteByte('/')
		}
	}
	return filepath.Join(d.root, reservedPrefix, "meta", filepath.FromSlash(b.String()))
}

// lock returns the lock of key's stripe.
func (d *dirBucket) lock(key string) *sync.RWMutex {
	return &d.locks[maphash.String(d.seed, key)%lockStripes]
}

// putError wraps err, reporting a file where a folder is needed (or the
// reverse) inside the root as ErrConflict; an unusable root is an
// environment error.
func (d *dirBucket) putError(key string, err error) error {
	if errors.Is(err, ErrOutsideRoot) {
		return fmt.Errorf("lake: dir: put %q: %w", key, err)
	}
	if perr := d.rootProblem(); perr != nil {
		return fmt.Errorf("lake: dir: put %q: %w", key, perr)
	}
	if isConflict(err) {
		return fmt.Errorf("%w: dir: put %q: a folder of the key is an object, or the key is a folder: %w", ErrConflict, key, err)
	}
	return fmt.Errorf("lake: dir: put %q: %w", key, err)
}

// pruneEmpty removes the empty folders of dirKey and its parents, in the
// object tree and in the metadata tree, stopping at the first that is not
// empty. Failures are harmless and ignored.
func (d *dirBucket) pruneEmpty(dirKey string) {
	for k := dirKey; k != "." && k != "/" && k != ""; k = path.Dir(k) {
		if err := os.Remove(filepath.Join(d.root, filepath.FromSlash(k))); err != nil {
			break
		}
	}
	for k := dirKey; k != "." && k != "/" && k != ""; k = path.Dir(k) {
		if err := os.Remove(d.metaDir(k)); err != nil {
			break
		}
	}
}

// notExist reports whether err means that a file or one of its folders is
// missing (a folder being a file counts as missing).
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || isNotDir(err)
}
