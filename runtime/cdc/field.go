package cdc

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// A field is a value inside stored documents that filters and orders can
// name. The types below give each Go type exactly the predicates that make
// sense for it, with arguments typed as the field, so a filter of the wrong
// type does not compile:
//
//	Field[V]         Eq, Ne, In, Asc, Desc        (bool, slices, maps, structs)
//	OrderedField[V]  + Gt, Gte, Lt, Lte           (numbers)
//	StringField[V]   + Contains, HasPrefix        (strings and string enums)
//	TimeField        = OrderedField[time.Time]    (compared as instants, to the millisecond)
//
// Generated code declares one per struct field; without the generator, build
// them with NewField, NewOrderedField, NewStringField and NewTimeField.

// Field is a field whose values can be compared for equality.
type Field[V any] struct {
	expr   string
	err    error
	isTime bool // expr is a time as Unix seconds: arguments convert alike
}

// NewField returns the field at path in the document, path being JSON member
// names from the outside in: NewField[bool]("active"), NewField[string]("address", "city").
func NewField[V any](path ...string) Field[V] {
	expr, err := jsonExpr(path)
	return Field[V]{expr: expr, err: err}
}

// jsonExpr is json_extract over the document for a member path. Members are
// always quoted, so names with '.', '$' or spaces work; the path is a literal
// (never a parameter) so the expression matches the one in an index.
func jsonExpr(path []string) (string, error) {
	if len(path) == 0 {
		return "", fmt.Errorf("%w: a field needs a path", ErrInvalidOptions)
	}
	var b strings.Builder
	b.WriteString(`json_extract(doc, '$`)
	for _, p := range path {
		if p == "" || strings.ContainsAny(p, "\"'\\") || strings.IndexFunc(p, func(r rune) bool { return r < 0x20 }) >= 0 {
			return "", fmt.Errorf("%w: field name %q is not supported", ErrInvalidOptions, p)
		}
		b.WriteString(`."`)
		b.WriteString(p)
		b.WriteString(`"`)
	}
	b.WriteString(`')`)
	return b.String(), nil
}

// Eq matches documents whose field equals v.
func (f Field[V]) Eq(v V) Filter { return cmpFilter{f.expr, f.err, "=", v, f.isTime} }

// Ne matches documents whose field differs from v, including those without it.
func (f Field[V]) Ne(v V) Filter { return cmpFilter{f.expr, f.err, "IS NOT", v, f.isTime} }

// In matches documents whose field equals one of vs; no values match nothing.
func (f Field[V]) In(vs ...V) Filter {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return inFilter{f.expr, f.err, args, f.isTime}
}

// IsNull matches documents where the field is null or missing.
func (f Field[V]) IsNull() Filter { return nullFilter{f.expr, f.err, true} }

// NotNull matches documents where the field is present and not null.
func (f Field[V]) NotNull() Filter { return nullFilter{f.expr, f.err, false} }

// Asc orders by the field, smallest first (missing values first).
func (f Field[V]) Asc() Order { return Order{expr: f.expr, err: f.err} }

// Desc orders by the field, largest first.
func (f Field[V]) Desc() Order { return Order{expr: f.expr, err: f.err, desc: true} }

// OrderedField is a field with ordered values: numbers, strings (see
// StringField) and times (see TimeField).
type OrderedField[V cmp.Ordered | time.Time] struct{ Field[V] }

// NewOrderedField returns the ordered field at path (see NewField).
func NewOrderedField[V cmp.Ordered](path ...string) OrderedField[V] {
	return OrderedField[V]{NewField[V](path...)}
}

// Gt matches documents whose field is greater than v.
func (f OrderedField[V]) Gt(v V) Filter { return cmpFilter{f.expr, f.err, ">", v, f.isTime} }

// Gte matches documents whose field is greater than or equal to v.
func (f OrderedField[V]) Gte(v V) Filter { return cmpFilter{f.expr, f.err, ">=", v, f.isTime} }

// Lt matches documents whose field is less than v.
func (f OrderedField[V]) Lt(v V) Filter { return cmpFilter{f.expr, f.err, "<", v, f.isTime} }

// Lte matches documents whose field is less than or equal to v.
func (f OrderedField[V]) Lte(v V) Filter { return cmpFilter{f.expr, f.err, "<=", v, f.isTime} }

// StringField is a field holding strings (or a string enum type). Strings
// compare by their bytes (UTF-8 order).
type StringField[V ~string] struct{ OrderedField[V] }

// NewStringField returns the string field at path (see NewField).
func NewStringField[V ~string](path ...string) StringField[V] {
	return StringField[V]{NewOrderedField[V](path...)}
}

// Contains matches documents whose field contains sub (case-sensitive).
func (f StringField[V]) Contains(sub V) Filter {
	return containsFilter{f.expr, f.err, string(sub)}
}

// HasPrefix matches documents whose field starts with prefix (case-sensitive);
// on an indexed field it reads only the matching range of the index.
func (f StringField[V]) HasPrefix(prefix V) Filter {
	return prefixFilter{f.expr, f.err, string(prefix)}
}

// TimeField is a field holding a time.Time. Times compare as instants (zones
// do not matter) at millisecond precision, the precision of SQLite's date
// functions.
type TimeField = OrderedField[time.Time]

// NewTimeField returns the time field at path (see NewField).
func NewTimeField(path ...string) TimeField {
	expr, err := jsonExpr(path)
	return TimeField{Field[time.Time]{expr: timeExpr(expr), err: err, isTime: true}}
}

// timeExpr turns an RFC 3339 text expression into Unix seconds with a
// millisecond fraction: comparable whatever the zone offset of each value.
func timeExpr(text string) string { return `unixepoch(` + text + `, 'subsec')` }

// Order is one key of a sort order, made by a field's Asc or Desc.
type Order struct {
	expr string
	err  error
	desc bool
}
