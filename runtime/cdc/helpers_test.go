package cdc_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
)

// User is the document most tests store.
type User struct {
	Name    string     `json:"name"`
	Email   string     `json:"email"`
	Role    Role       `json:"role"`
	Active  bool       `json:"active"`
	Age     int        `json:"age"`
	Score   float64    `json:"score,omitempty"`
	Joined  time.Time  `json:"joined"`
	Tags    []string   `json:"tags,omitempty"`
	Address Address    `json:"address"`
	Nick    *string    `json:"nick,omitempty"`
	Seen    *time.Time `json:"seen,omitempty"`
}

// Address is a nested document.
type Address struct {
	City string `json:"city"`
}

// Role is a string enum.
type Role string

// fields are the typed fields of User, as generated code would declare them.
var (
	fName   = cdc.NewStringField[string]("name")
	fEmail  = cdc.NewStringField[string]("email")
	fRole   = cdc.NewStringField[Role]("role")
	fActive = cdc.NewField[bool]("active")
	fAge    = cdc.NewOrderedField[int]("age")
	fScore  = cdc.NewOrderedField[float64]("score")
	fJoined = cdc.NewTimeField("joined")
	fTags   = cdc.NewField[[]string]("tags")
	fCity   = cdc.NewStringField[string]("address", "city")
	fNick   = cdc.NewStringField[string]("nick")
)

func openStore(t testing.TB) *cdc.Store {
	t.Helper()
	s, err := cdc.Open(context.Background(), filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newUsers(t testing.TB, s *cdc.Store) *cdc.Collection[User] {
	t.Helper()
	c, err := cdc.NewCollection[User](s, "users", cdc.WithIndex(fEmail, fJoined))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// changeCount counts every row of the store's change log.
func changeCount(t testing.TB, s *cdc.Store) int {
	t.Helper()
	var n int
	if err := cdcx.Store(s).QueryRowContext(context.Background(), `SELECT count(*) FROM cdc_changes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
