package query

// Options are the options of Build. Bucket or Root says where the lake is;
// every other field is an optional filter (the zero value does not filter).
// String values are at most 1000 characters without NUL or other control
// characters; each becomes a quoted literal.
type Options struct {
	// Bucket is the R2 bucket: the lake is at "r2://{Bucket}". It follows
	// the S3 bucket naming rules.
	Bucket string
	// Root is the lake's location when it is not r2://{Bucket}:
	// "s3://bucket[/prefix]", "r2://bucket/prefix", "gs://bucket[/prefix]"
	// or a local folder path. Set Bucket or Root, not both.
	Root string
	// DateRange keeps the events with Start <= ts <= End (UTC instants) and
	// reads only the hour folders the range covers.
	DateRange *DateRange
	// DOID keeps the events of one store ("do".id), read from the objects
	// that store wrote (see SourceOptions.DOID).
	DOID string
	// DOClass keeps the events of one class of store ("do".class).
	DOClass string
	// Colo keeps the events of one colo ("do".colo).
	Colo string
	// EventTypes keeps the events of these types.
	EventTypes []string
	// Collection keeps the CDC events of one collection.
	Collection string
	// DocID keeps the CDC events of one document id.
	DocID string
	// Method keeps the rpc.call events of one method.
	Method string
	// Limit, when positive, is the most rows returned.
	Limit int
	// OrderBy is "<column>" or "<column> ASC|DESC" with a column of
	// OrderColumns; the default is "ts DESC". Ties are broken by ts, store
	// id, bookmark and event id, so the order (and Limit) is deterministic.
	OrderBy string
	// Columns are custom event fields to return besides EventColumns, or
	// event fields read with another type (see SourceOptions.Columns).
	Columns []Column
}

// HistoryOptions are the options of History.
type HistoryOptions struct {
	// Bucket is the R2 bucket (see Options.Bucket).
	Bucket string
	// Root is the lake's location when it is not r2://{Bucket}.
	Root string
	// DateRange, when set, keeps the changes with Start <= ts <= End.
	DateRange *DateRange
	// DOID, when set, keeps the changes of one store: a document id is
	// unique only within its store.
	DOID string
	// Collection is the document's collection (required).
	Collection string
	// DocID is the document's id (required).
	DocID string
}

// LatencyOptions are the options of Latency.
type LatencyOptions struct {
	// Bucket is the R2 bucket (see Options.Bucket).
	Bucket string
	// Root is the lake's location when it is not r2://{Bucket}.
	Root string
	// DateRange, when set, keeps the calls with Start <= ts <= End.
	DateRange *DateRange
	// DOID, when set, keeps the calls of one store.
	DOID string
	// DOClass, when set, keeps the calls of one class of store.
	DOClass string
	// Colo, when set, keeps the calls of one colo.
	Colo string
	// Method, when set, keeps the calls of one method.
	Method string
}

// PITROptions are the options of PITRRange.
type PITROptions struct {
	// Bucket is the R2 bucket (see Options.Bucket).
	Bucket string
	// Root is the lake's location when it is not r2://{Bucket}.
	Root string
	// DOID is the store whose changes are read (required): bookmarks are
	// ordered only within one store.
	DOID string
	// StartBookmark excludes it and every earlier change; empty means from
	// the store's first change.
	StartBookmark string
	// EndBookmark is the last change included (required).
	EndBookmark string
	// Collection, when set, keeps the changes of one collection.
	Collection string
	// DateRange, when set, also keeps only the changes with
	// Start <= ts <= End, so fewer folders are read.
	DateRange *DateRange
}
