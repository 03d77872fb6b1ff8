// Package lake stores the event lakehouse in object storage.
//
// A [Bucket] is a small, flat key/value store of objects: Cloudflare R2 or
// Amazon S3 (package s3lake) or a local folder ([Dir]). Keys are '/'-separated
// paths checked by [ValidateKey]; every Bucket method rejects a bad key, prefix
// or option with an error matching [ErrInvalidKey] or [ErrInvalidOptions]
// before it changes anything.
//
// On top of Bucket the package defines the key layout of the lakehouse,
//
//	events/{yyyy}/{mm}/{dd}/{hh}/{id}_{ms}_{seq}.jsonl
//
// ([EventKey], [HourPrefix], [SanitizeID]), and [WriteEvents], which writes
// a batch of encoded events as JSON Lines objects, one per UTC hour of the
// events' own time, under keys that are the same on every retry of the batch.
package lake
