package query

// Latency returns a DuckDB query of rpc.call latency per store class and
// method, with the columns
//
//	class VARCHAR, method VARCHAR, call_count BIGINT,
//	avg_duration_ms, p50_ms, p95_ms, p99_ms, max_duration_ms DOUBLE,
//	error_count BIGINT
//
// (percentiles interpolated, as upstream's PERCENTILE_CONT). Failed calls
// count in every figure; error_count counts the calls whose success is not
// true. Rows are sorted by call_count descending, then class and method.
//
// Errors match ErrInvalidOption and name the option.
func Latency(opts LatencyOptions) (string, error) {
	src, err := newSource(opts.Bucket, opts.Root, opts.DateRange, opts.DOID, "", nil)
	if err != nil {
		return "", err
	}
	var w where
	w.add("type = 'rpc.call'")
	w.eq("DOClass", `"do".class`, opts.DOClass)
	w.eq("Colo", `"do".colo`, opts.Colo)
	w.eq("Method", "method", opts.Method)
	if w.err != nil {
		return "", w.err
	}
	return `SELECT
  "do".class AS "class",
  method,
  CAST(count(*) AS BIGINT) AS call_count,
  avg("durationMs") AS avg_duration_ms,
  quantile_cont("durationMs", 0.5) AS p50_ms,
  quantile_cont("durationMs", 0.95) AS p95_ms,
  quantile_cont("durationMs", 0.99) AS p99_ms,
  max("durationMs") AS max_duration_ms,
  CAST(count(*) FILTER (WHERE success IS NOT TRUE) AS BIGINT) AS error_count
FROM ` + src.sqlWhere(w.conds) + " AS e" + `
GROUP BY "do".class, method
ORDER BY call_count DESC, "class" NULLS LAST, method NULLS LAST`, nil
}
