// Package errnoannotation has nothing to generate.
package errnoannotation

//go:generate go tool eventsgen

// User has no //events:collection directive.
type User struct {
	Name string `json:"name"`
}
