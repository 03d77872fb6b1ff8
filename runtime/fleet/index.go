package fleet

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
)

// indexName is the fleet's own database in Dir: which stores have
// undelivered changes, every (sink, store) position, custom events set
// aside, dead letters. One transaction per delivery round writes it.
const indexName = "_fleet.db"

// indexSchema creates the index's tables.
const indexSchema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- stores that may have undelivered changes: a row is written (gen bumped)
-- each time a store opens, before anything can write to it, and deleted
-- (with the gen it was seen with) once the store is closed and delivered.
CREATE TABLE IF NOT EXISTS pending (store TEXT PRIMARY KEY, gen INTEGER NOT NULL, since_ms INTEGER NOT NULL);
-- per (sink, store): the bookmark number delivered through.
CREATE TABLE IF NOT EXISTS positions (sink TEXT NOT NULL, store TEXT NOT NULL, seq INTEGER NOT NULL,
	PRIMARY KEY (sink, store)) WITHOUT ROWID;
-- store files whose name is a digest: the id.
CREATE TABLE IF NOT EXISTS names (file TEXT PRIMARY KEY, store TEXT NOT NULL);
-- custom events set aside (a sink failed, or the fleet closed) until every sink took them.
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, store TEXT NOT NULL, ts_ms INTEGER NOT NULL,
	type TEXT NOT NULL, json BLOB NOT NULL);
-- per sink: the custom event sequence number delivered through.
CREATE TABLE IF NOT EXISTS custom_pos (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL);
-- per sink: its retry schedule while it fails.
CREATE TABLE IF NOT EXISTS retry (sink TEXT PRIMARY KEY, attempt INTEGER NOT NULL, next_ms INTEGER NOT NULL,
	last_error TEXT NOT NULL);
-- events a sink rejected for good.
CREATE TABLE IF NOT EXISTS dead (id INTEGER PRIMARY KEY, sink TEXT NOT NULL, batch_id TEXT NOT NULL,
	events INTEGER NOT NULL, status INTEGER NOT NULL, error TEXT NOT NULL, body BLOB NOT NULL, ts_ms INTEGER NOT NULL);
`

// Keys of the index's meta table.
const (
	metaWriter   = "writer"    // the fleet's writer id: names its lake objects and custom event ids
	metaCustomHW = "custom_hw" // custom sequence numbers below it may have been used
)

// customBlock is how many custom sequence numbers one reservation takes.
const customBlock = 1 << 16

// openIndex opens (creating) the index of dir on one connection.
func openIndex(ctx context.Context, dir string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+escapePath(filepath.Join(dir, indexName))+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("fleet: open index: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if _, err := db.ExecContext(ctx, indexSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("fleet: open index: %w", err)
	}
	return db, nil
}

// escapePath escapes what would end the file part of a URI.
func escapePath(p string) string {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '%', '?', '#':
			out = append(out, '%', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// writerID returns the fleet's persisted writer id, creating it once.
func writerID(ctx context.Context, db *sql.DB) (string, error) {
	var w string
	err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaWriter).Scan(&w)
	if err == nil {
		return w, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("fleet: index: %w", err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	w = "f" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, metaWriter, w); err != nil {
		return "", fmt.Errorf("fleet: index: %w", err)
	}
	return w, nil
}

// reserveCustom reserves the next customBlock custom sequence numbers and
// returns the first.
func reserveCustom(ctx context.Context, db *sql.DB) (uint64, error) {
	var end int64
	err := db.QueryRowContext(ctx, `INSERT INTO meta (key, value) VALUES (?1, ?2 + 1)
		ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + ?2 RETURNING CAST(value AS INTEGER)`,
		metaCustomHW, customBlock).Scan(&end)
	if err != nil {
		return 0, fmt.Errorf("fleet: reserve sequence numbers: %w", err)
	}
	return uint64(end - customBlock), nil
}

// inTx runs fn in one transaction of db.
func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
