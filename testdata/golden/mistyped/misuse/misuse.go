package mistyped

import "github.com/dotdo/events/runtime/cdc"

// Mistyped holds filters whose arguments or predicates do not fit the field.
var Mistyped = []cdc.Filter{
	UserWhere.Active.Eq("yes"),
	UserWhere.Age.Gt("3"),
	UserWhere.Role.In("admin", 3),
	UserWhere.Joined.Lt("2024-01-01"),
	UserWhere.Active.Gt(true),
	UserWhere.Age.Contains(3),
}
