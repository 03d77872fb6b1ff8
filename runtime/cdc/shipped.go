package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/dotdo/events/runtime/changelog"
)

// A shipped bookmark is never reissued, also after power loss. With WAL and
// synchronous=NORMAL a commit is durable only at the next checkpoint or
// synced commit, so the last changes may be lost after an emitter read and
// shipped them; the store would then number different changes the same.
// Before changes up to N leave the store, shipping makes sure a mark at or
// above N is on disk (a synchronous=FULL commit, which also makes every
// earlier commit durable), reserving shipBlock numbers ahead so that it is
// rare. Only a power loss (or an OS crash) can take commits the process
// had written, so Open moves the numbering past the
// mark only when the log is below it AND the machine has restarted since
// the mark was written (Linux's boot id tells; where it cannot be read,
// always). A clean Close writes the exact mark. A process that is killed
// therefore never skips numbers: its writes are in the OS's page cache.
//
// Numbers skipped after a power loss are not in the lake either, so a
// point-in-time restore to a bookmark past them reports ErrGap unless a
// snapshot taken after the skip is its starting point.

// metaShipped is the cdc_meta key of the shipped mark; metaShippedBoot
// that of the boot id of the machine that wrote it.
const (
	metaShipped     = "shipped"
	metaShippedBoot = "shipped_boot"
)

// bootIDFile holds an id that changes with every boot of a Linux machine.
const bootIDFile = "/proc/sys/kernel/random/boot_id"

// bootID returns the machine's boot id, "" where there is none.
func bootID() string {
	b, err := os.ReadFile(bootIDFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

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
	if _, err := tx.ExecContext(ctx, `INSERT INTO cdc_meta (key, value) VALUES (?1, ?2), (?3, ?4)
		ON CONFLICT (key) DO UPDATE SET value = CASE key WHEN ?1 THEN max(value, excluded.value) ELSE excluded.value END`,
		metaShipped, mark, metaShippedBoot, bootID()); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("cdc: record shipped changes: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cdc: record shipped changes: %w", err)
	}
	s.shipped = mark
	return nil
}

// recoverShipped runs at Open: when the log ends below the shipped mark
// and the machine restarted since the mark was written (so the last commits
// may be lost), the next change is numbered past the mark. Otherwise the
// reservation stands and numbering goes on from the log's end.
func (s *Store) recoverShipped(ctx context.Context) error {
	var (
		mark, newest int64
		boot         sql.NullString
	)
	err := s.writer.QueryRowContext(ctx, `SELECT value, (SELECT COALESCE(MAX(seq), 0) FROM cdc_changes),
		(SELECT CAST(value AS TEXT) FROM cdc_meta WHERE key = ?2) FROM cdc_meta WHERE key = ?1`,
		metaShipped, metaShippedBoot).Scan(&mark, &newest, &boot)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // nothing was ever shipped
	}
	if err != nil {
		return fmt.Errorf("cdc: shipped mark: %w", err)
	}
	if newest >= mark {
		s.shipped = mark
		return nil
	}
	if now := bootID(); now != "" && boot.Valid && boot.String == now {
		s.shipped = mark // the same boot: nothing committed was lost
		return nil
	}
	s.shipped = mark
	return s.Update(ctx, func(tx *Tx) error { return tx.advanceBookmark(ctx, changelog.BookmarkFromSeq(mark)) })
}

// closeShipped runs at Close: the mark becomes exact (the log's end, which
// holds everything shipped), in a synced commit, so that a reopen after a
// power loss skips no number.
func (s *Store) closeShipped(ctx context.Context) error {
	s.shipMu.Lock()
	defer s.shipMu.Unlock()
	if s.shipped == 0 || s.path == ":memory:" {
		return nil
	}
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `UPDATE cdc_meta SET value = (SELECT COALESCE(MAX(seq), 0) FROM cdc_changes) WHERE key = ?`, metaShipped)
	return err
}
