package snapshot

import (
	"bytes"
	"fmt"

	"github.com/dotdo/events/internal/wire"
)

// The row escape (see the package documentation): "_id" holds the row id,
// "_value" a document that is not an object, and a document member named
// '_'+ then "id" or "value" gets one more '_'.
const (
	rowIDName    = "_id"
	rowValueName = "_value"
)

// reservedName reports whether a member name is one the escape renames:
// one or more '_' followed by "id" or "value".
func reservedName(name string) bool {
	i := 0
	for i < len(name) && name[i] == '_' {
		i++
	}
	return i > 0 && (name[i:] == "id" || name[i:] == "value")
}

// appendRow appends the snapshot row of document doc (compact JSON, as the
// store keeps it) stored under id.
func appendRow(dst []byte, id string, doc []byte) ([]byte, error) {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 {
		return dst, fmt.Errorf("document %s is empty", quote(id))
	}
	dst = append(dst, `{"_id":`...)
	dst = wire.AppendString(dst, id)
	if doc[0] != '{' {
		dst = append(dst, `,"_value":`...)
		dst = append(dst, doc...)
		return append(dst, '}'), nil
	}
	// Fast path: no member can need renaming unless the text "_id\"" or
	// "_value\"" is there, or an escape could spell one.
	if !bytes.Contains(doc, []byte(`_id"`)) && !bytes.Contains(doc, []byte(`_value"`)) && !bytes.Contains(doc, []byte(`\u`)) {
		inner := bytes.TrimSpace(doc[1:])
		if len(inner) > 0 && inner[0] != '}' {
			dst = append(dst, ',')
			dst = append(dst, inner...)
			return dst, nil
		}
		return append(dst, '}'), nil
	}
	err := forEachMember(doc, func(rawName, value []byte) error {
		name, err := unquote(rawName)
		if err != nil {
			return err
		}
		dst = append(dst, ',')
		if reservedName(name) {
			// One more '_' in front, the rest as spelled, so the name comes
			// back byte for byte.
			dst = append(dst, '"', '_')
			dst = append(dst, rawName[1:]...)
		} else {
			dst = append(dst, rawName...)
		}
		dst = append(dst, ':')
		dst = append(dst, value...)
		return nil
	})
	if err != nil {
		return dst, fmt.Errorf("document %s: %w", quote(id), err)
	}
	return append(dst, '}'), nil
}

// parseRow undoes appendRow: it returns the row's id and its document,
// appended to buf[:0]. row is one JSON object already checked by
// encoding/json.
func parseRow(row, buf []byte) (id string, doc []byte, err error) {
	doc = append(buf[:0], '{')
	var (
		haveID, haveValue bool
		members           int
		value             []byte
	)
	err = forEachMember(row, func(rawName, v []byte) error {
		name, err := unquote(rawName)
		if err != nil {
			return err
		}
		switch name {
		case rowIDName:
			if haveID {
				return fmt.Errorf("two %q members", rowIDName)
			}
			haveID = true
			if len(v) == 0 || v[0] != '"' {
				return fmt.Errorf("%q is not a string", rowIDName)
			}
			id, err = unquote(v)
			return err
		case rowValueName:
			if haveValue {
				return fmt.Errorf("two %q members", rowValueName)
			}
			haveValue = true
			value = v
			return nil
		}
		if members > 0 {
			doc = append(doc, ',')
		}
		members++
		switch {
		case reservedName(name) && len(rawName) > 2 && rawName[1] == '_':
			doc = append(doc, '"')
			doc = append(doc, rawName[2:]...)
		case reservedName(name):
			doc = wire.AppendString(doc, name[1:])
		default:
			doc = append(doc, rawName...)
		}
		doc = append(doc, ':')
		doc = append(doc, v...)
		return nil
	})
	switch {
	case err != nil:
		return "", nil, err
	case !haveID:
		return "", nil, fmt.Errorf("a row has no %q", rowIDName)
	case haveValue && members > 0:
		return "", nil, fmt.Errorf("row %s has %q and other members", quote(id), rowValueName)
	case haveValue:
		return id, append(doc[:0], value...), nil
	}
	return id, append(doc, '}'), nil
}
