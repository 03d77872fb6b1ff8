package events

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/dotdo/events/internal/wire"
)

// The encoders here write JSON by hand: the field order is fixed (type, ts,
// do first, as upstream) and the hot path of an emitter allocates nothing.

// appendTime appends t as a quoted "ts" value, in TimeLayout. It is written
// by hand: time.AppendFormat took a third of an Emit. Years outside 0-9999
// fall back to AppendFormat.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		dst = append(dst, '"')
		dst = t.AppendFormat(dst, TimeLayout)
		return append(dst, '"')
	}
	hour, min, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	var b [26]byte
	b[0] = '"'
	put4(b[1:], year)
	b[5] = '-'
	put2(b[6:], int(month))
	b[8] = '-'
	put2(b[9:], day)
	b[11] = 'T'
	put2(b[12:], hour)
	b[14] = ':'
	put2(b[15:], min)
	b[17] = ':'
	put2(b[18:], sec)
	b[20] = '.'
	b[21] = byte('0' + ms/100)
	b[22] = byte('0' + ms/10%10)
	b[23] = byte('0' + ms%10)
	b[24] = 'Z'
	b[25] = '"'
	return append(dst, b[:]...)
}

func put2(b []byte, v int) { b[0], b[1] = byte('0'+v/10), byte('0'+v%10) }

func put4(b []byte, v int) {
	put2(b, v/100)
	put2(b[2:], v%100)
}

// appendFloat appends f the way encoding/json formats a float64.
func appendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendIdentity appends the "do" object.
func appendIdentity(dst []byte, id Identity) []byte {
	dst = append(dst, `{"id":`...)
	dst = wire.AppendString(dst, id.ID)
	dst = appendOptString(dst, "name", id.Name)
	dst = appendOptString(dst, "class", id.Class)
	dst = appendOptString(dst, "colo", id.Colo)
	dst = appendOptString(dst, "worker", id.Worker)
	return append(dst, '}')
}

// appendHeader opens the object and writes type, ts, do and (when set) id.
func appendHeader(dst []byte, typ string, ts time.Time, do Identity, id string, env Envelope) []byte {
	dst = append(dst, `{"type":`...)
	dst = wire.AppendString(dst, typ)
	dst = append(dst, `,"ts":`...)
	dst = appendTime(dst, pickTime(ts, env.TS))
	dst = append(dst, `,"do":`...)
	dst = appendIdentity(dst, pickIdentity(do, env.DO))
	if id := pickString(id, env.ID); id != "" {
		dst = append(dst, `,"id":`...)
		dst = wire.AppendString(dst, id)
	}
	return dst
}

// appendKey appends ,"name": .
func appendKey(dst []byte, name string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

func appendOptString(dst []byte, name, v string) []byte {
	if v == "" {
		return dst
	}
	dst = appendKey(dst, name)
	return wire.AppendString(dst, v)
}

func appendBool(dst []byte, name string, v bool) []byte {
	dst = appendKey(dst, name)
	return strconv.AppendBool(dst, v)
}

// appendRaw appends an already encoded JSON value when it is not empty.
func appendRaw(dst []byte, name string, v json.RawMessage) []byte {
	if len(v) == 0 {
		return dst
	}
	dst = appendKey(dst, name)
	return append(dst, v...)
}

// appendAny appends v encoded with encoding/json.
func appendAny(dst []byte, name string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("%w: field %q: %v", ErrInvalidEvent, name, err)
	}
	dst = appendKey(dst, name)
	return append(dst, b...), nil
}

// marshal is the MarshalJSON of every event: AppendJSON with no defaults.
func marshal(ev Event) ([]byte, error) {
	return ev.AppendJSON(nil, Envelope{})
}
