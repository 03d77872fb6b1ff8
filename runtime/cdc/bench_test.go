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

// The benchmarks below run the baseline and the candidate interleaved, one
// operation each per iteration, and report their throughput ratio: machines
// here are shared, and load that drifts between two separate sub-benchmarks
// would bias a ratio of separate runs. ns/op is the cost of both together.

// BenchmarkPutRatio compares Collection.Put (one transaction per put, change
// row included) with a plain upsert of the same JSON document, same driver
// and pragmas. Metric put/plain: Put's throughput as a fraction of the plain
// upsert's (goal >= 0.6).
func BenchmarkPutRatio(b *testing.B) {
	ctx := context.Background()
	db := openPlain(b)
	stmt, err := db.Prepare(`INSERT INTO docs (id, doc) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`)
	if err != nil {
		b.Fatal(err)
	}
	users, err := cdc.NewCollection[benchDoc](openBenchStore(b), "users")
	if err != nil {
		b.Fatal(err)
	}
	var plain, put time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("u%d", i)
		start := time.Now()
		raw, _ := json.Marshal(newBenchDoc(i))
		if _, err := stmt.ExecContext(ctx, id, raw); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := users.Put(ctx, id, newBenchDoc(i)); err != nil {
			b.Fatal(err)
		}
		plain += mid.Sub(start)
		put += time.Since(mid)
	}
	b.ReportMetric(float64(plain)/float64(put), "put/plain")
	b.ReportMetric(float64(b.N)/put.Seconds(), "puts/s")
	b.ReportMetric(float64(b.N)/plain.Seconds(), "plain/s")
}

// BenchmarkPutManyRatio compares PutMany of 1000 documents with a plain
// batched upsert of 1000 per transaction. Metric putmany/plain (goal >= 0.5).
func BenchmarkPutManyRatio(b *testing.B) {
	ctx := context.Background()
	const batch = 1000
	db := openPlain(b)
	users, err := cdc.NewCollection[benchDoc](openBenchStore(b), "users")
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]cdc.Entry[benchDoc], batch)
	var plain, many time.Duration
	for n := 0; b.Loop(); n++ {
		start := time.Now()
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
		mid := time.Now()
		for i := range entries {
			entries[i] = cdc.Entry[benchDoc]{ID: fmt.Sprintf("u%d-%d", n, i), Doc: newBenchDoc(i)}
		}
		if err := users.PutMany(ctx, entries); err != nil {
			b.Fatal(err)
		}
		plain += mid.Sub(start)
		many += time.Since(mid)
	}
	b.ReportMetric(float64(plain)/float64(many), "putmany/plain")
	b.ReportMetric(float64(b.N*batch)/many.Seconds(), "putmany-docs/s")
	b.ReportMetric(float64(b.N*batch)/plain.Seconds(), "plain-docs/s")
}

// BenchmarkFindIndexed compares Find on an indexed field with Get by id over
// 100k documents. Metric find/get: Find's time per call as a multiple of
// Get's (goal <= 2).
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
	var get, find time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, ok, err := users.Get(ctx, fmt.Sprintf("u%d", i%total)); err != nil || !ok {
			b.Fatal(ok, err)
		}
		mid := time.Now()
		docs, err := users.Find(ctx, email.Eq(fmt.Sprintf("u%d@example.com", i%total)), cdc.FindOptions{Limit: 10})
		if err != nil || len(docs) != 1 {
			b.Fatal(len(docs), err)
		}
		get += mid.Sub(start)
		find += time.Since(mid)
	}
	b.ReportMetric(float64(find)/float64(get), "find/get")
}

// BenchmarkNewCollectionRatio compares NewCollection of a collection that
// exists with its indexes with one Put, interleaved. "again": the same store
// handle opens it again (what generated code does on every
// NewUserCollection call); "fresh": a store handle that has not opened it
// yet (what every process start pays; Open and the first connection are
// outside the timing). Metric newcoll/put: NewCollection's time as a multiple
// of Put's (goal: well under 1 for "again", it only reads).
func BenchmarkNewCollectionRatio(b *testing.B) {
	for _, fresh := range []bool{false, true} {
		name := "again"
		if fresh {
			name = "fresh"
		}
		b.Run(name, func(b *testing.B) { benchNewCollection(b, fresh) })
	}
}

func benchNewCollection(b *testing.B, fresh bool) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "store.db")
	email := cdc.NewStringField[string]("email")
	joined := cdc.NewTimeField("joined")
	s := openAt(b, path)
	users, err := cdc.NewCollection[benchDoc](s, "users", cdc.WithIndex(email, joined))
	if err != nil {
		b.Fatal(err)
	}
	const ahead = 64
	var stores []*cdc.Store
	var newColl, put time.Duration
	for i := 0; b.Loop(); i++ {
		target := s
		if fresh {
			if len(stores) == 0 {
				b.StopTimer()
				for range ahead {
					st := openAt(b, path)
					if _, err := st.Bookmark(ctx); err != nil { // opens a read connection
						b.Fatal(err)
					}
					stores = append(stores, st)
				}
				b.StartTimer()
			}
			target = stores[len(stores)-1]
			stores = stores[:len(stores)-1]
		}
		start := time.Now()
		if err := users.Put(ctx, fmt.Sprintf("u%d", i), newBenchDoc(i)); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, err := cdc.NewCollection[benchDoc](target, "users", cdc.WithIndex(email, joined)); err != nil {
			b.Fatal(err)
		}
		put += mid.Sub(start)
		newColl += time.Since(mid)
	}
	b.ReportMetric(float64(newColl)/float64(put), "newcoll/put")
}

func openAt(b *testing.B, path string) *cdc.Store {
	b.Helper()
	s, err := cdc.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
