package cdc_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
)

// benchDoc is the document every benchmark writes.
type benchDoc struct {
	Name   string    `json:"name"`
	Email  string    `json:"email"`
	Role   string    `json:"role"`
	Active bool      `json:"active"`
	Joined time.Time `json:"joined"`
}

func newBenchDoc(i int) benchDoc {
	return benchDoc{
		Name: fmt.Sprintf("user %d", i), Email: fmt.Sprintf("u%d@example.com", i),
		Role: "member", Active: i%2 == 0, Joined: time.Date(2024, 1, 1, 0, 0, i%60, 0, time.UTC),
	}
}

// openPlain opens the same kind of database the store uses (same driver and
// pragmas) with one plain table: the baseline.
func openPlain(b *testing.B) *sql.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "plain.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE docs (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func openBenchStore(b *testing.B) *cdc.Store {
	b.Helper()
	s, err := cdc.Open(context.Background(), filepath.Join(b.TempDir(), "store.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkPut compares Collection.Put (one transaction each, change row
// included) with a plain upsert of the same JSON in the same run.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	b.Run("baseline=plain-upsert", func(b *testing.B) {
		db := openPlain(b)
		stmt, err := db.Prepare(`INSERT INTO docs (id, doc) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			raw, _ := json.Marshal(newBenchDoc(i))
			if _, err := stmt.ExecContext(ctx, fmt.Sprintf("u%d", i), raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("collection-put", func(b *testing.B) {
		users, err := cdc.NewCollection[benchDoc](openBenchStore(b), "users")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := users.Put(ctx, fmt.Sprintf("u%d", i), newBenchDoc(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPutMany compares PutMany of 1000 documents with a plain batched
// upsert of 1000 per transaction.
func BenchmarkPutMany(b *testing.B) {
	ctx := context.Background()
	const batch = 1000
	b.Run("baseline=plain-upsert-1000-per-tx", func(b *testing.B) {
		db := openPlain(b)
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			stmt, err := tx.Prepare(`INSERT INTO docs (id, doc) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < batch; i++ {
				raw, _ := json.Marshal(newBenchDoc(i))
				if _, err := stmt.Exec(fmt.Sprintf("u%d-%d", n, i), raw); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("collection-putmany-1000", func(b *testing.B) {
		users, err := cdc.NewCollection[benchDoc](openBenchStore(b), "users")
		if err != nil {
			b.Fatal(err)
		}
		entries := make([]cdc.Entry[benchDoc], batch)
		b.ReportAllocs()
		for n := 0; b.Loop(); n++ {
			for i := range entries {
				entries[i] = cdc.Entry[benchDoc]{ID: fmt.Sprintf("u%d-%d", n, i), Doc: newBenchDoc(i)}
			}
			if err := users.PutMany(ctx, entries); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
	})
}

// BenchmarkFindIndexed compares Find on an indexed field with Get by id over
// 100k documents.
func BenchmarkFindIndexed(b *testing.B) {
	ctx := context.Background()
	const total = 100_000
	s := openBenchStore(b)
	email := cdc.NewStringField[string]("email")
	users, err := cdc.NewCollection[benchDoc](s, "users", cdc.WithIndex(email))
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]cdc.Entry[benchDoc], 0, 1000)
	for i := 0; i < total; i++ {
		entries = append(entries, cdc.Entry[benchDoc]{ID: fmt.Sprintf("u%d", i), Doc: newBenchDoc(i)})
		if len(entries) == cap(entries) {
			if err := users.PutMany(ctx, entries); err != nil {
				b.Fatal(err)
			}
			entries = entries[:0]
		}
	}
	b.Run("baseline=get-by-id", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, ok, err := users.Get(ctx, fmt.Sprintf("u%d", i%total)); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("find-indexed-eq", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			docs, err := users.Find(ctx, email.Eq(fmt.Sprintf("u%d@example.com", i%total)), cdc.FindOptions{Limit: 10})
			if err != nil || len(docs) != 1 {
				b.Fatal(len(docs), err)
			}
		}
	})
}
