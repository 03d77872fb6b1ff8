// Package lakeformat is the key layout of the event lake: where events
// objects live and how they are named. It is the private half of package
// runtime/lake, which writes (through internal/lakewrite), lists and reads
// objects laid out this way; package query globs the same layout for DuckDB.
//
// Layout (DESIGN "Wave 2", rule 2):
//
//	events/{yyyy}/{mm}/{dd}/{hh}/{name}
//
// where the folder is the UTC hour of the events' own time and {name} is
//
//   - {SanitizeID(id)}_{ms}_{seq}_{sum}.jsonl: one store's events, written
//     by this module (ms: the first event's epoch milliseconds, seq its
//     sequence number zero-padded to 20 digits, sum 16 hex digits of the
//     SHA-256 of the body, so a key always names the same bytes);
//   - {SanitizeID(id)}_{ms}_{seq}.jsonl: the same, written by older
//     versions of this module;
//   - {rawid}_{ms}.jsonl: written by the upstream JavaScript library, the
//     store id unencoded;
//   - _{anything}: objects that may hold many stores' events, e.g.
//     _w-{writerID}_{ms}_{seq}_{sum}.jsonl (a fleet or an ingest) and
//     _compact_{ulid}.parquet (compaction, in hour or day folders).
//
// A store's events may be in any of these, so a reader filters rows by
// do.id and prunes by name only where a name proves absence (MayHold).
package lakeformat

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Root is the folder of every events object.
const Root = "events/"

// Object name extensions.
const (
	JSONL   = ".jsonl"
	Parquet = ".parquet"
)

// ContentTypeJSONL is the content type of JSON Lines events objects.
const ContentTypeJSONL = "application/x-ndjson"

// Metadata keys of events objects, as the upstream library writes them.
const (
	MetaDOID       = "doId"
	MetaDOName     = "doName"
	MetaDOColo     = "doColo"
	MetaEventCount = "eventCount"
)

// MultiPrefix starts the name of every object that may hold many stores'
// events. SanitizeID never yields '_'; an upstream object of a raw id
// starting with '_' is read as one of them, which is harmless: readers
// filter rows by do.id.
const MultiPrefix = "_"

// HourKeyLen is the length of an hour folder's path below Root,
// "yyyy/mm/dd/hh".
const HourKeyLen = len("2006/01/02/15")

// MaxIDSegment is the longest result of SanitizeID, in bytes. With the rest
// of a name (58 bytes) it keeps every object name well below the 255-byte
// file name limit, also with a local bucket's sidecar suffixes.
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
// share a segment only by a 128-bit digest collision; the id itself is in
// every event's do.id.
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

// HourKey returns the hour folder of t below Root: "2024/01/15/14".
func HourKey(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%04d/%02d/%02d/%02d", t.Year(), int(t.Month()), t.Day(), t.Hour())
}

// HourPrefix returns the folder of the events of t's UTC hour:
// "events/2024/01/15/14/".
func HourPrefix(t time.Time) string { return Root + HourKey(t) + "/" }

// DayPrefix returns the folder of t's UTC day, which holds its hour folders
// and day-level compacted objects: "events/2024/01/15/".
func DayPrefix(t time.Time) string { return HourPrefix(t)[:DayPrefixLen] }

// DayPrefixLen is the length of every DayPrefix.
const DayPrefixLen = len(Root) + len("2006/01/02/")

// Sum returns the content tag of an object body: 16 hex digits of its
// SHA-256 digest.
func Sum(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:8])
}

// StoreKey returns the key of one store's events object:
//
//	events/{yyyy}/{mm}/{dd}/{hh}/{SanitizeID(id)}_{ms}_{seq}_{sum}.jsonl
//
// where the folder is ts's UTC hour, ms is firstMs in decimal, seq is zero-
// padded to 20 digits (an hour's objects of one store sort by sequence) and
// sum is Sum(body): a batch re-formed with other events gets another key,
// a retry of the same bytes the same one.
func StoreKey(ts time.Time, id string, firstMs int64, seq uint64, sum string) string {
	return fmt.Sprintf("%s%s_%d_%020d_%s%s", HourPrefix(ts), SanitizeID(id), firstMs, seq, sum, JSONL)
}

// ValidWriterID reports whether w can name a multi-store writer: 1-64 ASCII
// letters, digits and '-'.
func ValidWriterID(w string) bool {
	if w == "" || len(w) > 64 {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// WriterKey returns the key of an object of many stores' events written by
// writer (ValidWriterID):
//
//	events/{yyyy}/{mm}/{dd}/{hh}/_w-{writer}_{ms}_{seq}_{sum}.jsonl
func WriterKey(ts time.Time, writer string, firstMs int64, seq uint64, sum string) string {
	return fmt.Sprintf("%s%sw-%s_%d_%020d_%s%s", HourPrefix(ts), MultiPrefix, writer, firstMs, seq, sum, JSONL)
}

// NamePrefixes returns the name prefixes of the objects that may hold
// events of store id: its sanitized name, upstream's raw name (when it
// differs and is a single key segment) and MultiPrefix. Any other name
// proves the object holds none of its events.
func NamePrefixes(id string) []string {
	ps := []string{SanitizeID(id) + "_"}
	if raw := id + "_"; raw != ps[0] && !strings.ContainsAny(id, "/\\") && !strings.HasPrefix(raw, MultiPrefix) {
		ps = append(ps, raw)
	}
	return append(ps, MultiPrefix)
}

// MayHold reports whether the object named name (its last key segment) may
// hold events of store id: false only when the name proves it does not.
func MayHold(name, id string) bool {
	return HasNamePrefix(name, NamePrefixes(id))
}

// HasNamePrefix is MayHold with the store's NamePrefixes made once, for a
// listing that tests many names.
func HasNamePrefix(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Parse splits an events object key into its hour folder and name: ok is
// false for a key outside the layout (not under Root, not in an hour or day
// folder, or not a JSONL or Parquet object). day is true for a day-level
// object (events/yyyy/mm/dd/{name}), whose hour is the day's first.
func Parse(key string) (hour time.Time, name string, day, ok bool) {
	rest, found := strings.CutPrefix(key, Root)
	if !found {
		return time.Time{}, "", false, false
	}
	segs := strings.Split(rest, "/")
	switch len(segs) {
	case 4:
		day = true
		segs = []string{segs[0], segs[1], segs[2], "00", segs[3]}
	case 5:
	default:
		return time.Time{}, "", false, false
	}
	name = segs[4]
	if !strings.HasSuffix(name, JSONL) && !strings.HasSuffix(name, Parquet) || strings.HasPrefix(name, ".") {
		return time.Time{}, "", false, false
	}
	hour, err := time.Parse("2006/01/02/15", strings.Join(segs[:4], "/"))
	if err != nil || HourKey(hour) != strings.Join(segs[:4], "/") {
		return time.Time{}, "", false, false
	}
	return hour, name, day, true
}

// CompactPrefix starts the name of every object written by compaction:
// {prefix}{run}-{part}.parquet, run a ULID shared by the objects one
// compaction of one partition writes and part their number (4 digits). The
// run tells apart the outputs of two compactions of the same partition (two
// at once, or one that crashed before it removed its inputs).
const CompactPrefix = MultiPrefix + "compact_"

// CompactName returns the name of part of the objects of compaction run.
func CompactName(run string, part int) string {
	return fmt.Sprintf("%s%s-%04d%s", CompactPrefix, run, part, Parquet)
}

// CompactRun returns the run of a compacted object's name; ok is false for
// any other name. A Parquet object of another name (not written by this
// module) is its own run.
func CompactRun(name string) (run string, ok bool) {
	rest, found := strings.CutPrefix(name, CompactPrefix)
	if !found || !strings.HasSuffix(rest, Parquet) {
		return "", false
	}
	rest = strings.TrimSuffix(rest, Parquet)
	i := strings.LastIndexByte(rest, '-')
	if i < 1 || len(rest)-i-1 != 4 {
		return "", false
	}
	return rest[:i], true
}

// Placeholders: DuckDB fails on a glob that matches no file, so the lake
// keeps one empty object of each kind that readers glob for (JSON Lines in
// an hour folder, Parquet in an hour folder and in a day folder) under
// PlaceholderRoot, a folder beside Root of the same length, in the hour
// 0000/00/00/00. A reader's glob matches them beside the real folders (one
// character class per character: "[e_][ve][em][np]t[sy]/[20]0[20][40]/...")
// and its filter on file names skips them. Listings of Root never see them.
const (
	PlaceholderRoot    = "_empty/"
	PlaceholderHour    = "0000/00/00/00"
	PlaceholderJSONL   = PlaceholderRoot + PlaceholderHour + "/_" + JSONL
	PlaceholderParquet = PlaceholderRoot + PlaceholderHour + "/_" + Parquet
	PlaceholderDay     = PlaceholderRoot + "0000/00/00/_" + Parquet
)

// GlobClass returns a glob segment matching a and b, strings of one length:
// each differing character becomes a class of both ("2024", "0000" →
// "[20]0[20][40]").
func GlobClass(a, b string) string {
	var out strings.Builder
	for i := 0; i < len(a); i++ {
		if i < len(b) && a[i] != b[i] {
			out.WriteString("[" + string(a[i]) + string(b[i]) + "]")
		} else {
			out.WriteByte(a[i])
		}
	}
	return out.String()
}
