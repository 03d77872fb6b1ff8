package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/dotdo/events/internal/wire"
)

// errSyntax is what the scanner below returns for input that is not the
// JSON it expects; callers wrap it in ErrCorrupt.
var errSyntax = errors.New("malformed JSON object")

// forEachMember calls fn with the raw name (quotes included) and the raw
// value of each member of the JSON object obj, in order. obj has been
// checked by encoding/json already; the scanner still fails cleanly, never
// panics, on anything else. It exists because splitting a row this way
// costs a fraction of decoding it token by token.
func forEachMember(obj []byte, fn func(name, value []byte) error) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return errSyntax
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		if skipSpace(obj, i+1) != len(obj) {
			return errSyntax
		}
		return nil
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return errSyntax
		}
		end, err := stringEnd(obj, i)
		if err != nil {
			return err
		}
		name := obj[i:end]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return errSyntax
		}
		start := skipSpace(obj, i+1)
		end, err = valueEnd(obj, start)
		if err != nil {
			return err
		}
		if err := fn(name, obj[start:end]); err != nil {
			return err
		}
		i = skipSpace(obj, end)
		if i >= len(obj) {
			return errSyntax
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			if skipSpace(obj, i+1) != len(obj) {
				return errSyntax
			}
			return nil
		default:
			return errSyntax
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd and valueEnd are wire's scanners with this scanner's error.
func stringEnd(b []byte, i int) (int, error) { return orSyntax(wire.StringEnd(b, i)) }

func valueEnd(b []byte, i int) (int, error) { return orSyntax(wire.ValueEnd(b, i)) }

func orSyntax(end int, err error) (int, error) {
	if err != nil {
		return 0, errSyntax
	}
	return end, nil
}

// unquote decodes a raw JSON string (quotes included).
func unquote(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errSyntax
	}
	return s, nil
}

// equalJSON reports whether two JSON documents are the same value: the same
// bytes, or the same after compacting, or equal once decoded (member order
// and number spelling aside; numbers compare as written, not as float64).
// Restore uses it to leave identical documents alone.
func equalJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	if bytes.Equal(ca.Bytes(), cb.Bytes()) {
		return true
	}
	va, okA := decodeAny(ca.Bytes())
	vb, okB := decodeAny(cb.Bytes())
	return okA && okB && reflect.DeepEqual(va, vb)
}

func decodeAny(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// syntaxf wraps a scanning failure in ErrCorrupt.
func syntaxf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
