package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/types"
	"strings"
)

// lakeColumn is a typed column of a collection's lake queries: a document
// field, extracted from the event's doc and cast to its DuckDB type.
type lakeColumn struct {
	name string // the JSON member name, also the column name
	typ  string // the DuckDB type
	sql  string // the select expression, with its alias
}

// metaColumns are the columns runtime/query puts first in every collection
// query (see query.Collection); a document field must not take one
// of their names.
var metaColumns = map[string]bool{
	"_op": true, "_ts": true, "_bookmark": true, "_doc_id": true, "_store": true, "_doc": true, "_prev": true,
}

// lakeColumns lists the typed columns of a collection: one per top-level
// JSON member of its documents (fields left out of <T>Where included).
func (b *builder) lakeColumns(c *collection, st *types.Struct) []lakeColumn {
	var out []lakeColumn
	for _, f := range b.quietFields(st) {
		if metaColumns[strings.ToLower(f.name)] {
			b.errorf(f.pos, "field %s: JSON name %q is taken by a column of the lake queries", f.goName, f.name)
			continue
		}
		typ := b.duckType(f.typ, false, map[types.Type]bool{})
		extract := fmt.Sprintf(`json_extract("doc", '$."%s"')`, f.name)
		var expr string
		switch typ {
		case "JSON":
			expr = extract
		case "TIMESTAMPTZ":
			// The top level gets UTC TIMESTAMPs, like _ts; nested times stay
			// TIMESTAMPTZ (a TIMESTAMP would drop their offsets).
			typ = "TIMESTAMP"
			expr = fmt.Sprintf(`timezone('UTC', json_transform(%s, '"TIMESTAMPTZ"'))`, extract)
		default:
			expr = fmt.Sprintf(`json_transform(%s, %s)`, extract, sqlLiteral(jsonString(typ)))
		}
		out = append(out, lakeColumn{name: f.name, typ: typ, sql: expr + " AS " + sqlIdent(f.name)})
	}
	return out
}

// duckType is the DuckDB type of the JSON encoding of t: VARCHAR, BIGINT,
// UBIGINT, DOUBLE, BOOLEAN, TIMESTAMPTZ, a LIST (T[]), a STRUCT, a MAP, or
// JSON when the shape is not fixed (custom MarshalJSON, recursive types,
// interfaces).
func (b *builder) duckType(t types.Type, addressable bool, seen map[types.Type]bool) string {
	t = types.Unalias(t)
	for {
		p, ok := t.Underlying().(*types.Pointer)
		if !ok {
			break
		}
		t = types.Unalias(p.Elem())
		addressable = true
	}
	if isTime(t) {
		return "TIMESTAMPTZ"
	}
	if types.IsInterface(t) {
		return "JSON"
	}
	switch marshaler(t, addressable) {
	case "MarshalJSON":
		return "JSON"
	case "MarshalText":
		return "VARCHAR"
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsString != 0:
			return "VARCHAR"
		case u.Info()&types.IsBoolean != 0:
			return "BOOLEAN"
		case u.Info()&types.IsFloat != 0:
			return "DOUBLE"
		case u.Kind() == types.Uint || u.Kind() == types.Uint64 || u.Kind() == types.Uintptr:
			return "UBIGINT"
		case u.Info()&types.IsInteger != 0:
			return "BIGINT"
		}
	case *types.Slice:
		if e, ok := u.Elem().Underlying().(*types.Basic); ok && e.Kind() == types.Byte && marshaler(u.Elem(), true) == "" {
			return "VARCHAR" // encoding/json writes []byte as base64
		}
		return b.duckType(u.Elem(), true, seen) + "[]"
	case *types.Array:
		return b.duckType(u.Elem(), addressable, seen) + "[]"
	case *types.Map:
		if k, ok := u.Key().Underlying().(*types.Basic); ok && k.Info()&types.IsString != 0 {
			return "MAP(VARCHAR, " + b.duckType(u.Elem(), false, seen) + ")"
		}
	case *types.Struct:
		if seen[t] {
			return "JSON"
		}
		seen[t] = true
		defer delete(seen, t)
		var fields []string
		for _, f := range b.quietFields(u) {
			fields = append(fields, sqlIdent(f.name)+" "+b.duckType(f.typ, addressable, seen))
		}
		if len(fields) == 0 {
			return "JSON"
		}
		return "STRUCT(" + strings.Join(fields, ", ") + ")"
	}
	return "JSON"
}

// marshaler names the method encoding/json encodes t with: "MarshalJSON",
// "MarshalText" or "".
func marshaler(t types.Type, addressable bool) string {
	sets := []*types.MethodSet{types.NewMethodSet(t)}
	if _, isPtr := t.Underlying().(*types.Pointer); addressable && !isPtr && !types.IsInterface(t) {
		sets = append(sets, types.NewMethodSet(types.NewPointer(t)))
	}
	for _, name := range []string{"MarshalJSON", "MarshalText"} {
		for _, ms := range sets {
			if hasMarshaler(ms, name) {
				return name
			}
		}
	}
	return ""
}

// sqlIdent quotes a DuckDB identifier.
func sqlIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// sqlLiteral quotes a DuckDB string literal.
func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// jsonString encodes s as a JSON string (the type argument of json_transform).
func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}
