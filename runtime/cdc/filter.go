package cdc

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// Filter selects documents. Build filters from fields (Eq, Gt, ...) and
// combine them with And, Or and Not. A nil Filter matches every document.
// Filters compile to SQL in which every value is a bound parameter.
type Filter interface {
	// build appends the filter's SQL condition and its arguments to b.
	build(b *sqlBuilder) error
}

// sqlBuilder accumulates SQL text and its arguments.
type sqlBuilder struct {
	sql  strings.Builder
	args []any
}

func (b *sqlBuilder) arg(v any) {
	b.args = append(b.args, v)
	b.sql.WriteByte('?')
}

// And matches documents that every filter matches; nil filters are skipped.
func And(filters ...Filter) Filter { return junction{"AND", filters} }

// Or matches documents that at least one filter matches; nil filters match everything.
func Or(filters ...Filter) Filter { return junction{"OR", filters} }

// Not matches documents that f does not match.
func Not(f Filter) Filter { return notFilter{f} }

type junction struct {
	op      string
	filters []Filter
}

func (j junction) build(b *sqlBuilder) error {
	var parts []Filter
	for _, f := range j.filters {
		if f == nil {
			if j.op == "OR" {
				b.sql.WriteString("1")
				return nil
			}
			continue
		}
		parts = append(parts, f)
	}
	if len(parts) == 0 {
		if j.op == "OR" {
			b.sql.WriteString("0") // no alternatives: nothing matches
		} else {
			b.sql.WriteString("1")
		}
		return nil
	}
	b.sql.WriteByte('(')
	for i, f := range parts {
		if i > 0 {
			b.sql.WriteString(" " + j.op + " ")
		}
		if err := f.build(b); err != nil {
			return err
		}
	}
	b.sql.WriteByte(')')
	return nil
}

type notFilter struct{ f Filter }

func (n notFilter) build(b *sqlBuilder) error {
	if n.f == nil {
		b.sql.WriteString("0")
		return nil
	}
	// COALESCE: a comparison with a missing field is NULL, and NOT NULL is
	// NULL too; a document the inner filter does not match must match here.
	b.sql.WriteString("NOT COALESCE(")
	if err := n.f.build(b); err != nil {
		return err
	}
	b.sql.WriteString(", 0)")
	return nil
}

type cmpFilter struct {
	expr   string
	err    error
	op     string
	value  any
	isTime bool
}

func (c cmpFilter) build(b *sqlBuilder) error {
	if c.err != nil {
		return c.err
	}
	v, asJSON, err := sqlValue(c.value, c.isTime)
	if err != nil {
		return err
	}
	if v == nil {
		switch c.op {
		case "=":
			b.sql.WriteString(c.expr + " IS NULL")
		case "IS NOT":
			b.sql.WriteString(c.expr + " IS NOT NULL")
		default:
			b.sql.WriteString("0") // nothing orders against null
		}
		return nil
	}
	b.sql.WriteString(c.expr + " " + c.op + " ")
	writeValue(b, v, asJSON, c.isTime)
	return nil
}

// writeValue writes a bound value, wrapped the way its field's expression is.
func writeValue(b *sqlBuilder, v any, asJSON, isTime bool) {
	switch {
	case isTime:
		b.arg(v) // already Unix seconds, computed as SQLite does (see sqlValue)
	case asJSON:
		b.sql.WriteString("json(")
		b.arg(v)
		b.sql.WriteString(")")
	default:
		b.arg(v)
	}
}

type inFilter struct {
	expr   string
	err    error
	values []any
	isTime bool
}

func (in inFilter) build(b *sqlBuilder) error {
	if in.err != nil {
		return in.err
	}
	if len(in.values) == 0 {
		b.sql.WriteString("0")
		return nil
	}
	b.sql.WriteString(in.expr + " IN (")
	for i, raw := range in.values {
		v, asJSON, err := sqlValue(raw, in.isTime)
		if err != nil {
			return err
		}
		if i > 0 {
			b.sql.WriteString(", ")
		}
		writeValue(b, v, asJSON, in.isTime)
	}
	b.sql.WriteByte(')')
	return nil
}

type nullFilter struct {
	expr   string
	err    error
	isNull bool
}

func (n nullFilter) build(b *sqlBuilder) error {
	if n.err != nil {
		return n.err
	}
	if n.isNull {
		b.sql.WriteString(n.expr + " IS NULL")
	} else {
		b.sql.WriteString(n.expr + " IS NOT NULL")
	}
	return nil
}

type containsFilter struct {
	expr string
	err  error
	sub  string
}

func (c containsFilter) build(b *sqlBuilder) error {
	if c.err != nil {
		return c.err
	}
	// instr is case-sensitive and needs no escaping, unlike LIKE.
	b.sql.WriteString("instr(" + c.expr + ", ")
	b.arg(c.sub)
	b.sql.WriteString(") > 0")
	return nil
}

type prefixFilter struct {
	expr   string
	err    error
	prefix string
}

func (p prefixFilter) build(b *sqlBuilder) error {
	if p.err != nil {
		return p.err
	}
	if p.prefix == "" {
		b.sql.WriteString(p.expr + " IS NOT NULL")
		return nil
	}
	// A range the index can seek, then an exact check of the prefix.
	b.sql.WriteString("(" + p.expr + " >= ")
	b.arg(p.prefix)
	if upper, ok := prefixUpperBound(p.prefix); ok {
		b.sql.WriteString(" AND " + p.expr + " < ")
		b.arg(upper)
	}
	b.sql.WriteString(" AND substr(" + p.expr + ", 1, ")
	b.arg(utf8.RuneCountInString(p.prefix))
	b.sql.WriteString(") = ")
	b.arg(p.prefix)
	b.sql.WriteString(")")
	return nil
}

// prefixUpperBound returns the smallest string greater than every string that
// starts with prefix, when there is one that is valid UTF-8.
func prefixUpperBound(prefix string) (string, bool) {
	runes := []rune(prefix)
	for i := len(runes) - 1; i >= 0; i-- {
		r := runes[i] + 1
		if r == 0xD800 { // skip the surrogate range
			r = 0xE000
		}
		if r <= utf8.MaxRune {
			return string(runes[:i]) + string(r), true
		}
	}
	return "", false
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// sqlValue converts a Go value to what json_extract yields for it: TEXT for
// strings, INTEGER or REAL for numbers, 1 or 0 for booleans, nil for null;
// anything else is its JSON text, compared through json() (asJSON).
func sqlValue(v any, isTime bool) (out any, asJSON bool, err error) {
	if isTime {
		t, ok := v.(time.Time)
		if !ok {
			return nil, false, fmt.Errorf("%w: %T is not a time.Time", ErrInvalidOptions, v)
		}
		// unixepoch(x, 'subsec') is integer milliseconds / 1000.0; the same
		// division here gives the identical double, and a constant argument
		// lets the planner use an index on the field.
		return float64(t.Truncate(time.Millisecond).UnixMilli()) / 1000.0, false, nil
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, false, nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil, false, nil
	}
	t := rv.Type()
	custom := t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)
	if !custom {
		switch rv.Kind() {
		case reflect.String:
			return rv.String(), false, nil
		case reflect.Bool:
			if rv.Bool() {
				return int64(1), false, nil
			}
			return int64(0), false, nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return rv.Int(), false, nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if u := rv.Uint(); u <= 1<<63-1 {
				return int64(u), false, nil
			}
			return float64(rv.Uint()), false, nil
		case reflect.Float32, reflect.Float64:
			return rv.Float(), false, nil
		}
	}
	raw, err := json.Marshal(rv.Interface())
	if err != nil {
		return nil, false, fmt.Errorf("%w: filter value: %v", ErrEncode, err)
	}
	// A value that encodes as a JSON scalar compares as that scalar.
	var scalar any
	if err := json.Unmarshal(raw, &scalar); err == nil {
		switch s := scalar.(type) {
		case nil:
			return nil, false, nil
		case string:
			return s, false, nil
		case bool:
			if s {
				return int64(1), false, nil
			}
			return int64(0), false, nil
		case float64:
			if s == float64(int64(s)) {
				return int64(s), false, nil
			}
			return s, false, nil
		}
	}
	return string(raw), true, nil
}
