package errcollision

// User collides with a declaration of the package.
//
//events:collection
type User struct {
	Address Address `json:"address"`
}

// UserChange is declared by hand.
type UserChange struct{}

// Address is nested.
type Address struct {
	City string `json:"city"`
}

// UserAddress would generate UserAddressFields, like User's Address.
//
//events:collection
type UserAddress struct {
	City string `json:"city"`
}
