package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// Import paths of the lake queries.
const (
	queryPath = "github.com/dotdo/events/runtime/query"
	timePath  = "time"
)

// query refers to a name of the lake query runtime, runtime/query.
func (r *renderer) query(name string) *jen.Statement {
	r.imports[queryPath] = "query"
	return jen.Qual(queryPath, name)
}

// timeType is time.Time.
func (r *renderer) timeType() *jen.Statement {
	r.imports[timePath] = "time"
	return jen.Qual(timePath, "Time")
}

// lake renders <T>Lake: the collection's DuckDB queries over the lakehouse.
func (r *renderer) lake(f *jen.File, c *collection) {
	lt := c.lakeType()
	cols := make([]string, len(c.lake))
	for i, col := range c.lake {
		cols[i] = col.sql
	}
	doc(f,
		fmt.Sprintf("%s is the typed columns of %s documents in the queries of %s:", c.lakeColumnsConst(), c.typeName, lt),
	)
	for _, col := range c.lake {
		f.Comment(fmt.Sprintf("\t%s %s", col.name, col.typ))
	}
	f.Const().Id(c.lakeColumnsConst()).Op("=").Op("`" + strings.Join(cols, ",\n\t") + "`")
	f.Line()

	doc(f,
		fmt.Sprintf("%s queries the changes of the %q collection in the lakehouse with", lt, c.name),
		"DuckDB, through package query. Its columns are _op, _ts, _bookmark, _doc_id,",
		fmt.Sprintf("_store, _doc and _prev, then one typed column per field of %s.", c.typeName),
	)
	f.Type().Id(lt).Struct(
		jen.Comment("Lake is where the lake is, and whose events to read.").Line().
			Id("Lake").Add(r.query("Lake")),
	)
	f.Line()

	recv := func() *jen.Statement { return jen.Params(jen.Id("l").Id(lt)) }
	T := jen.Id(c.typeName)
	ctx := jen.Id("ctx").Add(r.ctx())
	db := jen.Id("db").Add(r.query("Querier"))
	lakeArgs := func(more ...jen.Code) []jen.Code {
		return append([]jen.Code{jen.Id("l").Dot("Lake"), jen.Lit(c.name), jen.Id(c.lakeColumnsConst())}, more...)
	}
	type lakeQuery struct {
		name    string
		builder string
		sqlDoc  []string
		runDoc  string
		params  []jen.Code
		args    []jen.Code
		state   bool
	}
	queries := []lakeQuery{
		{name: "History", builder: "CollectionHistory",
			sqlDoc: []string{"HistorySQL returns the DuckDB SQL of every change of the document docID,", "oldest first."},
			runDoc: "History runs HistorySQL on db, a DuckDB database; an empty lake gives no changes.",
			params: []jen.Code{jen.Id("docID").String()}, args: []jen.Code{jen.Id("docID")}},
		{name: "StateAt", builder: "CollectionStateAt", state: true,
			sqlDoc: []string{"StateAtSQL returns the DuckDB SQL of the collection as it was at the time at:", "each document's latest change at or before it, deleted documents left out."},
			runDoc: "StateAt runs StateAtSQL on db, a DuckDB database: the documents with their ids.",
			params: []jen.Code{jen.Id("at").Add(r.timeType())}, args: []jen.Code{jen.Id("at")}},
		{name: "StateAtBookmark", builder: "CollectionStateAtBookmark", state: true,
			sqlDoc: []string{"StateAtBookmarkSQL returns the DuckDB SQL of the collection as it was at the", "bookmark b of the store l.Lake.DOID (required), deleted documents left out."},
			runDoc: "StateAtBookmark runs StateAtBookmarkSQL on db, a DuckDB database.",
			params: []jen.Code{jen.Id("b").Add(r.cdc("Bookmark"))}, args: []jen.Code{jen.Id("b")}},
		{name: "Changes", builder: "CollectionChanges",
			sqlDoc: []string{"ChangesSQL returns the DuckDB SQL of the changes with start <= ts < end,", "oldest first."},
			runDoc: "Changes runs ChangesSQL on db, a DuckDB database; an empty lake gives no changes.",
			params: []jen.Code{jen.List(jen.Id("start"), jen.Id("end")).Add(r.timeType())}, args: []jen.Code{jen.Id("start"), jen.Id("end")}},
	}
	for _, q := range queries {
		doc(f, q.sqlDoc...)
		f.Func().Add(recv()).Id(q.name+"SQL").Params(q.params...).Params(jen.String(), jen.Error()).Block(
			jen.Return(r.query(q.builder).Call(lakeArgs(q.args...)...)),
		)
		f.Line()
		doc(f, q.runDoc)
		run := []jen.Code{jen.Id("ctx"), jen.Id("db")}
		var result jen.Code
		if q.state {
			result = jen.Index().Add(r.cdc("Entry").Types(T))
			run = append(run, jen.Id("stmt"), jen.Err())
		} else {
			result = jen.Index().Id(c.changeType())
			run = append(run, jen.Lit(c.name), jen.Id("stmt"), jen.Err())
		}
		runner := "QueryChanges"
		if q.state {
			runner = "QueryState"
		}
		f.Func().Add(recv()).Id(q.name).Params(append([]jen.Code{ctx, db}, q.params...)...).Params(result, jen.Error()).Block(
			// Not "query": that would shadow the package.
			jen.List(jen.Id("stmt"), jen.Err()).Op(":=").Id("l").Dot(q.name+"SQL").Call(q.args...),
			jen.Return(r.query(runner).Types(T).Call(run...)),
		)
		f.Line()
	}
}
