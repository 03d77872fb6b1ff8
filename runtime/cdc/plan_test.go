package cdc

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIndexedFindDoesNotScan checks the query plan: a filter or order on an
// indexed field uses its index instead of scanning the collection.
func TestIndexedFindDoesNotScan(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	email := NewStringField[string]("email")
	joined := NewTimeField("joined")
	name := NewStringField[string]("name")
	c, err := NewCollection[map[string]any](s, "users", WithIndex(email, joined))
	if err != nil {
		t.Fatal(err)
	}
	// The planner judges by the data it sees: give it a realistic amount.
	var entries []Entry[map[string]any]
	for i := range 2000 {
		entries = append(entries, Entry[map[string]any]{ID: fmt.Sprint(i), Doc: map[string]any{
			"email": fmt.Sprintf("u%d@x", i), "name": "n", "joined": "2024-01-01T00:00:00Z"}})
	}
	if err := c.PutMany(ctx, entries); err != nil {
		t.Fatal(err)
	}
	// EXPLAIN does not check the schema cookie, so a pooled connection that
	// parsed the schema before the index existed would explain a stale plan
	// (real queries re-prepare). Reopen to explain with the current schema.
	path := s.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, err = NewCollection[map[string]any](s, "users"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		filter  Filter
		opts    FindOptions
		indexed bool
	}{
		{"eq on indexed", email.Eq("a@x"), FindOptions{}, true},
		{"in on indexed", email.In("a", "b"), FindOptions{}, true},
		{"prefix on indexed", email.HasPrefix("a"), FindOptions{}, true},
		// A one-sided range is guessed (without statistics) to hold a quarter
		// of the rows, and the planner then rightly prefers a scan in id order;
		// a bounded range uses the index.
		{"range on indexed time", And(joined.Gt(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)), joined.Lt(time.Date(2023, 2, 1, 0, 0, 0, 0, time.UTC))), FindOptions{}, true},
		{"eq on unindexed", name.Eq("a"), FindOptions{}, false},
	}
	for _, tc := range cases {
		query, args, err := c.query("id, doc", tc.filter, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		usesIndex := strings.Contains(text, "USING INDEX ix_users_")
		if usesIndex != tc.indexed {
			t.Errorf("%s: plan %q, want index use %v", tc.name, text, tc.indexed)
		}
	}
}
