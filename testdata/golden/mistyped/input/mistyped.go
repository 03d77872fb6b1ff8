// Package mistyped proves that the generated fields take arguments of the
// field's type: misuse/misuse.go, added to this package, must not compile.
package mistyped

import (
	"time"

	"github.com/dotdo/events/runtime/cdc"
)

// Role is a string enum.
type Role string

// RoleAdmin is a Role.
const RoleAdmin Role = "admin"

// Address is a nested struct.
type Address struct {
	City string `json:"city"`
}

// User has a field of each predicate family.
//
//events:collection users
type User struct {
	Active  bool      `json:"active"`
	Age     int       `json:"age"`
	Role    Role      `json:"role"`
	Joined  time.Time `json:"joined"`
	Address Address   `json:"address"`
}

// Filters is the well-typed control: it compiles (TestGoldenCompiles).
var Filters = []cdc.Filter{
	UserWhere.Active.Eq(true),
	UserWhere.Age.Gt(3),
	UserWhere.Role.In(RoleAdmin),
	UserWhere.Joined.Lt(time.Now()),
	UserWhere.Address.City.HasPrefix("O"),
}
