package gen

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"github.com/dave/jennifer/jen"
)

// Import paths the generated code uses.
const (
	cdcPath     = "github.com/dotdo/events/runtime/cdc"
	contextPath = "context"
)

// renderer renders one package's generated file.
type renderer struct {
	m       *pkgModel
	imports map[string]string // import path → package name
}

// render renders the generated file of m, gofmt'd.
func render(m *pkgModel) ([]byte, error) {
	r := &renderer{m: m, imports: map[string]string{}}
	f := jen.NewFilePathName(m.path, m.name)
	f.HeaderComment(header[len("// "):])
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

// ctx is the context.Context parameter type.
func (r *renderer) ctx() *jen.Statement {
	r.imports[contextPath] = "context"
	return jen.Qual(contextPath, "Context")
}

// doc writes comment lines before a declaration.
func doc(f *jen.File, lines ...string) {
	for _, l := range lines {
		f.Comment(l)
	}
}

// param is a parameter of a forwarding method.
type param struct {
	name string
	typ  jen.Code
}

// method is a method of <T>Collection that forwards to the generic
// collection.
type method struct {
	name    string
	doc     []string
	params  []param
	results []jen.Code
}

// collection renders <T>Collection, its constructor and methods, and
// <T>Change.
func (r *renderer) collection(f *jen.File, c *collection) {
	T := jen.Id(c.typeName)
	generic := r.cdc("Collection").Types(T)
	ct := c.collectionType()

	doc(f,
		fmt.Sprintf("%s is the typed %q collection of %s documents.", ct, c.name, c.typeName),
		"Every write is captured in the store's change log, in the same transaction.",
	)
	f.Type().Id(ct).Struct(jen.Id("c").Op("*").Add(generic))
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
		jen.Return(jen.Op("&").Id(ct).Values(jen.Dict{jen.Id("c"): jen.Id("c")}), jen.Nil()),
	)
	f.Line()

	doc(f, "Collection returns the generic collection underneath, for what the typed API", "does not cover.")
	f.Func().Params(jen.Id("c").Op("*").Id(ct)).Id("Collection").Params().Op("*").Add(r.cdc("Collection").Types(T)).
		Block(jen.Return(jen.Id("c").Dot("c")))
	f.Line()

	doc(f,
		"With returns the collection bound to tx, inside store.Update: its reads see",
		"the transaction's writes, and its writes commit or roll back with it.",
	)
	f.Func().Params(jen.Id("c").Op("*").Id(ct)).Id("With").Params(jen.Id("tx").Op("*").Add(r.cdc("Tx"))).Op("*").Id(ct).
		Block(jen.Return(jen.Op("&").Id(ct).Values(jen.Dict{jen.Id("c"): jen.Id("c").Dot("c").Dot("With").Call(jen.Id("tx"))})))
	f.Line()

	for _, m := range r.methods(c) {
		params := []jen.Code{}
		args := []jen.Code{}
		for _, p := range m.params {
			params = append(params, jen.Id(p.name).Add(p.typ))
			args = append(args, jen.Id(p.name))
		}
		doc(f, m.doc...)
		f.Func().Params(jen.Id("c").Op("*").Id(ct)).Id(m.name).Params(params...).Params(m.results...).
			Block(jen.Return(jen.Id("c").Dot("c").Dot(m.name).Call(args...)))
		f.Line()
	}

	doc(f,
		fmt.Sprintf("%s is a change of a %s document: Op, Collection, DocID, Doc and", c.changeType(), c.typeName),
		fmt.Sprintf("Prev (*%s), Bookmark and TS.", c.typeName),
	)
	f.Type().Id(c.changeType()).Op("=").Add(r.cdc("Change").Types(T))
	f.Line()
}

// methods lists the forwarding methods of <T>Collection.
func (r *renderer) methods(c *collection) []method {
	T := func() jen.Code { return jen.Id(c.typeName) }
	ctx := param{"ctx", r.ctx()}
	id := param{"id", jen.String()}
	filter := param{"filter", r.cdc("Filter")}
	opts := param{"opts", r.cdc("FindOptions")}
	entries := func() jen.Code { return r.cdc("Entry").Types(T()) }
	return []method{
		{name: "Name", doc: []string{fmt.Sprintf("Name returns the collection's name, %q.", c.name)},
			results: []jen.Code{jen.String()}},
		{name: "Get", doc: []string{"Get returns the document stored under id; the bool is false when there is none."},
			params: []param{ctx, id}, results: []jen.Code{T(), jen.Bool(), jen.Error()}},
		{name: "Has", doc: []string{"Has reports whether a document is stored under id."},
			params: []param{ctx, id}, results: []jen.Code{jen.Bool(), jen.Error()}},
		{name: "Put", doc: []string{
			"Put stores doc under id, inserting or replacing it; the change log gets a",
			"collection.insert or a collection.update (with the previous document)."},
			params: []param{ctx, id, {"doc", T()}}, results: []jen.Code{jen.Error()}},
		{name: "Delete", doc: []string{
			"Delete removes the document under id and reports whether there was one; the",
			"change log gets a collection.delete with the removed document."},
			params: []param{ctx, id}, results: []jen.Code{jen.Bool(), jen.Error()}},
		{name: "Find", doc: []string{
			"Find returns the documents filter matches (every one for a nil filter),",
			fmt.Sprintf("sorted and limited by opts. Build filters and orders from %s.", c.whereVar())},
			params: []param{ctx, filter, opts}, results: []jen.Code{jen.Index().Add(T()), jen.Error()}},
		{name: "FindEntries", doc: []string{"FindEntries is Find returning each document with its id."},
			params: []param{ctx, filter, opts}, results: []jen.Code{jen.Index().Add(entries()), jen.Error()}},
		{name: "Count", doc: []string{"Count returns how many documents filter matches (every one for a nil filter)."},
			params: []param{ctx, filter}, results: []jen.Code{jen.Int(), jen.Error()}},
		{name: "List", doc: []string{"List returns every document, sorted and limited by opts."},
			params: []param{ctx, opts}, results: []jen.Code{jen.Index().Add(T()), jen.Error()}},
		{name: "Keys", doc: []string{"Keys returns the ids of every document, sorted."},
			params: []param{ctx}, results: []jen.Code{jen.Index().String(), jen.Error()}},
		{name: "Clear", doc: []string{
			"Clear removes every document, logging a collection.delete for each, and",
			"returns how many there were."},
			params: []param{ctx}, results: []jen.Code{jen.Int(), jen.Error()}},
		{name: "PutMany", doc: []string{
			"PutMany stores every entry in one transaction (the bound one, after With).",
			"A bad id or document fails the whole call before anything is written."},
			params: []param{ctx, {"entries", jen.Index().Add(entries())}}, results: []jen.Code{jen.Error()}},
		{name: "DeleteMany", doc: []string{
			"DeleteMany removes the documents under ids in one transaction (the bound one,",
			"after With) and returns how many there were."},
			params: []param{ctx, {"ids", jen.Index().String()}}, results: []jen.Code{jen.Int(), jen.Error()}},
		{name: "Changes", doc: []string{
			"Changes returns at most limit changes of the collection written after the",
			"bookmark after (the zero Bookmark reads from the start), oldest first."},
			params:  []param{ctx, {"after", r.cdc("Bookmark")}, {"limit", jen.Int()}},
			results: []jen.Code{jen.Index().Id(c.changeType()), jen.Error()}},
	}
}
