package gen

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"github.com/dave/jennifer/jen"
)

// cdcPath is the import path of the runtime the generated code binds to.
const cdcPath = "github.com/dotdo/events/runtime/cdc"

// renderer renders one package's generated file.
type renderer struct {
	m       *pkgModel
	imports map[string]string // import path → package name
}

// render renders the generated file of m, gofmt'd.
func render(m *pkgModel) ([]byte, error) {
	r := &renderer{m: m, imports: map[string]string{}}
	f := jen.NewFilePathName(m.path, m.name)
	f.HeaderComment(header(m.sources)[len("// "):])
	for _, c := range m.collections {
		r.collection(f, c)
		r.where(f, c)
		r.lake(f, c)
	}
	r.nameImports(f)
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, fmt.Errorf("gen: render %s: %w", m.path, err)
	}
	return groupImports(buf.Bytes()), nil
}

// nameImports gives every import its package name, unless the package
// declares that name itself: then the import gets an alias.
func (r *renderer) nameImports(f *jen.File) {
	paths := make([]string, 0, len(r.imports))
	for p := range r.imports {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		name := r.imports[p]
		if r.m.scope.Lookup(name) == nil {
			f.ImportName(p, name)
			continue
		}
		alias := name + "pkg"
		for i := 2; r.m.scope.Lookup(alias) != nil; i++ {
			alias = name + "pkg" + strconv.Itoa(i)
		}
		f.ImportAlias(p, alias)
	}
}

// cdc refers to a name of the runtime package.
func (r *renderer) cdc(name string) *jen.Statement {
	r.imports[cdcPath] = "cdc"
	return jen.Qual(cdcPath, name)
}

// doc writes comment lines before a declaration.
func doc(f *jen.File, lines ...string) {
	for _, l := range lines {
		f.Comment(l)
	}
}

// collection renders <T>Collection, its constructor and With, and
// <T>Change. <T>Collection embeds the generic collection, so every other
// method is cdc.Collection[T]'s own; With is the one that must return the
// typed wrapper.
func (r *renderer) collection(f *jen.File, c *collection) {
	T := jen.Id(c.typeName)
	ct := c.collectionType()

	doc(f,
		fmt.Sprintf("%s is the %q collection of %s documents:", ct, c.name, c.typeName),
		fmt.Sprintf("the methods of cdc.Collection[%s], With returning a *%s.", c.typeName, ct),
	)
	f.Type().Id(ct).Struct(jen.Op("*").Add(r.cdc("Collection").Types(T)))
	f.Line()

	store := "store"
	if c.typeName == store {
		store = "s"
	}
	opts := []jen.Code{jen.Id(store), jen.Lit(c.name)}
	if len(c.indexes) > 0 {
		idx := make([]jen.Code, len(c.indexes))
		for i, path := range c.indexes {
			s := jen.Id(c.whereVar())
			for _, p := range path {
				s.Dot(p)
			}
			idx[i] = s
		}
		opts = append(opts, r.cdc("WithIndex").Call(idx...))
	}
	doc(f,
		fmt.Sprintf("%s returns the %q collection of %s,", c.constructor(), c.name, store),
		"creating it and its indexes on first use. Do not call it inside store.Update.",
	)
	f.Func().Id(c.constructor()).Params(jen.Id(store).Op("*").Add(r.cdc("Store"))).
		Params(jen.Op("*").Id(ct), jen.Error()).Block(
		jen.List(jen.Id("c"), jen.Err()).Op(":=").Add(r.cdc("NewCollection")).Types(T).Call(opts...),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Op("&").Id(ct).Values(jen.Id("c")), jen.Nil()),
	)
	f.Line()

	doc(f,
		"With returns the collection bound to tx, inside store.Update: its reads see",
		"the transaction's writes, and its writes commit or roll back with it.",
	)
	f.Func().Params(jen.Id("c").Op("*").Id(ct)).Id("With").Params(jen.Id("tx").Op("*").Add(r.cdc("Tx"))).Op("*").Id(ct).
		Block(jen.Return(jen.Op("&").Id(ct).Values(jen.Id("c").Dot("Collection").Dot("With").Call(jen.Id("tx")))))
	f.Line()

	doc(f, fmt.Sprintf("%s is a change of a %s document, as Changes returns it.", c.changeType(), c.typeName))
	f.Type().Id(c.changeType()).Op("=").Add(r.cdc("Change").Types(T))
	f.Line()
}
