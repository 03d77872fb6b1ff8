package users_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/dotdo/events/examples/users"
	"github.com/dotdo/events/runtime/cdc"
)

// The generated collection, its typed filters and its typed changes.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "users-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := cdc.Open(ctx, filepath.Join(dir, "db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	people, err := users.NewUserCollection(store)
	if err != nil {
		log.Fatal(err)
	}
	if err := people.Put(ctx, "u1", users.User{Name: "Ann", Email: "ann@example.com", Role: users.RoleAdmin, Active: true}); err != nil {
		log.Fatal(err)
	}
	admins, err := people.Find(ctx, cdc.And(users.UserWhere.Active.Eq(true), users.UserWhere.Role.In(users.RoleAdmin, users.RoleOwner)),
		cdc.FindOptions{OrderBy: []cdc.Order{users.UserWhere.Name.Asc()}})
	if err != nil {
		log.Fatal(err)
	}
	changes, err := people.Changes(ctx, "", 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(admins[0].Name, changes[0].Op, changes[0].Doc.Email)
	// Output: Ann insert ann@example.com
}

// A typed watcher: every change of the collection after a bookmark, then
// each new one as it commits, until ctx ends. WatchAs("name") is the
// durable kind: it resumes where it stopped, and the log keeps what it has
// not seen.
func ExampleUserCollection_watch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "users-watch")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := cdc.Open(ctx, filepath.Join(dir, "db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	people, err := users.NewUserCollection(store)
	if err != nil {
		log.Fatal(err)
	}
	if err := people.Put(ctx, "u1", users.User{Name: "Ann", Role: users.RoleMember}); err != nil {
		log.Fatal(err)
	}
	go func() {
		// Written while the loop below waits: it wakes at the commit.
		_ = people.Put(ctx, "u1", users.User{Name: "Ann", Role: users.RoleOwner})
		_, _ = people.Delete(ctx, "u1")
	}()
	n := 0
	for change, err := range people.Watch(ctx, "") { // change is a users.UserChange
		if err != nil {
			log.Fatal(err)
		}
		switch change.Op {
		case cdc.OpDelete:
			fmt.Println(change.Op, change.DocID, "was", change.Prev.Role)
		default:
			fmt.Println(change.Op, change.DocID, change.Doc.Name, change.Doc.Role)
		}
		if n++; n == 3 {
			break
		}
	}
	// Output:
	// insert u1 Ann member
	// update u1 Ann owner
	// delete u1 was owner
}
