package errnotstruct

// Role is not a struct.
//
//events:collection
type Role string

// IDs is not a struct either.
//
//events:collection ids
type IDs []string

// Fine is a struct.
//
//events:collection
type Fine struct {
	Role Role `json:"role"`
}

// Version is not a type.
//
//events:collection versions
var Version = 1

// Helper is a function.
//
//events:collection helpers
func Helper() {}
