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
//	TimeField        Eq ... Lte on instants       (time.Time, millisecond precision)
//
// Generated code declares one per struct field; without the generator, build
// them with NewField, NewOrderedField, NewStringField and NewTimeField.

// Indexable is a field that can be indexed; every field type is one.
type Indexable interface {
	// sqlExpr is the SQL expression of the field over a document row.
	sqlExpr() string
	// fieldErr is the error the field was built with, if any.
	fieldErr() error
}

// Field is a field whose values can be compared for equality.
type Field[V any] struct {
	expr string
	err  error
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

func (f Field[V]) sqlExpr() string { return f.expr }
func (f Field[V]) fieldErr() error { return f.err }

// Eq matches documents whose field equals v.
func (f Field[V]) Eq(v V) Filter { return cmpFilter{f.expr, f.err, "=", v, false} }

// Ne matches documents whose field differs from v, including those without it.
func (f Field[V]) Ne(v V) Filter { return cmpFilter{f.expr, f.err, "IS NOT", v, false} }

// In matches documents whose field equals one of vs; no values match nothing.
func (f Field[V]) In(vs ...V) Filter {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return inFilter{f.expr, f.err, args, false}
}

// IsNull matches documents where the field is null or missing.
func (f Field[V]) IsNull() Filter { return nullFilter{f.expr, f.err, true} }

// NotNull matches documents where the field is present and not null.
func (f Field[V]) NotNull() Filter { return nullFilter{f.expr, f.err, false} }

// Asc orders by the field, smallest first (missing values first).
func (f Field[V]) Asc() Order { return Order{expr: f.expr, err: f.err} }

// Desc orders by the field, largest first.
func (f Field[V]) Desc() Order { return Order{expr: f.expr, err: f.err, desc: true} }

// OrderedField is a field with ordered values: numbers.
type OrderedField[V cmp.Ordered] struct{ Field[V] }

// NewOrderedField returns the ordered field at path (see NewField).
func NewOrderedField[V cmp.Ordered](path ...string) OrderedField[V] {
	return OrderedField[V]{NewField[V](path...)}
}

// Gt matches documents whose field is greater than v.
func (f OrderedField[V]) Gt(v V) Filter { return cmpFilter{f.expr, f.err, ">", v, false} }

// Gte matches documents whose field is greater than or equal to v.
func (f OrderedField[V]) Gte(v V) Filter { return cmpFilter{f.expr, f.err, ">=", v, false} }

// Lt matches documents whose field is less than v.
func (f OrderedField[V]) Lt(v V) Filter { return cmpFilter{f.expr, f.err, "<", v, false} }

// Lte matches documents whose field is less than or equal to v.
func (f OrderedField[V]) Lte(v V) Filter { return cmpFilter{f.expr, f.err, "<=", v, false} }

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

// IDField returns a field over the document id itself, for filters and
// orders by id.
func IDField() StringField[string] {
	return StringField[string]{OrderedField[string]{Field[string]{expr: "id"}}}
}

// TimeField is a field holding a time.Time. Times compare as instants (zones
// do not matter) at millisecond precision, the precision of SQLite's date
// functions.
type TimeField struct{ Field[time.Time] }

// NewTimeField returns the time field at path (see NewField).
func NewTimeField(path ...string) TimeField {
	expr, err := jsonExpr(path)
	return TimeField{Field[time.Time]{expr: timeExpr(expr), err: err}}
}

// timeExpr turns an RFC 3339 text expression into Unix seconds with a
// millisecond fraction: comparable whatever the zone offset of each value.
func timeExpr(text string) string { return `unixepoch(` + text + `, 'subsec')` }

// Eq matches documents whose time is the same instant as v (to the millisecond).
func (f TimeField) Eq(v time.Time) Filter { return cmpFilter{f.expr, f.err, "=", v, true} }

// Ne matches documents whose time differs from v, including those without one.
func (f TimeField) Ne(v time.Time) Filter { return cmpFilter{f.expr, f.err, "IS NOT", v, true} }

// In matches documents whose time is one of vs.
func (f TimeField) In(vs ...time.Time) Filter {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return inFilter{f.expr, f.err, args, true}
}

// Gt matches documents whose time is after v.
func (f TimeField) Gt(v time.Time) Filter { return cmpFilter{f.expr, f.err, ">", v, true} }

// Gte matches documents whose time is v or after.
func (f TimeField) Gte(v time.Time) Filter { return cmpFilter{f.expr, f.err, ">=", v, true} }

// Lt matches documents whose time is before v.
func (f TimeField) Lt(v time.Time) Filter { return cmpFilter{f.expr, f.err, "<", v, true} }

// Lte matches documents whose time is v or before.
func (f TimeField) Lte(v time.Time) Filter { return cmpFilter{f.expr, f.err, "<=", v, true} }

// Order is one key of a sort order, made by a field's Asc or Desc.
type Order struct {
	expr string
	err  error
	desc bool
}
