// Package emitter delivers a store's events to an HTTP ingest endpoint and to
// an object-storage lakehouse, in batches, with retry and backoff, without
// losing an event.
//
// An Emitter has two sources and one or more sinks (Sink): the HTTP ingest
// (Options.Endpoint), the lake (Options.Bucket) and any of Options.Sinks.
//
//   - Custom events (Emit, Call, Middleware) are encoded at once into memory;
//     they touch SQLite only when a send fails, when PersistBatch or Close
//     asks, or when Options.MaxPending wait in memory. Then they move to the
//     emitter's outbox table in the store. Emit never waits for SQLite, so it
//     may be called inside the caller's own Store.Update.
//   - Custom events of EmitTx are written in the caller's transaction and
//     shipped once it commits; none is for a transaction that rolls back.
//   - Collection changes (Options.CDC) are already durable: SQLite triggers
//     write them to the store's change log in the mutation's transaction.
//     The emitter reads the log (cdc.Store.ChangesAfter) and turns each entry
//     into a collection.insert, .update or .delete event; collections never
//     call the emitter. EmitChange appends a change of data kept elsewhere.
//
// Each sink (http, lake, a user's) keeps, in the store, its own cursor per source, its
// retry state and its dead letters, so a failure of one sink never re-sends
// to the other and a restarted process resumes where it stopped, backoff
// schedule included. Rows every sink has delivered are pruned from the
// outbox and the change log.
//
// # Delivery
//
// At least once per sink, in order per source: changes in bookmark order,
// custom events in emission order (the two sources are batched separately).
// With Options.HTTPInFlight above 1 HTTP batches are sent in order but may
// arrive out of order. A failed send is retried after 1s, doubling to 60s,
// plus up to 1s of jitter, or after the server's Retry-After; the schedule is
// kept in the store. HTTP 408, 429, 5xx, redirects (never followed: a
// redirect is not a delivery), timeouts, network errors and the lake's
// environment errors (a root that is a file, no permission, a full disk)
// are retried. A batch answered 413 is sent again in halves. Any other 4xx
// (and an event the lake cannot store) dead-letters that batch only, or
// only the events a sink's DeliveryError.Rejected names; delivery goes on,
// Flush says so with ErrDeadLettered, and Redrive puts them back. Batches
// hold at most BatchSize (LakeBatchSize) events and MaxBatchBytes bytes.
//
// # Identifiers
//
// Each store gets a random 16-hex-digit emitter id (StoreID) the first time.
// A change's event id is "{storeID}-c{bookmark number}"; a custom event's is
// "{storeID}-e{sequence number}", from blocks of numbers reserved in the
// store ahead of use, so a restarted process never reuses one; an event of
// EmitTx's is "{storeID}-t{n}". Ids are the same on every re-send, also of
// a dead letter put back by Redrive. A batch's ID (the HTTP batchId) is
// "{storeID}-{c|e|t|r}{first}-{last}" (r: re-queued dead letters). Lake
// objects are written with the bookmark number as the seq of a change and
// a number above 10^19 for the other sources; as every retry of a lake
// write starts at the sink's saved cursor, its keys overwrite what a failed
// or interrupted attempt wrote, and the lake holds each event once (as long
// as Identity.ID, LakeBatchSize and MaxBatchBytes stay the same across
// restarts).
//
// One Emitter per store at a time: New fails with cdc.ErrHeld while another
// holds the store.
package emitter
