package gen

import (
	"cmp"
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"strings"
	"unicode"
)

// jsonField is a struct field as encoding/json sees it.
type jsonField struct {
	name      string // JSON member name
	goName    string // Go name of the field
	display   string // Go selector from the outer struct: A.X for a promoted X
	index     []int  // field indexes from the outer struct, through embedded ones
	typ       types.Type
	omitEmpty bool // omitempty or omitzero
	asString  bool // the ,string option
	events    string
	pos       token.Pos // where to report a problem with the field
}

// embedded is a struct whose fields are promoted, met while walking.
type embedded struct {
	st     *types.Struct
	index  []int
	pos    token.Pos
	prefix string // Go selector prefix of its fields: "A."
}

// jsonFields lists the fields encoding/json encodes for st, in its order:
// exported fields, named by their json tag; embedded structs without a tag
// name promote their fields (the shallowest of a name wins). Two fields of
// one JSON name at the same depth are reported (at pos when the field is
// not declared in the package).
func (b *builder) jsonFields(st *types.Struct, owner string, pos token.Pos) []jsonField {
	return b.walkFields(st, owner, pos, true)
}

// quietFields is jsonFields without reporting conflicts (for a second walk
// over types already checked).
func (b *builder) quietFields(st *types.Struct) []jsonField {
	return b.walkFields(st, "", token.NoPos, false)
}

// walkFields implements jsonFields; report says whether to report conflicts.
func (b *builder) walkFields(st *types.Struct, owner string, pos token.Pos, report bool) []jsonField {
	var all []jsonField
	next := []embedded{{st: st, pos: pos}}
	visited := map[*types.Struct]bool{}
	for len(next) > 0 {
		current := next
		next = nil
		for _, e := range current {
			if visited[e.st] {
				continue
			}
			visited[e.st] = true
			for i := 0; i < e.st.NumFields(); i++ {
				sf := e.st.Field(i)
				fpos := b.posIn(sf.Pos(), e.pos)
				if sf.Embedded() {
					t := sf.Type()
					if p, ok := types.Unalias(t).(*types.Pointer); ok {
						t = p.Elem()
					}
					if !sf.Exported() && !isStruct(t) {
						continue
					}
				} else if !sf.Exported() {
					continue
				}
				tag := reflect.StructTag(e.st.Tag(i))
				jtag := tag.Get("json")
				if jtag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(jtag, ",")
				if !validJSONName(name) {
					name = ""
				}
				index := append(slices.Clip(e.index), i)
				ft := sf.Type()
				if p, ok := types.Unalias(ft).(*types.Pointer); ok && !isNamed(ft) {
					ft = p.Elem()
				}
				if name != "" || !sf.Embedded() || !isStruct(ft) {
					f := jsonField{
						name:      name,
						goName:    sf.Name(),
						display:   e.prefix + sf.Name(),
						index:     index,
						typ:       sf.Type(),
						omitEmpty: hasOption(opts, "omitempty") || hasOption(opts, "omitzero"),
						asString:  hasOption(opts, "string"),
						events:    tag.Get("events"),
						pos:       fpos,
					}
					if f.name == "" {
						f.name = sf.Name()
					}
					all = append(all, f)
					continue
				}
				next = append(next, embedded{st: ft.Underlying().(*types.Struct), index: index, pos: fpos, prefix: e.prefix + sf.Name() + "."})
			}
		}
	}
	return b.dominant(all, func(f jsonField) string { return f.name }, func(first, f jsonField) {
		if report {
			b.errorf(f.pos, "%s has two fields with JSON name %q: %s and %s", owner, f.name, first.display, f.display)
		}
	})
}

// dominant keeps, for each key, the shallowest field, and calls conflict
// for each other field at the same depth (encoding/json would silently
// drop both). The result is in field order.
func (b *builder) dominant(fields []jsonField, key func(jsonField) string, conflict func(first, f jsonField)) []jsonField {
	sorted := slices.Clone(fields)
	slices.SortStableFunc(sorted, func(x, y jsonField) int {
		return cmp.Or(cmp.Compare(key(x), key(y)), cmp.Compare(len(x.index), len(y.index)), slices.Compare(x.index, y.index))
	})
	var out []jsonField
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && key(sorted[j]) == key(sorted[i]) {
			j++
		}
		group := sorted[i:j]
		out = append(out, group[0])
		for _, f := range group[1:] {
			if len(f.index) == len(group[0].index) {
				conflict(group[0], f)
			}
		}
		i = j
	}
	slices.SortFunc(out, func(x, y jsonField) int { return slices.Compare(x.index, y.index) })
	return out
}

// posIn returns pos when it lies in one of the package's files, else fallback.
func (b *builder) posIn(pos, fallback token.Pos) token.Pos {
	if pos.IsValid() {
		if f := b.fset.File(pos); f != nil && b.files[f] {
			return pos
		}
	}
	return fallback
}

// hasOption reports whether a comma-separated tag option list holds opt.
func hasOption(opts, opt string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// validJSONName reports whether encoding/json accepts name as a tag name
// (it falls back to the Go name otherwise).
func validJSONName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// isStruct reports whether t's underlying type is a struct.
func isStruct(t types.Type) bool {
	_, ok := t.Underlying().(*types.Struct)
	return ok
}

// isNamed reports whether t is a defined type (or an alias of one).
func isNamed(t types.Type) bool {
	_, ok := types.Unalias(t).(*types.Named)
	return ok
}
