package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

// Store files are named from store ids so that names stay distinct on
// case-insensitive file systems and within the 255-byte name limit:
//
//   - a-z, 0-9, '-' and '.' (not first) are kept; every other byte,
//     upper-case letters included, becomes '%' and two lower-case hex
//     digits. No name has an upper-case letter, so folding case never
//     merges two of them, and decoding (url.PathUnescape) gives the id back.
//   - an encoding longer than maxEncoded bytes keeps its first bytes, then
//     '~' and 32 hex digits of the id's SHA-256 digest ('~' appears in no
//     other name); the id itself is kept inside the file (and the index).
//   - ".db" ends every name. No name starts with '_' or '.': names starting
//     with '_' are the fleet's own files (the index _fleet.db).

// maxEncoded bounds the encoded id: with ".db", SQLite's "-wal", "-shm",
// "-journal" and the holder lock's "-holder.lock" it stays below 255 bytes.
const maxEncoded = 200

// hashKeep is how much of a long id's encoding a hashed name keeps.
const hashKeep = maxEncoded - 1 - 32

// storeSuffix ends every store file's name.
const storeSuffix = ".db"

// fileName returns the file name of store id (a valid store id).
func fileName(id string) string {
	const hexLower = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexLower[c>>4])
			b.WriteByte(hexLower[c&0xf])
		}
	}
	s := b.String()
	if len(s) > maxEncoded {
		cut := hashKeep
		if i := strings.LastIndexByte(s[:cut], '%'); i >= cut-2 {
			cut = i // never split "%xx"
		}
		sum := sha256.Sum256([]byte(id))
		s = s[:cut] + "~" + hex.EncodeToString(sum[:16])
	}
	return s + storeSuffix
}

// idFromName returns the id a store file's name encodes; hashed is true
// when the name holds only a digest of it (the id is then in the file).
// ok is false for names that are not store files.
func idFromName(name string) (id string, hashed, ok bool) {
	enc, found := strings.CutSuffix(name, storeSuffix)
	if !found || enc == "" || strings.HasPrefix(enc, "_") || strings.HasPrefix(enc, ".") {
		return "", false, false
	}
	if strings.Contains(enc, "~") {
		return "", true, true
	}
	id, err := url.PathUnescape(enc)
	if err != nil || fileName(id) != name {
		return "", false, false
	}
	return id, false, true
}
