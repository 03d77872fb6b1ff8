package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// Import path of the lake queries.
const (
	queryPath = "github.com/dotdo/events/runtime/query"
)

// query refers to a name of the lake query runtime, runtime/query.
func (r *renderer) query(name string) *jen.Statement {
	r.imports[queryPath] = "query"
	return jen.Qual(queryPath, name)
}

// lake renders <T>Lake, an alias of query.Collection over the collection,
// and the schema type that names the collection and its typed columns.
func (r *renderer) lake(f *jen.File, c *collection) {
	lt, schema := c.lakeType(), c.lakeSchema()
	doc(f,
		fmt.Sprintf("%s queries the changes of the %q collection in the lakehouse", lt, c.name),
		fmt.Sprintf("with DuckDB (see query.Collection), a typed column per field of %s.", c.typeName),
	)
	f.Type().Id(lt).Op("=").Add(r.query("Collection")).Types(jen.Id(c.typeName), jen.Id(schema))
	f.Line()

	doc(f, fmt.Sprintf("%s is %s's collection name and typed columns:", schema, lt), "")
	for _, col := range c.lake {
		f.Comment(fmt.Sprintf("\t%s %s", col.name, col.typ))
	}
	f.Type().Id(schema).Struct()
	f.Line()

	doc(f, fmt.Sprintf("Collection returns %q.", c.name))
	f.Func().Params(jen.Id(schema)).Id("Collection").Params().String().Block(jen.Return(jen.Lit(c.name)))
	f.Line()

	cols := make([]string, len(c.lake))
	for i, col := range c.lake {
		cols[i] = col.sql
	}
	doc(f, "Columns returns the typed columns' SQL.")
	f.Func().Params(jen.Id(schema)).Id("Columns").Params().String().Block(
		jen.Return(jen.Op("`" + strings.Join(cols, ",\n\t") + "`")),
	)
	f.Line()
}
