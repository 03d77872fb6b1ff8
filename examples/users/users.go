// Package users is a small example of eventsgen: annotated User and Team
// types, and the typed collections generated for them in events_gen.go.
package users

//go:generate go tool eventsgen

import "time"

// Role says what a user may do.
type Role string

// The roles.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Address is where a user lives.
type Address struct {
	Street  string `json:"street,omitempty"`
	City    string `json:"city"`
	Country string `json:"country" events:"index"`
}

// User is stored in the "users" collection.
//
//events:collection users
type User struct {
	Name    string    `json:"name"`
	Email   string    `json:"email" events:"index"`
	Role    Role      `json:"role"`
	Active  bool      `json:"active"`
	Age     int       `json:"age,omitempty"`
	Joined  time.Time `json:"joined" events:"index"`
	Tags    []string  `json:"tags,omitempty"`
	Address Address   `json:"address"`
	Manager *string   `json:"manager,omitempty"`
}

// Team is a group of users, stored in the "teams" collection.
//
//events:collection
type Team struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}
