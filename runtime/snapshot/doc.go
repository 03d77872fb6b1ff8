// Package snapshot copies the collections of a cdc.Store to a lake.Bucket
// and back, and brings a store to its state at any bookmark or time
// (point-in-time restore) from a snapshot plus the change events in the lake
// and in the store's own change log.
//
// # Keys
//
// A snapshot of the store id is stored under
//
//	{prefix}/{id}/{time}.json
//
// where prefix is Options.Prefix ("snapshots" by default, one or more
// '/'-separated segments), id is the store id as it is, and time is the UTC
// time of the snapshot with ':' and '.' written as '-'
// (2024-01-15T12-34-56-789Z). A second snapshot of the same store in the same
// millisecond gets "_000001" (then "_000002", ...) before ".json": '_' sorts
// after '.', so keys sort in the order the snapshots were taken.
//
// # Body (layout version 1)
//
// One JSON object, compatible with the upstream library's snapshots:
//
//	{"version":1,"doId":"store-1","timestamp":"2024-01-15T12:34:56.789Z",
//	 "bookmark":"00000000000000000042","collections":["posts","users"],
//	 "data":{"posts":[],"users":[{"_id":"u1","name":"Ann"}]},
//	 "totalDocs":1,"sha256":"…"}
//
// Each collection's rows are sorted by id (byte order) without repeats. A
// row is the document's members with the document id first under "_id", as
// upstream writes them. Two escapes keep every document intact:
//
//   - A document member whose name is one or more '_' followed by "id" or
//     "value" ("_id", "__id", "_value", ...) is written with one more '_'
//     ("__id", "___id", "__value", ...) and read back without it. So the
//     row's "_id" is always the row id, and a document's own "_id" comes back
//     unchanged.
//   - A document that is not a JSON object (a string, a number, an array,
//     null) is written as {"_id": id, "_value": document}.
//
// "sha256" is the hex SHA-256 digest of every byte of the body before the
// 77 bytes `,"sha256":"<64 hex digits>"}` that end it: restore rejects a body
// that was cut or changed anywhere, even where the change leaves valid JSON.
// "totalDocs" comes after "data" because it is known only once every row is
// written. A body without "version", or with another version, is rejected
// (ErrVersion) before anything is written.
//
// # Restore
//
// Restore makes every collection of the store equal to the snapshot in one
// transaction: documents written since are deleted, changed ones are put
// back, identical ones are left alone, and collections the snapshot does not
// have are emptied (cdc cannot drop a collection). Every difference is
// written through the collections, so it lands in the change log as an
// ordinary change with a new bookmark and CDC consumers follow.
//
// # Point-in-time restore
//
// RestoreTo brings a store to its state right after a bookmark, or at a
// time: it restores the latest snapshot at or before the target (or starts
// from nothing), with the changes after the snapshot's bookmark up to the
// target replayed on top, in the same single transaction. Changes come from
// the store's own change log where it still holds them and from the CDC
// events in the lake otherwise, read with lake.Events: every object that
// may hold the store's events (whichever writer named it), rows filtered by
// do.id, and only the changes the store itself shipped (see RestoreTo). A store numbers its changes 1, 2, 3, … without
// holes (a restore's own writes are ordinary changes too; a store restored
// in place of a lost one numbers on from where the lost one ended, below),
// so the changes of one store id form one chain and every number
// from the snapshot's bookmark to the target must be found: a missing one
// fails with ErrGap and the store is left as it was.
//
// # Restoring into a new store
//
// After a disaster the lost store's snapshots and lake events are restored
// into a new, empty store, whose change numbers would start again at 1 and
// so reissue bookmarks the lost store already used under the same id: a
// later RestoreTo would find two different changes under one number
// (ErrConflict) and bookmark-ordered queries would mix two histories. So
// when RestoreTo restores into a store behind the chain (its bookmark is
// below the snapshot's, the reached change, or a change number the lake
// holds for the id), it first advances the store's bookmark
// (cdc.Tx.AdvanceBookmark), in the restore's transaction, to the highest
// change number of the id in the lake and the newest snapshot: the lost
// store may have written past the target. Finding it reads the lake to its
// end (a few listings per hour folder since the snapshot, each object that
// may hold the id read once); only such a restore pays for it. Documents the chain ends
// with and the restored state lacks get a logged delete, so the new store's
// log continues the chain: a restore through it, into yet another store,
// gives the same state. A restore in place, into a store at or past the
// chain, never changes its numbering.
//
// Create and Restore stream: a snapshot goes through a temporary file, is
// read and written a row at a time, and memory stays bounded whatever the
// number of documents.
package snapshot
