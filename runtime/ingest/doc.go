// Package ingest is a self-hosted ingest server: the other end of an
// emitter's HTTP sink. It takes the batch wire format of this module's
// emitter, of a fleet and of the upstream JavaScript emitter unchanged,
// validates each batch in one pass, and writes its events into a lake in
// the layout every reader of package runtime/lake and runtime/query knows
// (one JSON Lines object per UTC hour of the events' own time, named
// _i-{ms}_{seq}_{sum}.jsonl), answering 200 only once they are durable.
//
//	srv, err := ingest.New(ingest.Options{Bucket: lake.Dir("lake"), Keys: []string{"secret"}})
//	if err != nil { ... }
//	hs := &http.Server{Addr: "127.0.0.1:8080", Handler: srv, ReadHeaderTimeout: 10 * time.Second}
//	go hs.ListenAndServe()
//	...
//	hs.Shutdown(ctx) // finishes the requests in flight
//
// Answers to POST /ingest:
//
//   - 200 {"accepted":N,"objects":K}: every event is in the bucket.
//   - 400 {"error":...,"index":i,"errors":[{"index":i,"error":...},...]}:
//     malformed JSON or invalid events; nothing is written. index is the
//     first offending event's (absent when the batch as a whole is wrong).
//   - 401: keys are set and the bearer key is missing or wrong.
//   - 403: the key is limited to some stores (Key) and an event is of
//     another; the body names the events as for 400.
//   - 405: not a POST. 404: another path.
//   - 413: a body over 16 MiB or more than 1000 events.
//   - 429 with Retry-After: the key's RateLimit is exceeded.
//   - 503 with Retry-After: MaxInFlight requests are being handled, or the
//     lake write failed; nothing is acknowledged, a retry is safe.
//
// Ids: every event in the lake has an id. An event without an "id" gets one derived from the
// batch's batchId when it has one, else from a digest of the body, and its
// index: "ib{24 hex}-{i}" or "ih{24 hex}-{i}". A retried batch thus gets
// the same ids, the same bytes and the same object keys on any server with
// no state but the bucket, and overwrites rather than duplicates; readers
// count each id once anyway.
//
// Limits of one event: MaxEventBytes and MaxDepth, below what DuckDB's
// read_json and SQLite's JSON functions handle; a type of 1-128 characters
// of [a-zA-Z0-9._-]; a ts (RFC 3339) within Options.MaxAge and MaxFuture of
// the server's clock; an "id", when present, a string of 1-256 bytes; a
// "do", when present, an object whose "id" is a valid store id.
package ingest
