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
