package emitter

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/dotdo/events/internal/cdcx"

	"github.com/dotdo/events/runtime/cdc"
)

// migrations are the emitter's tables in the store, one step per version.
// Steps are only ever appended.
var migrations = []string{
	// 1: meta (the store's emitter id, the custom sequence high-water mark),
	// the outbox of custom events, per-sink cursors per source, per-sink
	// retry state and dead letters.
	`CREATE TABLE emitter_meta (
		key TEXT PRIMARY KEY NOT NULL,
		value TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE emitter_outbox (
		seq INTEGER PRIMARY KEY,
		ts_ms INTEGER NOT NULL,
		body BLOB NOT NULL
	);
	CREATE TABLE emitter_cursors (
		sink TEXT NOT NULL,
		source TEXT NOT NULL,
		seq INTEGER NOT NULL,
		PRIMARY KEY (sink, source)
	) WITHOUT ROWID;
	CREATE TABLE emitter_retry (
		sink TEXT PRIMARY KEY NOT NULL,
		attempt INTEGER NOT NULL,
		next_ms INTEGER NOT NULL,
		last_error TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE emitter_dead (
		id INTEGER PRIMARY KEY,
		sink TEXT NOT NULL,
		source TEXT NOT NULL,
		first_seq INTEGER NOT NULL,
		last_seq INTEGER NOT NULL,
		events INTEGER NOT NULL,
		batch_id TEXT NOT NULL,
		status INTEGER NOT NULL,
		error TEXT NOT NULL,
		body BLOB NOT NULL,
		ts_ms INTEGER NOT NULL
	);`,
	// 2: dead-lettered events re-queued for their sink (Redrive), one row
	// per event; AUTOINCREMENT, so a seq is never reused below a cursor.
	`CREATE TABLE emitter_redrive (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		sink TEXT NOT NULL,
		ts_ms INTEGER NOT NULL,
		event_id TEXT NOT NULL,
		body BLOB NOT NULL
	);
	CREATE INDEX emitter_redrive_sink ON emitter_redrive (sink, seq);`,
	// 3: custom events written in the caller's transaction (EmitTx): their
	// seq is assigned in it, so they commit in seq order (SQLite has one
	// writer) and a reader never sees a later one before an earlier one.
	`CREATE TABLE emitter_txevents (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		ts_ms INTEGER NOT NULL,
		event_id TEXT NOT NULL,
		body BLOB NOT NULL
	);`,
}

// seqBlock is how many custom sequence numbers are reserved at once: one
// SQLite write per 65,536 events (at 4,096 the write was a tenth of Emit's
// cost under load), and a restarted process starts above every number a
// previous one could have used. Unused numbers of a block are skipped;
// 2^63 of them last for ever.
const seqBlock = 1 << 16

const (
	metaStoreID  = "store_id"
	metaCustomHW = "custom_hw"
)

// loadStoreID returns the store's emitter id, creating it on first use: 16
// random hex digits, so event ids are unique across stores.
func loadStoreID(ctx context.Context, store *cdc.Store) (string, error) {
	var id string
	err := store.Update(ctx, func(tx *cdc.Tx) error {
		err := cdcx.Tx(tx).QueryRowContext(ctx, `SELECT value FROM emitter_meta WHERE key = ?`, metaStoreID).Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		id = hex.EncodeToString(b[:])
		_, err = cdcx.Tx(tx).ExecContext(ctx, `INSERT INTO emitter_meta (key, value) VALUES (?, ?)`, metaStoreID, id)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("emitter: store id: %w", err)
	}
	return id, nil
}

// reserveSeqs reserves the next n custom sequence numbers and returns the
// first; the block is [first, first+n).
func reserveSeqs(ctx context.Context, store *cdc.Store, n uint64) (uint64, error) {
	var hw uint64
	err := store.Update(ctx, func(tx *cdc.Tx) error {
		var v string
		err := cdcx.Tx(tx).QueryRowContext(ctx, `SELECT value FROM emitter_meta WHERE key = ?`, metaCustomHW).Scan(&v)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			hw = 0
		case err != nil:
			return err
		default:
			if hw, err = strconv.ParseUint(v, 10, 64); err != nil {
				return fmt.Errorf("corrupt %s %q", metaCustomHW, v)
			}
		}
		_, err = cdcx.Tx(tx).ExecContext(ctx, `INSERT INTO emitter_meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, metaCustomHW, strconv.FormatUint(hw+n, 10))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("emitter: reserve sequence numbers: %w", err)
	}
	return hw + 1, nil
}
