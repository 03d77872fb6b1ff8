// Package lake stores the event lakehouse in object storage and reads it
// back.
//
// A [Bucket] is a small, flat key/value store of objects: Cloudflare R2 or
// Amazon S3 (package s3lake) or a local folder ([Dir]). Keys are '/'-separated
// paths checked by [ValidateKey]; every Bucket method rejects a bad key, prefix
// or option with an error matching [ErrInvalidKey] or [ErrInvalidOptions]
// before it changes anything.
//
// The emitter's lake sink writes events into a Bucket as JSON Lines objects,
// one folder per UTC hour of the events' own time:
//
//	events/{yyyy}/{mm}/{dd}/{hh}/{id}_{ms}_{seq}_{sum}.jsonl
//
// (the README's "lake format" has the details, including the names of
// objects the upstream library writes and of objects holding many stores'
// events). [Events] reads them back, for one store or all, over a range of
// hours; package query runs SQL over the same objects with DuckDB.
//
// [Compact] (or [CompactEvery] in a long-running service) turns the hours
// and days that are over into Parquet objects, one or a few per folder,
// which [Events] and package query read with the JSON Lines objects: the
// same events before, during and after, each counted once.
//
// Errors: [ErrInvalidKey], [ErrInvalidOptions], [ErrConflict] and
// [ErrOutsideRoot] are permanent (the same call fails the same way until the
// key, the options or the bucket's contents change); [ErrNotFound] says an
// object is missing; any other error (network, throttling, a full or
// read-only disk, a folder that is not mounted) is worth retrying.
package lake
