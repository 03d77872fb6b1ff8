package query

// PITRRange returns a DuckDB query for the changes of one store between two
// bookmarks, StartBookmark < bookmark <= EndBookmark, optionally of one
// collection, in bookmark order: what to replay on a snapshot taken at
// StartBookmark to reach EndBookmark. Bookmarks compare as strings (they are
// fixed width) and only within one store, hence the required DOID; only
// that store's objects are read. The rows have the columns of History.
//
// Errors match ErrInvalidOption and name the option.
func PITRRange(opts PITROptions) (string, error) {
	if err := required("DOID", opts.DOID); err != nil {
		return "", err
	}
	if err := optional("StartBookmark", opts.StartBookmark); err != nil {
		return "", err
	}
	if err := required("EndBookmark", opts.EndBookmark); err != nil {
		return "", err
	}
	if opts.StartBookmark > opts.EndBookmark {
		return "", invalid("StartBookmark", "%q is after EndBookmark %q", opts.StartBookmark, opts.EndBookmark)
	}
	src, err := newSource(opts.Bucket, opts.Root, opts.DateRange, opts.DOID, "", nil)
	if err != nil {
		return "", err
	}
	var w where
	w.add("type IN " + cdcTypeList())
	w.add("bookmark > " + literal(opts.StartBookmark))
	w.add("bookmark <= " + literal(opts.EndBookmark))
	w.eq("Collection", "collection", opts.Collection)
	if w.err != nil {
		return "", w.err
	}
	return "SELECT " + cdcColumns + "\nFROM " + src.sqlWhere(w.conds) + " AS e" + "\nORDER BY bookmark, ts, id", nil
}
