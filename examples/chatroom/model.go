package main

//go:generate go tool eventsgen

import "time"

// Role says what a user may do in the room.
type Role string

// The roles of a chat room.
const (
	RoleAdmin Role = "admin"
	RoleUser  Role = "user"
)

// User is a member of the chat room, stored in the "users" collection.
//
//events:collection users
type User struct {
	Name   string    `json:"name"`
	Email  string    `json:"email" events:"index"`
	Role   Role      `json:"role"`
	Active bool      `json:"active"`
	Joined time.Time `json:"joined"`
}

// Message is one chat message, stored in the "messages" collection.
//
//events:collection messages
type Message struct {
	UserID string    `json:"userId" events:"index"`
	Text   string    `json:"text"`
	Sent   time.Time `json:"sent" events:"index"`
	Edited bool      `json:"edited,omitempty"`
}
