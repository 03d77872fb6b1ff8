package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dotdo/events/runtime/changelog"
)

// A shipped bookmark is never reissued, also after power loss. With WAL and
// synchronous=NORMAL a commit is durable only at the next checkpoint or
// synced commit, so the last changes may be lost after an emitter read and
// shipped them; the store would then number different changes the same.
// Before changes up to N leave the store, shipping makes sure a mark at or
// above N is on disk (a synchronous=FULL commit, which also makes every
// earlier commit durable), reserving shipBlock numbers ahead so that it is
// rare; Open moves the numbering past the mark when the log is below it.

// metaShipped is the cdc_meta key of the shipped mark.
const metaShipped = "shipped"

// shipBlock is how far past what is shipped the mark is reserved: one
// synced commit per shipBlock changes shipped, and at most that many
// numbers skipped when a store reopens.
const shipBlock = 1024

// shipping records, durably, that changes up to through may be shipped.
func (s *Store) shipping(ctx context.Context, through Bookmark) error {
	seq, err := through.Seq()
	if err != nil {
		return err
	}
	if s.path == ":memory:" {
		return nil // nothing survives the process anyway
	}
	s.shipMu.Lock()
	defer s.shipMu.Unlock()
	if seq <= s.shipped {
		return nil
	}
	mark := seq + shipBlock
	// The writer has one connection: holding it, the FULL setting applies
	// to this commit alone.
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("cdc: record shipped changes: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		return fmt.Errorf("cdc: record shipped changes: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = NORMAL`) //nolint:errcheck // a failure leaves it safer, not worse
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cdc: record shipped changes: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cdc_meta (key, value) VALUES (?1, ?2)
		ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`, metaShipped, mark); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("cdc: record shipped changes: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cdc: record shipped changes: %w", err)
	}
	s.shipped = mark
	return nil
}

// recoverShipped runs at Open: when the log ends below the shipped mark (a
// lost tail, or numbers reserved and not used), the next change is numbered
// past the mark.
func (s *Store) recoverShipped(ctx context.Context) error {
	var mark, newest int64
	err := s.writer.QueryRowContext(ctx, `SELECT value, (SELECT COALESCE(MAX(seq), 0) FROM cdc_changes) FROM cdc_meta WHERE key = ?`, metaShipped).Scan(&mark, &newest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // nothing was ever shipped
	}
	if err != nil {
		return fmt.Errorf("cdc: shipped mark: %w", err)
	}
	s.shipped = mark
	if newest >= mark {
		return nil
	}
	return s.Update(ctx, func(tx *Tx) error { return tx.advanceBookmark(ctx, changelog.BookmarkFromSeq(mark)) })
}
