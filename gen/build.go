package gen

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// builder turns one loaded package into a model, reporting problems.
type builder struct {
	reporter
	pkg   *packages.Package
	files map[*token.File]bool // the package's own files
}

// buildPackage builds the model of pkg, whose output file is output.
// It returns nil when the package has no annotated type.
func buildPackage(pkg *packages.Package, fset *token.FileSet, output string) (*pkgModel, []Diagnostic) {
	b := &builder{reporter: reporter{fset: fset}, pkg: pkg, files: map[*token.File]bool{}}
	for _, f := range pkg.Syntax {
		b.files[fset.File(f.Pos())] = true
	}
	var anns []annotation
	for _, f := range pkg.Syntax {
		anns = append(anns, b.annotations(f)...)
	}
	slices.SortFunc(anns, func(x, y annotation) int {
		px, py := fset.Position(x.spec.Pos()), fset.Position(y.spec.Pos())
		return cmp.Or(cmp.Compare(px.Filename, py.Filename), cmp.Compare(px.Offset, py.Offset))
	})
	m := &pkgModel{name: pkg.Name, path: pkg.PkgPath, output: output, scope: pkg.Types.Scope()}
	byName := map[string]*collection{}
	for _, a := range anns {
		c := b.collection(a)
		if c == nil {
			continue
		}
		// SQLite compares table names case-insensitively (ASCII): "users"
		// and "Users" would be one table.
		key := strings.ToLower(c.name)
		if first, ok := byName[key]; ok {
			if first.name == c.name {
				b.errorf(a.pos, "collection name %q is already used by %s (%s)", c.name, first.typeName, b.shortPos(first.pos))
			} else {
				b.errorf(a.pos, "collection name %q differs only in case from %q of %s (%s): SQLite compares names case-insensitively, so they would share one table",
					c.name, first.name, first.typeName, b.shortPos(first.pos))
			}
			continue
		}
		byName[key] = c
		m.collections = append(m.collections, c)
	}
	b.checkNames(m)
	for _, c := range m.collections {
		m.sources = append(m.sources, filepath.Base(fset.Position(c.pos).Filename))
	}
	slices.Sort(m.sources)
	m.sources = slices.Compact(m.sources)
	if len(anns) == 0 {
		return nil, b.diags
	}
	return m, b.diags
}

// collection builds the collection an annotation declares; nil when it
// cannot (reported).
func (b *builder) collection(a annotation) *collection {
	ts := a.spec
	obj, ok := b.pkg.TypesInfo.Defs[ts.Name].(*types.TypeName)
	if !ok {
		b.errorf(ts.Name.Pos(), "%s: no type information", ts.Name.Name)
		return nil
	}
	if ts.TypeParams != nil && len(ts.TypeParams.List) > 0 {
		b.errorf(ts.Name.Pos(), "%s: //events:collection does not support generic types", ts.Name.Name)
		return nil
	}
	st, ok := obj.Type().Underlying().(*types.Struct)
	if !ok {
		b.errorf(ts.Name.Pos(), "%s: //events:collection needs a struct type, not %s", ts.Name.Name, b.typeString(obj.Type().Underlying()))
		return nil
	}
	b.typeErrorsIn(ts)
	if marshals(obj.Type(), false) {
		b.errorf(ts.Name.Pos(), "%s has its own MarshalJSON or MarshalText: its JSON shape is unknown to eventsgen", ts.Name.Name)
		return nil
	}
	name := a.name
	if name == "" {
		name = defaultCollectionName(ts.Name.Name)
	}
	if err := validateCollectionName(name); err != nil {
		b.errorf(a.pos, "%s: %v", ts.Name.Name, err)
		return nil
	}
	c := &collection{typeName: ts.Name.Name, name: name, pos: ts.Name.Pos(), typ: obj.Type()}
	c.where = b.buildStruct(c.typeName, c.typeName, st, nil, ts.Name.Pos(), false, []types.Type{obj.Type()})
	c.indexes = indexPaths(c.where, nil)
	c.lake = b.lakeColumns(c, st)
	return c
}

// indexPaths lists the Go selector paths of the indexed fields under ws.
func indexPaths(ws *whereStruct, prefix []string) [][]string {
	var out [][]string
	for _, f := range ws.fields {
		path := append(slices.Clip(prefix), f.goName)
		if f.nested != nil {
			out = append(out, indexPaths(f.nested, path)...)
		} else if f.index {
			out = append(out, path)
		}
	}
	return out
}

// typeErrorsIn reports the type errors inside a type declaration: a field
// whose type does not type-check cannot be generated for.
func (b *builder) typeErrorsIn(ts *ast.TypeSpec) {
	for _, e := range b.pkg.TypeErrors {
		if e.Pos >= ts.Pos() && e.Pos < ts.End() {
			b.errorf(e.Pos, "%s", e.Msg)
		}
	}
}

// checkNames reports generated names that collide with the package's own
// declarations or with each other.
func (b *builder) checkNames(m *pkgModel) {
	taken := map[string]string{}
	for _, c := range m.collections {
		names := []string{c.collectionType(), c.constructor(), c.changeType(), c.whereVar(), c.lakeType(), c.lakeSchema()}
		names = append(names, whereTypeNames(c.where)...)
		for _, name := range names {
			if obj := m.scope.Lookup(name); obj != nil {
				b.errorf(c.pos, "generated name %s collides with %s declared at %s", name, name, b.shortPos(obj.Pos()))
				continue
			}
			if other, ok := taken[name]; ok {
				b.errorf(c.pos, "generated name %s is also generated for %s", name, other)
				continue
			}
			taken[name] = c.typeName
		}
	}
}

// whereTypeNames lists the fields struct types generated for ws.
func whereTypeNames(ws *whereStruct) []string {
	out := []string{ws.typeName}
	for _, f := range ws.fields {
		if f.nested != nil {
			out = append(out, whereTypeNames(f.nested)...)
		}
	}
	return out
}

// shortPos formats pos as file:line:col with the file's base name.
func (b *builder) shortPos(pos token.Pos) string {
	p := b.fset.Position(pos)
	return fmt.Sprintf("%s:%d:%d", filepath.Base(p.Filename), p.Line, p.Column)
}

// typeString formats t for messages, qualifying types of other packages by
// package name.
func (b *builder) typeString(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p == b.pkg.Types {
			return ""
		}
		return p.Name()
	})
}

// nameable reports whether the generated file (in the package itself) can
// spell t: no unexported type of another package, no struct literal with
// unexported fields of another package.
func (b *builder) nameable(t types.Type) bool {
	switch t := t.(type) {
	case *types.Alias:
		if !b.visible(t.Obj()) {
			return false
		}
		return b.allNameable(t.TypeArgs())
	case *types.Named:
		if !b.visible(t.Obj()) {
			return false
		}
		return b.allNameable(t.TypeArgs())
	case *types.Basic:
		return t.Kind() != types.Invalid
	case *types.Pointer:
		return b.nameable(t.Elem())
	case *types.Slice:
		return b.nameable(t.Elem())
	case *types.Array:
		return b.nameable(t.Elem())
	case *types.Map:
		return b.nameable(t.Key()) && b.nameable(t.Elem())
	case *types.Interface:
		return t.Empty()
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			f := t.Field(i)
			if !f.Exported() && f.Pkg() != b.pkg.Types {
				return false
			}
			if !b.nameable(f.Type()) {
				return false
			}
		}
		return true
	}
	return false
}

// visible reports whether a type name can be used in the package.
func (b *builder) visible(obj *types.TypeName) bool {
	if obj.Pkg() == nil || obj.Pkg() == b.pkg.Types {
		return obj.Parent() == nil || obj.Parent() == types.Universe || obj.Parent() == b.pkg.Types.Scope()
	}
	return obj.Exported()
}

func (b *builder) allNameable(list *types.TypeList) bool {
	for i := 0; i < list.Len(); i++ {
		if !b.nameable(list.At(i)) {
			return false
		}
	}
	return true
}

// goGenerateLine finds a //go:generate line that runs eventsgen, to point
// a package-level problem at.
func goGenerateLine(files []*ast.File) token.Pos {
	for _, f := range files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if strings.HasPrefix(c.Text, "//go:generate ") && strings.Contains(c.Text, "eventsgen") {
					return c.Slash
				}
			}
		}
	}
	return token.NoPos
}
