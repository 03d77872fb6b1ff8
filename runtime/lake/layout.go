package lake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// MaxIDSegment is the longest result of SanitizeID, in bytes.
const MaxIDSegment = 128

// hashedIDPrefix is how much of a long id's encoding SanitizeID keeps.
const hashedIDPrefix = MaxIDSegment - 1 - 32

// SanitizeID turns a store id into a key segment that is safe in every
// Bucket, in file names and in DuckDB globs, and that never contains '_',
// so the first '_' of an event object's name ends the id.
//
// Scheme: ASCII letters, digits, '-' and '.' are kept, except a leading '.';
// every other byte of the id (including '_', '%', '/', a leading '.' and each
// byte of a non-ASCII character) becomes '%' and two upper-case hex digits,
// as in URL percent-encoding. The result is decoded by url.PathUnescape, so
// two different ids never give the same segment; it is never "." or "..",
// never starts with '.', and is empty only for the empty id.
//
// An encoding longer than MaxIDSegment bytes is shortened to its first 95
// bytes (never cutting an escape), '~' and the first 32 hex digits of the
// SHA-256 digest of the id. '~' appears in no other result, so two ids can
// share a segment only by a 128-bit digest collision.
func SanitizeID(id string) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexUpper[c>>4])
			b.WriteByte(hexUpper[c&0xf])
		}
	}
	s := b.String()
	if len(s) <= MaxIDSegment {
		return s
	}
	cut := hashedIDPrefix
	if i := strings.LastIndexByte(s[:cut], '%'); i >= cut-2 {
		cut = i // do not split "%XX"
	}
	sum := sha256.Sum256([]byte(id))
	return s[:cut] + "~" + hex.EncodeToString(sum[:16])
}

// HourPrefix returns the folder of the lakehouse that holds the events of
// t's UTC hour: "events/2024/01/15/14/".
func HourPrefix(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("events/%04d/%02d/%02d/%02d/", t.Year(), int(t.Month()), t.Day(), t.Hour())
}

// EventKey returns the key of an events object:
//
//	events/{yyyy}/{mm}/{dd}/{hh}/{id}_{ms}_{seq}.jsonl
//
// where the folder is ts's UTC hour (HourPrefix), {id} is SanitizeID(id),
// {ms} is firstMs (the epoch milliseconds of the object's first event) in
// decimal and {seq} is seq (its first sequence number) zero-padded to 20
// digits, so an hour's objects of one store sort by sequence and the same
// batch always gets the same key.
func EventKey(ts time.Time, id string, firstMs int64, seq uint64) string {
	return fmt.Sprintf("%s%s_%d_%020d.jsonl", HourPrefix(ts), SanitizeID(id), firstMs, seq)
}
