// Package query builds DuckDB SQL over the event lakehouse that
// runtime/lake writes: events/{yyyy}/{mm}/{dd}/{hh}/{id}_{ms}_{seq}.jsonl,
// one JSON event per line.
//
// The four builders port the upstream library's: Build (events matching
// filters), History (every change of one document), Latency (rpc.call
// percentiles per class and method) and PITRRange (a store's changes between
// two bookmarks). Each returns the SQL as a string; running it is the
// caller's business, so the package does not depend on DuckDB. Source
// returns the FROM item all four use, for queries of one's own.
//
// # Collection queries
//
// Collection[T, S] is the typed queries over one collection's change
// events, built on Source: History (one document's changes), StateAt and
// StateAtBookmark (the collection as of a time or a bookmark, deletes
// honoured) and Changes (the changes of a time range), each also as SQL
// (HistorySQL, ...), with S's typed columns after the meta columns _op,
// _ts, _bookmark, _doc_id, _store, _doc and _prev. They run on a Querier
// (a *sql.DB of a DuckDB driver the caller opens) and decode the rows into
// changelog.Change and changelog.Entry values, treating a lake without
// objects as empty. eventsgen names one per annotated type (<T>Lake).
//
// # Where the lake is
//
// Bucket names an R2 bucket (the lake is r2://{Bucket}); Root names any other
// location: s3://bucket[/prefix], r2://bucket/prefix, gs://bucket[/prefix] or
// a local folder. Remote roots need DuckDB's httpfs extension and a secret;
// local folders need nothing.
//
// # Safety
//
// Every string option becomes a single-quoted literal with its quotes
// doubled (DuckDB literals have no other escape), after checks: at most 1000
// characters of valid UTF-8, no NUL or other control character. OrderBy is a
// column of OrderColumns with an optional ASC or DESC, Limit is not negative,
// Bucket follows the S3 naming rules, Root may not hold glob characters, '\'
// or an unknown scheme, and extra Columns have a checked name and a type of
// a closed grammar. A Collection's typed columns are SQL inserted as is:
// they come from the generator, never from users. A bad option is an
// *OptionError naming it that matches ErrInvalidOption, never a changed
// query.
//
// # Time
//
// A DateRange keeps the events with Start <= ts <= End. The bounds are
// converted to UTC in Go and written as TIMESTAMPTZ literals with an explicit
// "+00" offset, and "ts" is read as TIMESTAMPTZ (honouring any offset in the
// data) and returned as a UTC TIMESTAMP, so neither the zone of the
// time.Time values, nor the process's TZ, nor the DuckDB session's TimeZone
// changes a result.
//
// # Which files are read
//
// A query reads a glob of the narrowest folder that holds the whole range:
// the hour, day, month or year both ends share (the whole lake without a
// range, or for a range across a new year). When the range is narrower than
// that folder, a filter on the file path keeps only the files of the covered
// hours, and with a DOID only that store's files ({SanitizeID(DOID)}_*);
// DuckDB applies such filters to the file list before opening any file
// (it does so only for its default "filename" column, which is why that
// name is used), so a two-day range reads two days of files wherever it
// falls. Then "ts" is filtered in SQL. BENCHMARKS.md has the figures.
//
// The queries read the JSON Lines objects of hour folders and the Parquet
// objects lake.Compact writes in hour and day folders (package
// internal/lakeparquet), and count each event once: by its id, and an event
// without one (upstream's) by the object and line it was first stored at.
// Their own filters are applied before that de-duplication, so DuckDB
// pushes them into the scans.
//
// DuckDB cannot read a glob that matches no file, so the lake keeps empty
// placeholder objects under _empty/ (this module's writers and lake.Compact
// store them) and every glob also matches them: a range without objects is
// an empty result. A lake only another writer made (upstream's) has no
// placeholders: lake.EnsurePlaceholders once makes it queryable; until then
// a query fails with "No files found that match the pattern", which
// IsNoFiles recognises.
//
// # Schema
//
// The files are read with a pinned schema (read_json's columns, see
// EventColumns): a field that no file has is NULL rather than a Binder
// error, ids and bookmarks stay VARCHAR even when they look like dates, and
// a value of the wrong type (a custom event's "code": "x") is NULL
// (ignore_errors) instead of failing the query. With the schema pinned,
// union_by_name (which the queries still set, as upstream advises for
// multi-file reads) no longer decides which columns exist; measured, it
// costs nothing in these queries' shapes.
package query
