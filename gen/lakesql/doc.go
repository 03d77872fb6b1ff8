// Package lakesql is the small runtime behind the DuckDB queries eventsgen
// generates per collection (<T>Lake): it reads a collection's change
// events from the lakehouse (JSON Lines under {root}/events/yyyy/mm/dd/hh/),
// with a pinned schema, and builds the history of one document, the state
// of the collection as of a time or a bookmark, and the changes in a time
// range. The generator supplies each collection's typed columns; this
// package validates every value and writes it as a quoted SQL literal.
//
// Queries read the events with read_json and an explicit column list (type,
// ts, do, collection, docId, doc, prev, bookmark), so their schema never
// depends on which files exist or what else they hold. The glob covers
// every hour of the lake: a time range filters ts in SQL, it does not pick
// folders (the date-range folder selection of runtime/query belongs here
// once that package exports it).
//
// Every query has these columns, then one typed column per document field
// (named by its JSON name, from the document after the change):
//
//	_op        VARCHAR    insert, update or delete
//	_ts        TIMESTAMP  the event time, UTC
//	_bookmark  VARCHAR    the change's bookmark in its store
//	_doc_id    VARCHAR    the document's id
//	_store     VARCHAR    the id of the store that wrote it ("do"."id")
//	_doc       VARCHAR    the document after the change, JSON (NULL for a delete)
//	_prev      VARCHAR    the document before it, JSON (NULL for an insert)
//
// An empty lake (no events object at all) makes DuckDB fail the query, as
// any glob matching no file does; the Query functions return no rows then.
//
// The package imports no DuckDB driver: give the Query functions a *sql.DB
// opened with one (github.com/duckdb/duckdb-go/v2).
package lakesql
