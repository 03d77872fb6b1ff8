package gen

import (
	"fmt"
	"go/token"
	"go/types"
	"slices"
	"strings"
)

// eventsOptions are the options of a field's events tag.
type eventsOptions struct {
	skip  bool // "-": not in <T>Where
	index bool // "index": indexed
}

// eventsTag parses a field's events tag, reporting unknown options.
func (b *builder) eventsTag(f jsonField) eventsOptions {
	var o eventsOptions
	for opt := range strings.SplitSeq(f.events, ",") {
		switch strings.TrimSpace(opt) {
		case "":
		case "-":
			o.skip = true
		case "index":
			o.index = true
		default:
			b.errorf(f.pos, "field %s: unknown events tag option %q (want \"index\" or \"-\")", f.goName, opt)
		}
	}
	return o
}

// buildStruct builds the fields struct named prefix+"Fields" over st,
// whose members sit at jsonPath in the document. addressable says whether
// the struct is reached through a pointer (encoding/json then also uses
// pointer-receiver marshalers); stack holds the structs being built, to
// stop at recursive types.
func (b *builder) buildStruct(prefix, owner string, st *types.Struct, jsonPath []string, pos token.Pos, addressable bool, stack []types.Type) *whereStruct {
	ws := &whereStruct{typeName: prefix + "Fields"}
	var kept []jsonField
	index := map[string]bool{}
	for _, f := range b.jsonFields(st, owner, pos) {
		opts := b.eventsTag(f)
		if opts.skip {
			// Left out of the filters, the field is still in the document.
			if reason := b.unencodable(f.typ, map[types.Type]bool{}, f.pos); reason != "" {
				b.errorf(f.pos, "field %s has type %s: %s; events:\"-\" only leaves it out of the filters: leave it out of the document with json:\"-\"", f.goName, b.typeString(f.typ), reason)
			}
			continue
		}
		index[f.display] = opts.index
		kept = append(kept, f)
	}
	kept = b.dominant(kept, func(f jsonField) string { return f.goName }, func(first, f jsonField) {
		b.errorf(f.pos, "%s has two fields named %s (%s and %s): rename one or leave one out with events:\"-\"", owner, f.goName, first.display, f.display)
	})
	for _, f := range kept {
		if wf := b.classify(prefix, owner, f, jsonPath, addressable, stack, index[f.display]); wf != nil {
			ws.fields = append(ws.fields, wf)
		}
	}
	return ws
}

// classify decides the cdc field type of one field; nil when the field is
// unsupported (reported).
func (b *builder) classify(prefix, owner string, f jsonField, jsonPath []string, addressable bool, stack []types.Type, index bool) *whereField {
	wf := &whereField{
		goName:   f.goName,
		jsonPath: append(slices.Clip(jsonPath), f.name),
		decl:     f.typ,
		index:    index,
		pos:      f.pos,
	}
	t := types.Unalias(f.typ)
	for {
		p, ok := t.(*types.Pointer)
		if !ok {
			break
		}
		t = types.Unalias(p.Elem())
		addressable = true
	}
	wf.value = t
	if !isStruct(t) { // a struct's own fields are checked one by one below
		if reason := b.problem(f.typ, map[types.Type]bool{}, f.pos); reason != "" {
			b.errorf(f.pos, "field %s has type %s: %s", f.goName, b.typeString(f.typ), reason)
			return nil
		}
	}
	if _, basic := t.Underlying().(*types.Basic); basic && f.asString {
		b.errorf(f.pos, "field %s: the json \",string\" option is not supported (filters would compare numbers with strings); leave the field out with events:\"-\"", f.goName)
		return nil
	}
	if index && jsonContainer(t) {
		b.errorf(f.pos, "field %s: events:\"index\" on %s would index the whole JSON value, not its elements (SQLite has no multi-valued index); leave the tag out", f.goName, b.typeString(f.typ))
		index = false
	}
	switch {
	case isTime(t):
		wf.kind = kindTime
		return b.leaf(wf, index)
	case marshals(t, addressable):
		wf.kind = kindField
		return b.leaf(wf, index)
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch info := u.Info(); {
		case info&types.IsString != 0:
			wf.kind = kindString
		case info&(types.IsInteger|types.IsFloat) != 0:
			wf.kind = kindOrdered
		default:
			wf.kind = kindField
		}
	case *types.Struct:
		if slices.ContainsFunc(stack, func(s types.Type) bool { return types.Identical(s, t) }) {
			wf.kind = kindField // a recursive type: filter on the value as a whole
			break
		}
		if index {
			b.errorf(f.pos, "field %s: events:\"index\" is for fields that hold a value, not a struct; tag the fields of %s instead", f.goName, b.typeString(t))
		}
		nestedOwner := owner + "." + f.goName
		if isNamed(t) {
			nestedOwner = b.typeString(t)
		}
		wf.kind = kindNested
		wf.nested = b.buildStruct(prefix+f.goName, nestedOwner, u, wf.jsonPath, f.pos, addressable, append(slices.Clip(stack), t))
		if isNamed(t) && b.nameable(t) && !slices.ContainsFunc(wf.nested.fields, func(n *whereField) bool { return n.goName == "Field" }) {
			wf.nested.whole = t
		}
		return wf
	default:
		wf.kind = kindField
	}
	return b.leaf(wf, index)
}

// leaf finishes a field with a value: its type must be nameable in the
// generated file (an unexported type of another package is replaced by its
// basic underlying type, or reported).
func (b *builder) leaf(wf *whereField, index bool) *whereField {
	if !b.nameable(wf.value) {
		basic, ok := wf.value.Underlying().(*types.Basic)
		if !ok {
			b.errorf(wf.pos, "field %s has type %s, which the generated code cannot name (it is not exported); leave the field out with events:\"-\"", wf.goName, b.typeString(wf.value))
			return nil
		}
		wf.value = types.Typ[basic.Kind()]
	}
	wf.index = index
	return wf
}

// problem says why values of type t cannot be stored as JSON and filtered,
// or "" when they can. Struct fields are walked the way encoding/json walks
// them; seen stops at recursive types.
func (b *builder) problem(t types.Type, seen map[types.Type]bool, pos token.Pos) string {
	t = types.Unalias(t)
	if it, ok := t.Underlying().(*types.Interface); ok {
		if it.Empty() {
			return "" // any: whatever JSON value, filtered with Eq, Ne, In and IsNull
		}
		return "an interface with methods cannot be decoded from JSON; use any, a concrete type or json.RawMessage, or leave the field out with events:\"-\""
	}
	if isTime(t) || marshals(t, true) {
		return ""
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Kind() == types.Invalid:
			return "the type does not type-check"
		case u.Info()&types.IsComplex != 0:
			return "complex numbers cannot be stored as JSON"
		case u.Kind() == types.UnsafePointer:
			return "unsafe pointers cannot be stored as JSON"
		}
	case *types.Pointer:
		return b.problem(u.Elem(), seen, pos)
	case *types.Slice:
		return b.problem(u.Elem(), seen, pos)
	case *types.Array:
		return b.problem(u.Elem(), seen, pos)
	case *types.Map:
		if k, ok := u.Key().Underlying().(*types.Basic); !ok || k.Info()&types.IsString == 0 {
			return fmt.Sprintf("map keys must be strings, not %s", b.typeString(u.Key()))
		}
		return b.problem(u.Elem(), seen, pos)
	case *types.Struct:
		if seen[t] {
			return ""
		}
		seen[t] = true
		owner := "struct"
		if isNamed(t) {
			owner = b.typeString(t)
		}
		for _, f := range b.jsonFields(u, owner, pos) {
			if b.eventsTag(f).skip {
				if p := b.unencodable(f.typ, seen, pos); p != "" {
					return fmt.Sprintf("%s.%s has type %s: %s (events:\"-\" keeps it in the document; json:\"-\" leaves it out)", owner, f.goName, b.typeString(f.typ), p)
				}
				continue
			}
			if p := b.problem(f.typ, seen, pos); p != "" {
				return fmt.Sprintf("%s.%s has type %s: %s", owner, f.goName, b.typeString(f.typ), p)
			}
		}
	case *types.Chan:
		return "channels cannot be stored as JSON"
	case *types.Signature:
		return "functions cannot be stored as JSON"
	case *types.TypeParam:
		return "type parameters are not supported"
	}
	return ""
}

// unencodable says why encoding/json cannot encode values of type t (it
// fails on channels, functions, complex numbers and unsafe pointers even
// when they are nil), or "" when it can. It walks every field encoding/json
// encodes, those tagged events:"-" included.
func (b *builder) unencodable(t types.Type, seen map[types.Type]bool, pos token.Pos) string {
	t = types.Unalias(t)
	if types.IsInterface(t) || isTime(t) || marshals(t, true) {
		return ""
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsComplex != 0:
			return "complex numbers cannot be stored as JSON"
		case u.Kind() == types.UnsafePointer:
			return "unsafe pointers cannot be stored as JSON"
		}
	case *types.Pointer:
		return b.unencodable(u.Elem(), seen, pos)
	case *types.Slice:
		return b.unencodable(u.Elem(), seen, pos)
	case *types.Array:
		return b.unencodable(u.Elem(), seen, pos)
	case *types.Map:
		return b.unencodable(u.Elem(), seen, pos)
	case *types.Struct:
		if seen[t] {
			return ""
		}
		seen[t] = true
		for _, f := range b.quietFields(u) {
			if p := b.unencodable(f.typ, seen, pos); p != "" {
				return fmt.Sprintf("%s has type %s: %s", f.display, b.typeString(f.typ), p)
			}
		}
	case *types.Chan:
		return "channels cannot be stored as JSON"
	case *types.Signature:
		return "functions cannot be stored as JSON"
	}
	return ""
}

// jsonContainer reports whether values of t encode as a JSON array or
// object, or as any JSON value: slices (but []byte, a base64 string),
// arrays, maps and the empty interface. Structs are handled by their fields.
func jsonContainer(t types.Type) bool {
	if isTime(t) || marshals(t, true) {
		return false
	}
	switch u := t.Underlying().(type) {
	case *types.Slice:
		e, ok := u.Elem().Underlying().(*types.Basic)
		return !ok || e.Kind() != types.Byte
	case *types.Array, *types.Map:
		return true
	case *types.Interface:
		return u.Empty()
	}
	return false
}

// isTime reports whether t is time.Time.
func isTime(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}

// marshals reports whether encoding/json encodes t with its own
// MarshalJSON or MarshalText (pointer-receiver ones only when the value is
// addressable, as encoding/json does).
func marshals(t types.Type, addressable bool) bool {
	if hasMarshaler(types.NewMethodSet(t)) {
		return true
	}
	if _, isPtr := t.Underlying().(*types.Pointer); addressable && !isPtr && !types.IsInterface(t) {
		return hasMarshaler(types.NewMethodSet(types.NewPointer(t)))
	}
	return false
}

// hasMarshaler reports whether a method set has one of the named
// marshaling methods (MarshalJSON, MarshalText), with their signature.
func hasMarshaler(ms *types.MethodSet, names ...string) bool {
	if len(names) == 0 {
		names = []string{"MarshalJSON", "MarshalText"}
	}
	for _, name := range names {
		sel := ms.Lookup(nil, name)
		if sel == nil {
			continue
		}
		if sig, ok := sel.Type().(*types.Signature); ok && sig.Params().Len() == 0 && sig.Results().Len() == 2 {
			return true
		}
	}
	return false
}
