package changelog

import (
	"fmt"
	"strconv"
)

// Bookmark marks a position in a store's change log. Bookmarks are fixed
// width, so they sort lexically in the order they were issued; they never go
// backwards in a store, also across reopening it and pruning the log. The
// zero Bookmark ("") means "before the first change". Bookmarks compare only
// within one store.
type Bookmark string

// bookmarkWidth is the number of decimal digits of a bookmark: enough for any
// positive int64.
const bookmarkWidth = 20

// BookmarkFromSeq returns the bookmark of change number seq (1-based); 0 gives
// the zero Bookmark.
func BookmarkFromSeq(seq int64) Bookmark {
	if seq <= 0 {
		return ""
	}
	var buf [bookmarkWidth]byte
	s := strconv.AppendInt(buf[:0], seq, 10)
	out := make([]byte, bookmarkWidth)
	for i := range out {
		out[i] = '0'
	}
	copy(out[bookmarkWidth-len(s):], s)
	return Bookmark(out)
}

// ParseBookmark checks s and returns it as a Bookmark.
func ParseBookmark(s string) (Bookmark, error) {
	b := Bookmark(s)
	if _, err := b.Seq(); err != nil {
		return "", err
	}
	return b, nil
}

// Seq returns the change number the bookmark marks (0 for the zero Bookmark).
func (b Bookmark) Seq() (int64, error) {
	if b == "" {
		return 0, nil
	}
	if len(b) != bookmarkWidth {
		return 0, fmt.Errorf("%w: %q is not %d digits", ErrInvalidBookmark, string(b), bookmarkWidth)
	}
	for i := 0; i < len(b); i++ {
		if b[i] < '0' || b[i] > '9' {
			return 0, fmt.Errorf("%w: %q is not %d digits", ErrInvalidBookmark, string(b), bookmarkWidth)
		}
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", ErrInvalidBookmark, string(b), err)
	}
	return n, nil
}
