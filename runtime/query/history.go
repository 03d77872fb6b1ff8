package query

// History returns a DuckDB query for every change of one document (the
// collection.insert, collection.update and collection.delete events of
// opts.Collection and opts.DocID, optionally of one store and date range),
// oldest first: ordered by ts, then bookmark (then store id and event id).
// The rows have the columns of change events: type, ts (UTC TIMESTAMP), do,
// id, collection, docId, doc, prev (JSON, as the runtime wrote them) and
// bookmark.
//
// Errors match ErrInvalidOption and name the option.
func History(opts HistoryOptions) (string, error) {
	if err := required("Collection", opts.Collection); err != nil {
		return "", err
	}
	if err := required("DocID", opts.DocID); err != nil {
		return "", err
	}
	src, err := newSource(opts.Bucket, opts.Root, opts.DateRange, opts.DOID, "", nil)
	if err != nil {
		return "", err
	}
	var w where
	w.add("type IN " + cdcTypeList())
	w.eq("Collection", "collection", opts.Collection)
	w.eq("DocID", `"docId"`, opts.DocID)
	return "SELECT " + cdcColumns + "\nFROM " + src.sqlWhere(w.conds) + " AS e" +
		"\nORDER BY ts, bookmark, \"do\".id, id", nil
}
