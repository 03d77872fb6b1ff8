package query_test

import (
	"fmt"
	"time"

	"github.com/dotdo/events/runtime/query"
)

// A typed query of one's own on top of Source: the "users" documents' names
// as of their last change in January 2025, "doc" read as a STRUCT.
func ExampleSource() {
	src, err := query.Source(query.SourceOptions{
		Root:      "/var/lib/events-lake",
		DOID:      "users-1",
		DateRange: &query.DateRange{Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 31, 23, 59, 59, 0, time.UTC)},
		Columns:   []query.Column{{Name: "doc", Type: `STRUCT(name VARCHAR, role VARCHAR)`}},
	})
	if err != nil {
		panic(err)
	}
	sql := `SELECT "docId", arg_max(doc.name, bookmark) AS name
FROM ` + src + ` AS e
WHERE collection = 'users'
GROUP BY "docId"`
	_ = sql // run it with database/sql and github.com/duckdb/duckdb-go/v2
}

// Errors name the option and match ErrInvalidOption.
func ExampleBuild_invalid() {
	_, err := query.Build(query.Options{Bucket: "my-events", OrderBy: "ts; DROP TABLE x"})
	fmt.Println(err)
	// Output: query: invalid option: OrderBy: column "ts;" is not one of anonymousId, bookmark, code, collection, colo, connectionCount, do_class, do_colo, do_id, do_name, do_worker, docId, durationMs, error, event, id, method, namespace, reason, sessionId, success, ts, type, userId
}
