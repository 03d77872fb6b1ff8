package lakesql

import (
	"fmt"
	"strings"
	"time"

	"github.com/dotdo/events/runtime/cdc"
)

// The event types of collection changes.
const changeTypes = `'collection.insert', 'collection.update', 'collection.delete'`

// eventColumns pins the schema of the events read: only these members are
// read, typed, whatever else the objects hold.
const eventColumns = `{'type': 'VARCHAR', 'ts': 'TIMESTAMP', 'do': 'JSON', 'collection': 'VARCHAR', ` +
	`'docId': 'VARCHAR', 'doc': 'JSON', 'prev': 'JSON', 'bookmark': 'VARCHAR'}`

// metaColumns are the first columns of every query, over the changes CTE.
const metaColumns = `replace("type", 'collection.', '') AS "_op", "ts" AS "_ts", "bookmark" AS "_bookmark", ` +
	`"docId" AS "_doc_id", "store" AS "_store", CAST("doc" AS VARCHAR) AS "_doc", CAST("prev" AS VARCHAR) AS "_prev"`

// changes returns the WITH clause of a query over collection's changes.
func changes(lake Lake, collection string) (string, error) {
	base, err := lake.base()
	if err != nil {
		return "", err
	}
	if err := cdc.ValidateCollection(collection); err != nil {
		return "", invalid("collection", "%v", err)
	}
	if reason := valueProblem(lake.DOID); reason != "" {
		return "", invalid("Lake.DOID", "%s", reason)
	}
	var b strings.Builder
	b.WriteString(`WITH "changes" AS (SELECT "type", "ts", json_extract_string("do", '$.id') AS "store", "docId", "doc", "prev", "bookmark"`)
	b.WriteString(` FROM read_json(` + literal(base+"/events/*/*/*/*/*.jsonl"))
	b.WriteString(`, format = 'newline_delimited', columns = ` + eventColumns + `)`)
	b.WriteString(` WHERE "collection" = ` + literal(collection) + ` AND "type" IN (` + changeTypes + `)`)
	if lake.DOID != "" {
		b.WriteString(` AND json_extract_string("do", '$.id') = ` + literal(lake.DOID))
	}
	b.WriteString(`)`)
	return b.String(), nil
}

// selectList is the meta columns and the collection's typed columns.
func selectList(columns string) string {
	if columns == "" {
		return metaColumns
	}
	return metaColumns + ", " + columns
}

// History returns the SQL of every change of the document docID of
// collection, oldest first (by time, then bookmark). columns is the
// collection's typed column list, as eventsgen generates it.
func History(lake Lake, collection, columns, docID string) (string, error) {
	with, err := changes(lake, collection)
	if err != nil {
		return "", err
	}
	if err := cdc.ValidateID(docID); err != nil {
		return "", invalid("docID", "%v", err)
	}
	return with + ` SELECT ` + selectList(columns) + ` FROM "changes" WHERE "docId" = ` + literal(docID) +
		` ORDER BY "_ts", "_bookmark"`, nil
}

// StateAt returns the SQL of the state of collection as of at: per store
// and document, its latest change at or before at, unless that is a delete.
// Rows are sorted by store and document id.
func StateAt(lake Lake, collection, columns string, at time.Time) (string, error) {
	with, err := changes(lake, collection)
	if err != nil {
		return "", err
	}
	ts, err := timestamp("at", at)
	if err != nil {
		return "", err
	}
	return with + state(columns, `"ts" <= `+ts), nil
}

// StateAtBookmark returns the SQL of the state of collection in the store
// lake.DOID (required) as of bookmark: per document, its latest change with
// a bookmark at or before it, unless that is a delete.
func StateAtBookmark(lake Lake, collection, columns string, bookmark cdc.Bookmark) (string, error) {
	if lake.DOID == "" {
		return "", invalid("Lake.DOID", "is required: bookmarks compare only within one store")
	}
	with, err := changes(lake, collection)
	if err != nil {
		return "", err
	}
	if _, err := cdc.ParseBookmark(string(bookmark)); err != nil || bookmark == "" {
		return "", invalid("bookmark", "%q is not a bookmark (20 digits)", string(bookmark))
	}
	return with + state(columns, `"bookmark" <= `+literal(string(bookmark))), nil
}

// state is the query of the latest change per document among those cond
// selects, deletes left out.
func state(columns, cond string) string {
	return ` SELECT ` + selectList(columns) + ` FROM (SELECT *, row_number() OVER (PARTITION BY "store", "docId"` +
		` ORDER BY "bookmark" DESC NULLS LAST, "ts" DESC) AS "rank" FROM "changes" WHERE ` + cond + `)` +
		` WHERE "rank" = 1 AND "type" <> 'collection.delete' ORDER BY "_store", "_doc_id"`
}

// Changes returns the SQL of the changes of collection with start <= ts <
// end, oldest first (by time, then bookmark).
func Changes(lake Lake, collection, columns string, start, end time.Time) (string, error) {
	with, err := changes(lake, collection)
	if err != nil {
		return "", err
	}
	from, err := timestamp("start", start)
	if err != nil {
		return "", err
	}
	to, err := timestamp("end", end)
	if err != nil {
		return "", err
	}
	if end.Before(start) {
		return "", invalid("end", "%s is before start %s", end.UTC().Format(time.RFC3339Nano), start.UTC().Format(time.RFC3339Nano))
	}
	return with + ` SELECT ` + selectList(columns) + ` FROM "changes" WHERE "ts" >= ` + from + ` AND "ts" < ` + to +
		` ORDER BY "_ts", "_bookmark"`, nil
}

// timestamp writes t as a TIMESTAMP literal in UTC (the lake's ts are UTC),
// whatever t's zone and the session's TimeZone.
func timestamp(param string, t time.Time) (string, error) {
	u := t.UTC()
	if u.Year() < 1 || u.Year() > 9999 {
		return "", invalid(param, "year %d is outside 1-9999", u.Year())
	}
	return fmt.Sprintf("TIMESTAMP '%s'", u.Format("2006-01-02 15:04:05.000000")), nil
}
