package query

import (
	"errors"
	"time"

	"github.com/dotdo/events/runtime/changelog"
)

// Lake says where the lake is and whose events a Collection's queries read.
type Lake struct {
	// Bucket is the R2 bucket: the lake is at "r2://{Bucket}". Set Bucket or
	// Root.
	Bucket string
	// Root is the lake's location when it is not r2://{Bucket} (see
	// SourceOptions.Root).
	Root string
	// DOID, when set, reads only the events of this store, from its own
	// objects (see SourceOptions.DOID). Bookmarks compare only within one
	// store, so Collection.StateAtBookmark requires it.
	DOID string
}

// Collection is the typed DuckDB queries over the change events of one
// collection of T documents in the lake: the history of a document, the
// collection as of a time or a bookmark, and the changes of a time range.
// S names the collection and its typed columns; eventsgen generates one per
// annotated type and names the result, e.g.
// type UserLake = query.Collection[User, userLake].
//
// Every query's columns are _op (insert, update or delete), _ts (the event
// time, a UTC TIMESTAMP), _bookmark, _doc_id, _store (the writing store's
// id), _doc and _prev (the documents after and before the change, JSON
// text or NULL), then S's typed columns. The ...SQL methods return the SQL;
// the others run it on db and decode the rows, a lake without objects in
// the folders read giving an empty result. A bad argument is an
// *OptionError naming it ("docID", "Lake.Root", ...).
type Collection[T any, S interface {
	// Collection is the collection's name.
	Collection() string
	// Columns is SQL added to the select list as is: expressions over
	// "doc" that the generator writes, never user input.
	Columns() string
}] struct {
	// Lake is where the lake is, and whose events to read.
	Lake Lake
}

// schema returns S's collection name and typed columns.
func (c Collection[T, S]) schema() (name, columns string) {
	var s S
	return s.Collection(), s.Columns()
}

// HistorySQL returns the SQL of every change of the document docID, oldest
// first (by time, then bookmark). Every folder of the lake is read (only
// Lake.DOID's objects when set).
func (c Collection[T, S]) HistorySQL(docID string) (string, error) {
	name, columns := c.schema()
	return historySQL(c.Lake, name, columns, docID)
}

// StateAtSQL returns the SQL of the collection as it was at the time at:
// per store and document, its latest change at or before at, deleted
// documents left out, sorted by store and document id. Only the hour
// folders up to at's are read.
func (c Collection[T, S]) StateAtSQL(at time.Time) (string, error) {
	name, columns := c.schema()
	return stateAtSQL(c.Lake, name, columns, at)
}

// StateAtBookmarkSQL returns the SQL of the collection in the store
// Lake.DOID (required: bookmarks compare only within one store) as it was
// at the bookmark b, deleted documents left out, sorted by document id.
func (c Collection[T, S]) StateAtBookmarkSQL(b changelog.Bookmark) (string, error) {
	name, columns := c.schema()
	return stateAtBookmarkSQL(c.Lake, name, columns, b)
}

// ChangesSQL returns the SQL of the changes with start <= ts < end, oldest
// first (by time, then bookmark). Only the hour folders of the range are
// read.
func (c Collection[T, S]) ChangesSQL(start, end time.Time) (string, error) {
	name, columns := c.schema()
	return changesSQL(c.Lake, name, columns, start, end)
}

// collectionMeta are the first columns of every collection query; the
// typed columns of the caller follow. scanChanges reads them by position.
const collectionMeta = `replace(type, 'collection.', '') AS "_op", ts AS "_ts", bookmark AS "_bookmark", ` +
	`"docId" AS "_doc_id", "store" AS "_store", CAST(doc AS VARCHAR) AS "_doc", CAST(prev AS VARCHAR) AS "_prev"`

// collectionChanges returns the WITH clause of a query over collection's
// change events in l, read through Source with dr (nil: every folder) and
// further kept by conds, conditions over the Source's columns.
func collectionChanges(l Lake, collection string, dr *DateRange, conds ...string) (string, error) {
	if err := changelog.ValidateCollection(collection); err != nil {
		return "", refused("collection", err)
	}
	src, err := newSource(l.Bucket, l.Root, dr, l.DOID, "", nil)
	if err != nil {
		return "", inLake(err)
	}
	var w where
	w.add("type IN " + cdcTypeList())
	w.add("collection = " + literal(collection))
	for _, c := range conds {
		w.add(c)
	}
	return `WITH "changes" AS (SELECT type, ts, "do".id AS "store", "docId", doc, prev, bookmark` +
		"\nFROM " + src.sqlWhere(w.conds) + " AS e" + ")\n", nil
}

// inLake renames the option a Source error names (Root, Bucket, DOID) to
// the Lake field the caller set.
func inLake(err error) error {
	var oe *OptionError
	if !errors.As(err, &oe) {
		return err
	}
	renamed := *oe
	renamed.Option = "Lake." + oe.Option
	return &renamed
}

// selectList is the meta columns, then the caller's typed columns.
func selectList(columns string) string {
	if columns == "" {
		return collectionMeta
	}
	return collectionMeta + ", " + columns
}

// changesOrder sorts changes oldest first; bookmarks order the changes of
// one store within a millisecond, the store id makes ties across stores
// deterministic.
const changesOrder = `ORDER BY "_ts", "_bookmark", "_store"`

// historySQL returns the SQL of every change of the document docID of
// collection, oldest first (by time, then bookmark), with columns (SQL
// from the generator, never user input) after the meta columns. Every
// folder of the lake is read (only l.DOID's objects when set).
func historySQL(l Lake, collection, columns, docID string) (string, error) {
	if err := changelog.ValidateID(docID); err != nil {
		return "", refused("docID", err)
	}
	with, err := collectionChanges(l, collection, nil, `"docId" = `+literal(docID))
	if err != nil {
		return "", err
	}
	return with + "SELECT " + selectList(columns) + ` FROM "changes" ` + changesOrder, nil
}

// stateAtSQL returns the SQL of the state of collection as of at: per
// store and document, its latest change at or before at, unless that is a
// delete. Rows are sorted by store and document id. Only the hour folders
// up to at's are read.
func stateAtSQL(l Lake, collection, columns string, at time.Time) (string, error) {
	ts, err := utcTimestamp("at", at, false)
	if err != nil {
		return "", err
	}
	with, err := collectionChanges(l, collection, sinceEpoch(lakeEpoch, at), "ts <= "+ts)
	if err != nil {
		return "", err
	}
	return with + latest(columns), nil
}

// stateAtBookmarkSQL returns the SQL of the state of collection in the
// store l.DOID (required) as of bookmark b: per document, its latest change
// with a bookmark at or before b, unless that is a delete. Rows are sorted
// by document id.
func stateAtBookmarkSQL(l Lake, collection, columns string, b changelog.Bookmark) (string, error) {
	if l.DOID == "" {
		return "", invalid("Lake.DOID", "is required: bookmarks compare only within one store")
	}
	if b == "" {
		return "", invalid("bookmark", "is empty: the state before the first change has no documents")
	}
	if _, err := changelog.ParseBookmark(string(b)); err != nil {
		return "", refused("bookmark", err)
	}
	with, err := collectionChanges(l, collection, nil, "bookmark <= "+literal(string(b)))
	if err != nil {
		return "", err
	}
	return with + latest(columns), nil
}

// latest selects each document's latest change of "changes", deletes left
// out. Bookmarks order a store's changes; ts only breaks ties of events
// without one.
func latest(columns string) string {
	return "SELECT " + selectList(columns) + ` FROM (SELECT *, row_number() OVER (PARTITION BY "store", "docId"` +
		` ORDER BY bookmark DESC NULLS LAST, ts DESC) AS "rank" FROM "changes")` +
		` WHERE "rank" = 1 AND type <> 'collection.delete' ORDER BY "_store", "_doc_id"`
}

// changesSQL returns the SQL of the changes of collection with start <= ts
// < end, oldest first (by time, then bookmark). Only the hour folders of
// the range are read.
func changesSQL(l Lake, collection, columns string, start, end time.Time) (string, error) {
	from, err := utcTimestamp("start", start, true)
	if err != nil {
		return "", err
	}
	to, err := utcTimestamp("end", end, true)
	if err != nil {
		return "", err
	}
	if end.Before(start) {
		return "", invalid("end", "%s is before start %s", end.UTC().Format(time.RFC3339Nano), start.UTC().Format(time.RFC3339Nano))
	}
	with, err := collectionChanges(l, collection, sinceEpoch(start, end), "ts >= "+from, "ts < "+to)
	if err != nil {
		return "", err
	}
	return with + "SELECT " + selectList(columns) + ` FROM "changes" ` + changesOrder, nil
}
