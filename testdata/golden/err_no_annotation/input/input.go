// Package errnoannotation has nothing to generate.
package errnoannotation

//go:generate go run github.com/dotdo/events/cmd/eventsgen

// User has no //events:collection directive.
type User struct {
	Name string `json:"name"`
}
