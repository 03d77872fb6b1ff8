package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// where renders <T>Fields (and a fields type per nested struct) and the
// <T>Where variable.
func (r *renderer) where(f *jen.File, c *collection) {
	doc(f,
		fmt.Sprintf("%s holds the fields of %s that filters and orders can name;", c.where.typeName, c.typeName),
		fmt.Sprintf("%s is its value.", c.whereVar()),
	)
	r.fieldsType(f, c.where)
	doc(f,
		fmt.Sprintf("%s names the fields of %s in filters and orders, e.g.", c.whereVar(), c.typeName),
		fmt.Sprintf("%s.%s.Eq(v) or %s.%s.Asc().", c.whereVar(), exampleField(c.where), c.whereVar(), exampleField(c.where)),
	)
	f.Var().Id(c.whereVar()).Op("=").Add(r.fieldsValue(c.where, nil))
	f.Line()
}

// exampleField names a field for the doc comment of <T>Where.
func exampleField(ws *whereStruct) string {
	for _, f := range ws.fields {
		if f.nested == nil {
			return f.goName
		}
	}
	for _, f := range ws.fields {
		return f.goName + "." + exampleField(f.nested)
	}
	return "Field"
}

// fieldsType renders the struct type of ws, then those of its nested structs.
func (r *renderer) fieldsType(f *jen.File, ws *whereStruct) {
	var items []jen.Code
	if ws.whole != nil {
		items = append(items,
			jen.Comment("Field has the predicates on the value as a whole (IsNull, Eq, ...).").Line().
				Add(r.cdc("Field").Types(r.typeCode(ws.whole))))
	}
	for _, fld := range ws.fields {
		line := fmt.Sprintf("%s is the %s member.", fld.goName, memberName(fld.jsonPath))
		if fld.index {
			line = fmt.Sprintf("%s is the %s member (indexed).", fld.goName, memberName(fld.jsonPath))
		}
		items = append(items, jen.Comment(line).Line().Id(fld.goName).Add(r.fieldType(fld)))
	}
	f.Type().Id(ws.typeName).Struct(items...)
	f.Line()
	for _, fld := range ws.fields {
		if fld.nested != nil {
			doc(f, fmt.Sprintf("%s holds the fields inside the %s member.", fld.nested.typeName, memberName(fld.jsonPath)))
			r.fieldsType(f, fld.nested)
		}
	}
}

// memberName quotes a JSON path for doc comments: "address.city".
func memberName(path []string) string {
	return fmt.Sprintf("%q", strings.Join(path, "."))
}

// fieldType is the cdc field type of a field.
func (r *renderer) fieldType(fld *whereField) jen.Code {
	switch fld.kind {
	case kindNested:
		return jen.Id(fld.nested.typeName)
	case kindTime:
		return r.cdc("TimeField")
	case kindString:
		return r.cdc("StringField").Types(r.typeCode(fld.value))
	case kindOrdered:
		return r.cdc("OrderedField").Types(r.typeCode(fld.value))
	}
	return r.cdc("Field").Types(r.typeCode(fld.value))
}

// fieldsValue is the composite literal of a fields struct.
func (r *renderer) fieldsValue(ws *whereStruct, path []string) jen.Code {
	var items []jen.Code
	if ws.whole != nil {
		items = append(items, jen.Id("Field").Op(":").Add(r.cdc("NewField").Types(r.typeCode(ws.whole)).Call(lits(path)...)))
	}
	for _, fld := range ws.fields {
		var v jen.Code
		args := lits(fld.jsonPath)
		switch fld.kind {
		case kindNested:
			v = r.fieldsValue(fld.nested, fld.jsonPath)
		case kindTime:
			v = r.cdc("NewTimeField").Call(args...)
		case kindString:
			v = r.cdc("NewStringField").Types(r.typeCode(fld.value)).Call(args...)
		case kindOrdered:
			v = r.cdc("NewOrderedField").Types(r.typeCode(fld.value)).Call(args...)
		default:
			v = r.cdc("NewField").Types(r.typeCode(fld.value)).Call(args...)
		}
		items = append(items, jen.Id(fld.goName).Op(":").Add(v))
	}
	return jen.Id(ws.typeName).Custom(jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}, items...)
}

// lits turns strings into literals.
func lits(ss []string) []jen.Code {
	out := make([]jen.Code, len(ss))
	for i, s := range ss {
		out[i] = jen.Lit(s)
	}
	return out
}
