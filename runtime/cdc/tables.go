package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// tables holds a collection's SQL: its table name and the statements every
// Collection[T] over it shares.
type tables struct {
	name  string // the collection name
	table string // the quoted table name

	upsert *sql.Stmt // writer: insert or update one document
	delete *sql.Stmt // writer: delete one document
	get    *sql.Stmt // reader: one document by id
	has    *sql.Stmt // reader: whether an id exists
	getW   *sql.Stmt // writer: get, for reads inside a transaction
	hasW   *sql.Stmt // writer: has, for reads inside a transaction

	// queries caches prepared Find and Count statements by SQL text: a
	// filter's shape repeats while its values change, and parsing costs more
	// than running an indexed lookup.
	mu      sync.Mutex
	queries map[string]*sql.Stmt

	indexed map[string]bool // index names known to exist (guarded by Store.mu)
}

// maxCachedQueries bounds the statement cache of one collection.
const maxCachedQueries = 256

// cachedQuery returns a prepared statement for query on db; ok is false when
// the cache is full and the caller must close the statement after use.
func (t *tables) cachedQuery(ctx context.Context, db *sql.DB, query string) (stmt *sql.Stmt, cached bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if stmt, ok := t.queries[query]; ok {
		return stmt, true, nil
	}
	stmt, err = db.PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	if len(t.queries) >= maxCachedQueries {
		return stmt, false, nil
	}
	if t.queries == nil {
		t.queries = map[string]*sql.Stmt{}
	}
	t.queries[query] = stmt
	return stmt, true, nil
}

// tableName is the quoted SQL name of a collection's table. Collection names
// are validated (letters, digits, '_' and '-'), so quoting them is enough.
func tableName(collection string) string { return `"c_` + collection + `"` }

// collectionDDL creates a collection's table and the triggers that write its
// change log. SQLite writes the change rows itself, inside the statement that
// changes the document: one statement per write from Go, and no way for a
// write to skip its change row.
func collectionDDL(name string) []string {
	t := tableName(name)
	now := `CAST(round(unixepoch('subsec') * 1000) AS INTEGER)`
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`,
		`CREATE TRIGGER IF NOT EXISTS "c_` + name + `_insert" AFTER INSERT ON ` + t + ` BEGIN
			INSERT INTO cdc_changes (ts, collection, doc_id, op, doc, prev) VALUES (` + now + `, '` + name + `', NEW.id, 'insert', NEW.doc, NULL);
		END`,
		`CREATE TRIGGER IF NOT EXISTS "c_` + name + `_update" AFTER UPDATE ON ` + t + ` BEGIN
			INSERT INTO cdc_changes (ts, collection, doc_id, op, doc, prev) VALUES (` + now + `, '` + name + `', NEW.id, 'update', NEW.doc, OLD.doc);
		END`,
		`CREATE TRIGGER IF NOT EXISTS "c_` + name + `_delete" AFTER DELETE ON ` + t + ` BEGIN
			INSERT INTO cdc_changes (ts, collection, doc_id, op, doc, prev) VALUES (` + now + `, '` + name + `', OLD.id, 'delete', NULL, OLD.doc);
		END`,
	}
}

// collectionExists reports whether collection name is registered and its
// table and three triggers exist, so nothing needs creating.
func collectionExists(ctx context.Context, q queryer, name string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM cdc_collections WHERE name = ?1)
		+ (SELECT count(*) FROM sqlite_schema WHERE name IN ('c_' || ?1, 'c_' || ?1 || '_insert', 'c_' || ?1 || '_update', 'c_' || ?1 || '_delete'))`,
		name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("cdc: collection %s: %w", name, err)
	}
	return n == 5, nil
}

// ensureCollection creates the collection's table and triggers if needed and
// records it in the registry.
func ensureCollection(ctx context.Context, x execer, name string) error {
	if err := ValidateCollection(name); err != nil {
		return err
	}
	// SQLite compares identifiers without ASCII case, so "Users" would
	// share the table of "users": refuse it before anything is written.
	var other string
	err := x.QueryRowContext(ctx, `SELECT name FROM cdc_collections WHERE name = ?1 COLLATE NOCASE AND name <> ?1 LIMIT 1`, name).Scan(&other)
	switch {
	case err == nil:
		return fmt.Errorf("%w: %q differs only in case from the existing collection %q (SQLite names ignore case)", ErrInvalidCollection, name, other)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("cdc: create collection %s: %w", name, err)
	}
	for _, stmt := range collectionDDL(name) {
		if _, err := x.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("cdc: create collection %s: %w", name, err)
		}
	}
	if _, err := x.ExecContext(ctx,
		`INSERT INTO cdc_collections (name, created_ms) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("cdc: create collection %s: %w", name, err)
	}
	return nil
}

// tablesFor returns the shared statements of collection name, creating the
// collection on first use.
func (s *Store) tablesFor(ctx context.Context, name string) (*tables, error) {
	if err := ValidateCollection(name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("cdc: store is closed")
	}
	if t, ok := s.collections[name]; ok {
		return t, nil
	}
	// A read first: opening a collection that exists (the common case, on
	// every start) takes no write lock and writes nothing.
	ok, err := collectionExists(ctx, s.reader, name)
	if err != nil {
		return nil, explainCantOpen(err)
	}
	if !ok {
		if err := s.Update(ctx, func(tx *Tx) error { return ensureCollection(ctx, tx.tx, name) }); err != nil {
			return nil, err
		}
	}
	t := &tables{name: name, table: tableName(name), indexed: map[string]bool{}}
	prepare := []struct {
		db   *sql.DB
		dst  **sql.Stmt
		text string
	}{
		{s.writer, &t.upsert, `INSERT INTO ` + t.table + ` (id, doc) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`},
		{s.writer, &t.delete, `DELETE FROM ` + t.table + ` WHERE id = ?1`},
		{s.reader, &t.get, `SELECT doc FROM ` + t.table + ` WHERE id = ?1`},
		{s.reader, &t.has, `SELECT 1 FROM ` + t.table + ` WHERE id = ?1`},
		{s.writer, &t.getW, `SELECT doc FROM ` + t.table + ` WHERE id = ?1`},
		{s.writer, &t.hasW, `SELECT 1 FROM ` + t.table + ` WHERE id = ?1`},
	}
	for _, p := range prepare {
		stmt, err := p.db.PrepareContext(ctx, p.text)
		if err != nil {
			t.close()
			return nil, fmt.Errorf("cdc: prepare %s: %w", name, explainCantOpen(err))
		}
		*p.dst = stmt
	}
	s.collections[name] = t
	return t, nil
}

func (t *tables) close() {
	for _, s := range []*sql.Stmt{t.upsert, t.delete, t.get, t.has, t.getW, t.hasW} {
		if s != nil {
			s.Close()
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.queries {
		s.Close()
	}
	t.queries = nil
}

func listCollections(ctx context.Context, q queryer) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM cdc_collections ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("cdc: collections: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("cdc: collections: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cdc: collections: %w", err)
	}
	return names, nil
}
