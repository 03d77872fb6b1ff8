package query

import (
	"errors"
	"time"

	"github.com/dotdo/events/runtime/changelog"
)

// Lake says where the lake is and whose events the collection queries
// (CollectionHistory, CollectionStateAt, CollectionStateAtBookmark,
// CollectionChanges) read. eventsgen's <T>Lake types hold one.
type Lake struct {
	// Bucket is the R2 bucket: the lake is at "r2://{Bucket}". Set Bucket or
	// Root.
	Bucket string
	// Root is the lake's location when it is not r2://{Bucket} (see
	// SourceOptions.Root).
	Root string
	// DOID, when set, reads only the events of this store, from its own
	// objects (see SourceOptions.DOID). Bookmarks compare only within one
	// store, so CollectionStateAtBookmark requires it.
	DOID string
}

// collectionMeta are the first columns of every collection query; the
// typed columns of the caller follow. Query* scan them by position.
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
		"\nFROM " + src.sql() + " AS e" + w.sql() + ")\n", nil
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

// CollectionHistory returns the SQL of every change of the document docID
// of collection, oldest first (by time, then bookmark). columns is SQL
// added to the select list as is: the collection's typed columns as
// eventsgen generates them (expressions over "doc"), never user input.
// Every folder of the lake is read (only l.DOID's objects when set).
//
// The columns are _op (insert, update or delete), _ts (the event time, a
// UTC TIMESTAMP), _bookmark, _doc_id, _store (the writing store's id),
// _doc and _prev (the documents after and before the change, JSON text or
// NULL), then columns. Errors match ErrInvalidOption and name the
// parameter ("collection", "docID", "Lake.Root", ...).
func CollectionHistory(l Lake, collection, columns, docID string) (string, error) {
	if err := changelog.ValidateID(docID); err != nil {
		return "", refused("docID", err)
	}
	with, err := collectionChanges(l, collection, nil, `"docId" = `+literal(docID))
	if err != nil {
		return "", err
	}
	return with + "SELECT " + selectList(columns) + ` FROM "changes" ` + changesOrder, nil
}

// CollectionStateAt returns the SQL of the state of collection as of at:
// per store and document, its latest change at or before at, unless that
// is a delete. Rows are sorted by store and document id, with the columns
// of CollectionHistory. Only the hour folders up to at's are read.
func CollectionStateAt(l Lake, collection, columns string, at time.Time) (string, error) {
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

// CollectionStateAtBookmark returns the SQL of the state of collection in
// the store l.DOID (required) as of bookmark b: per document, its latest
// change with a bookmark at or before b, unless that is a delete. Rows are
// sorted by document id, with the columns of CollectionHistory.
func CollectionStateAtBookmark(l Lake, collection, columns string, b changelog.Bookmark) (string, error) {
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

// CollectionChanges returns the SQL of the changes of collection with
// start <= ts < end, oldest first (by time, then bookmark), with the
// columns of CollectionHistory. Only the hour folders of the range are read.
func CollectionChanges(l Lake, collection, columns string, start, end time.Time) (string, error) {
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
