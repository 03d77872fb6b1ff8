// Package lakeparquet is the Parquet form of the event lake's compacted
// objects (DESIGN "Lake compaction and Parquet"): one row per event, flat
// typed columns for what readers filter, group and sort on, and the rest of
// the event as JSON text, so nothing is lost. Package runtime/lake writes it
// (Compact) and reads it (Events); package query reads it with DuckDB.
//
// Columns (SchemaVersion "1"):
//
//	do_id, do_name, do_class, do_colo, do_worker  the "do" members (VARCHAR)
//	ts          TIMESTAMP(µs, UTC)
//	type, id, collection, docId, bookmark, method, error   VARCHAR
//	durationMs  DOUBLE, success BOOLEAN
//	json        the other members of the event, as one JSON object
//	odd         true when the event does not fit the flat columns exactly:
//	            json then holds the whole event as stored (see FromLine)
//	src, line   for an event without an id: the object it was first stored
//	            in ("yyyy/mm/dd/hh/name") and its line there, which together
//	            key it in place of an id (readers count it once)
//
// Rows of one object are sorted by (do_id, ts, bookmark, id), so a query of
// one store reads few row groups.
package lakeparquet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dotdo/events/internal/wire"
)

// SchemaVersion is the version of the columns above, stored in every file's
// key/value metadata under MetaSchemaVersion.
const SchemaVersion = "1"

// MetaSchemaVersion is the file metadata key of SchemaVersion.
const MetaSchemaVersion = "dotdo.events.schema"

// Row is one event.
type Row struct {
	DOID       *string  `parquet:"do_id,optional,dict"`
	TS         int64    `parquet:"ts,timestamp(microsecond:utc),delta"`
	Bookmark   *string  `parquet:"bookmark,optional"`
	ID         *string  `parquet:"id,optional"`
	Type       string   `parquet:"type,dict"`
	DOName     *string  `parquet:"do_name,optional,dict"`
	DOClass    *string  `parquet:"do_class,optional,dict"`
	DOColo     *string  `parquet:"do_colo,optional,dict"`
	DOWorker   *string  `parquet:"do_worker,optional,dict"`
	Collection *string  `parquet:"collection,optional,dict"`
	DocID      *string  `parquet:"docId,optional"`
	Method     *string  `parquet:"method,optional,dict"`
	DurationMs *float64 `parquet:"durationMs,optional"`
	Success    *bool    `parquet:"success,optional"`
	Error      *string  `parquet:"error,optional"`
	JSON       string   `parquet:"json"`
	Odd        bool     `parquet:"odd"`
	Src        *string  `parquet:"src,optional"`
	Line       *int64   `parquet:"line,optional"`
}

// ErrCorrupt is matched by the error of FromLine for a line that is not a
// JSON object with a string type and an RFC 3339 ts.
var ErrCorrupt = errors.New("not an event")

// Time returns the row's ts.
func (r *Row) Time() time.Time { return time.UnixMicro(r.TS).UTC() }

// Key returns what counts the row once: its store's id and its own id
// (ids are the sender's to choose, so one store's event never hides
// another's), or for an event without one "~" + src + "#" + line (an
// object and line hold one event whatever its store).
func (r *Row) Key() string {
	if r.ID != nil {
		store := ""
		if r.DOID != nil {
			store = *r.DOID
		}
		return store + "\x00" + *r.ID
	}
	if r.Src != nil && r.Line != nil {
		return "~" + *r.Src + "#" + strconv.FormatInt(*r.Line, 10)
	}
	return ""
}

// Size is roughly the memory a row holds, for bounding buffers.
func (r *Row) Size() int {
	n := 200 + len(r.JSON)
	for _, s := range []*string{r.DOID, r.Bookmark, r.ID, r.DOName, r.DOClass, r.DOColo, r.DOWorker, r.Collection, r.DocID, r.Method, r.Error, r.Src} {
		if s != nil {
			n += len(*s)
		}
	}
	return n
}

// flatBits gives each member FromLine reads a bit (to find one written
// twice). Those of movedBits leave json for their own columns; "error",
// "durationMs" and "success" are copied, not moved: their JSON text stays
// as written.
var flatBits = map[string]uint16{
	"type": 1, "ts": 2, "do": 4, "id": 8, "collection": 16, "docId": 32,
	"bookmark": 64, "method": 128, "error": 256, "durationMs": 512, "success": 1024,
}

// movedBits are the flatBits of the members json does not keep.
const movedBits = 255

// FromLine turns one JSON Lines line into a row. src ("yyyy/mm/dd/hh/name")
// and line say where it was stored; they are kept only for an event without
// an id. A line whose members do not all fit their flat columns as DuckDB
// reads them from JSON (a string where a string is expected, a number for
// durationMs, a boolean for success, "do" an object of string members among
// id, name, class, colo and worker, ts written as events.TimeLayout, no
// repeated flat member) is kept whole in json with Odd set; readers then
// read it as they read JSON Lines.
func FromLine(text []byte, src string, line int) (Row, error) {
	var r Row
	text = bytes.TrimSpace(text)
	if !json.Valid(text) {
		return r, fmt.Errorf("%w: invalid JSON", ErrCorrupt)
	}
	var arr [24]member
	members, err := split(arr[:0], text)
	if err != nil {
		return r, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	c := new(cells)
	rest := make([]byte, 0, len(text))
	rest = append(rest, '{')
	var seen uint16 // bits of flatBits
	odd := false
	haveType, haveTS := false, false
	for _, m := range members {
		bit := flatBits[m.key]
		if bit != 0 {
			if seen&bit != 0 {
				odd = true
			}
			seen |= bit
		}
		keep := bit&movedBits == 0
		switch m.key {
		case "type":
			s, ok := str(m.val)
			if !ok {
				return r, fmt.Errorf("%w: type is not a string", ErrCorrupt)
			}
			r.Type, haveType = s, true
		case "ts":
			s, ok := str(m.val)
			if !ok {
				return r, fmt.Errorf("%w: ts is not a string", ErrCorrupt)
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return r, fmt.Errorf("%w: ts %q is not an RFC 3339 time", ErrCorrupt, s)
			}
			t = t.UTC()
			r.TS, haveTS = t.UnixMicro(), true
			var tb [32]byte
			if len(s) != len(wire.TimeLayout) || string(t.AppendFormat(tb[:0], wire.TimeLayout)) != s {
				odd = true
			}
		case "do":
			if !isNull(m.val) && m.val[0] != '{' {
				return r, fmt.Errorf("%w: do is not an object", ErrCorrupt)
			}
			if !c.doMembers(&r, m.val) {
				odd = true
			}
		case "id":
			if c.setStr(&r.ID, m.val, &keep) {
				return r, fmt.Errorf("%w: id is not a string", ErrCorrupt)
			}
		case "collection":
			odd = c.setStr(&r.Collection, m.val, &keep) || odd
		case "docId":
			odd = c.setStr(&r.DocID, m.val, &keep) || odd
		case "bookmark":
			odd = c.setStr(&r.Bookmark, m.val, &keep) || odd
		case "method":
			odd = c.setStr(&r.Method, m.val, &keep) || odd
		case "error":
			var k bool
			odd = c.setStr(&r.Error, m.val, &k) || odd
		case "durationMs":
			switch {
			case isNull(m.val):
			case m.val[0] == '-' || m.val[0] >= '0' && m.val[0] <= '9':
				f, err := strconv.ParseFloat(string(m.val), 64)
				if err != nil || math.IsInf(f, 0) {
					odd = true
				} else {
					r.DurationMs = &f
				}
			default:
				odd = true
			}
		case "success":
			switch string(m.val) {
			case "true", "false":
				v := m.val[0] == 't'
				r.Success = &v
			case "null":
			default:
				odd = true
			}
		}
		if keep {
			if len(rest) > 1 {
				rest = append(rest, ',')
			}
			rest = append(rest, m.raw...)
		}
	}
	if !haveType || r.Type == "" {
		return r, fmt.Errorf("%w: no type", ErrCorrupt)
	}
	if !haveTS {
		return r, fmt.Errorf("%w: no ts", ErrCorrupt)
	}
	if r.DOID == nil {
		odd = true // no "do": keep it absent, not an empty struct
	}
	rest = append(rest, '}')
	r.JSON = string(rest)
	if odd {
		r.JSON, r.Odd = string(text), true
	}
	if r.ID == nil {
		r.Src, r.Line = c.put(src), new(int64(line))
	}
	return r, nil
}

// cells hold the strings a row points to, allocated together: one
// allocation per row instead of one per column.
type cells struct {
	s [12]string
	n int
}

// put returns a pointer to a copy of s.
func (c *cells) put(s string) *string {
	if c.n == len(c.s) {
		p := new(string) // only a row with repeated members gets here
		*p = s
		return p
	}
	c.s[c.n] = s
	c.n++
	return &c.s[c.n-1]
}

// setStr stores a string member in *dst and reports whether the row is odd
// (a value neither a string nor null). A null member stays in json (*keep).
func (c *cells) setStr(dst **string, val []byte, keep *bool) bool {
	if isNull(val) {
		*keep = true
		return false
	}
	s, ok := str(val)
	if !ok {
		*keep = true
		return true
	}
	*dst = c.put(s)
	return false
}

// doMembers fills the do_* columns from a "do" object; false when it does
// not fit them.
func (c *cells) doMembers(r *Row, val []byte) bool {
	if len(val) == 0 || val[0] != '{' {
		return false
	}
	var arr [8]member
	members, err := split(arr[:0], val)
	if err != nil {
		return false
	}
	var seen uint8
	for _, m := range members {
		s, ok := str(m.val)
		if !ok {
			return false
		}
		var bit uint8
		switch m.key {
		case "id":
			r.DOID, bit = c.put(s), 1
		case "name":
			r.DOName, bit = c.put(s), 2
		case "class":
			r.DOClass, bit = c.put(s), 4
		case "colo":
			r.DOColo, bit = c.put(s), 8
		case "worker":
			r.DOWorker, bit = c.put(s), 16
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return r.DOID != nil
}

// isNull reports whether a JSON value is null.
func isNull(val []byte) bool { return string(val) == "null" }

// str decodes a JSON string value; false for any other value.
func str(val []byte) (string, bool) {
	if len(val) < 2 || val[0] != '"' {
		return "", false
	}
	inner := val[1 : len(val)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(val, &s) != nil {
		return "", false
	}
	return s, true
}

// member is one member of a JSON object: its decoded key, raw value and raw
// text ("key":value).
type member struct {
	key      string
	val, raw []byte
}

// split appends the members of a valid JSON object to out, in order.
func split(out []member, obj []byte) ([]member, error) {
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, errors.New("not a JSON object")
	}
	i = skipWS(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return out, nil
	}
	for i < len(obj) {
		start := i
		end, err := wire.ValueEnd(obj, i)
		if err != nil {
			return nil, err
		}
		key, ok := str(obj[i:end])
		if !ok {
			return nil, errors.New("bad member name")
		}
		i = skipWS(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, errors.New("missing ':'")
		}
		i = skipWS(obj, i+1)
		vs := i
		if i, err = wire.ValueEnd(obj, i); err != nil {
			return nil, err
		}
		out = append(out, member{key: key, val: obj[vs:i], raw: obj[start:i]})
		i = skipWS(obj, i)
		if i < len(obj) && obj[i] == ',' {
			i = skipWS(obj, i+1)
			continue
		}
		if i < len(obj) && obj[i] == '}' {
			return out, nil
		}
		return nil, errors.New("bad object")
	}
	return nil, errors.New("unterminated object")
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// AppendJSON appends the event a row holds as one JSON object: for an odd
// row the line as stored; otherwise type, ts, do, the moved members (id,
// collection, docId, bookmark, method) and then the rest in stored order.
// Only the order of members and the spelling of strings can differ from
// the stored line.
func (r *Row) AppendJSON(dst []byte) []byte {
	if r.Odd {
		return append(dst, r.JSON...)
	}
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, r.Type)
	dst = append(dst, `,"ts":"`...)
	dst = r.Time().AppendFormat(dst, wire.TimeLayout)
	dst = append(dst, `","do":{`...)
	n := 0
	for _, f := range []struct {
		k string
		v *string
	}{{"id", r.DOID}, {"name", r.DOName}, {"class", r.DOClass}, {"colo", r.DOColo}, {"worker", r.DOWorker}} {
		if f.v == nil {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = appendString(dst, f.k)
		dst = append(dst, ':')
		dst = appendString(dst, *f.v)
	}
	dst = append(dst, '}')
	for _, f := range []struct {
		k string
		v *string
	}{{"id", r.ID}, {"collection", r.Collection}, {"docId", r.DocID}, {"bookmark", r.Bookmark}, {"method", r.Method}} {
		if f.v == nil {
			continue
		}
		dst = append(dst, ',')
		dst = appendString(dst, f.k)
		dst = append(dst, ':')
		dst = appendString(dst, *f.v)
	}
	if len(r.JSON) > 2 {
		dst = append(dst, ',')
		dst = append(dst, r.JSON[1:len(r.JSON)-1]...)
	}
	return append(dst, '}')
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}
