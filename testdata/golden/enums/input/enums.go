// Package enums has named types over basic kinds.
package enums

import "strings"

// Status is a string enum.
type Status string

// The statuses.
const (
	StatusOpen   Status = "open"
	StatusClosed Status = "closed"
)

// Priority is an integer enum.
type Priority int

// Weight is a float enum.
type Weight float32

// Flag is a bool type.
type Flag bool

// Code is a byte enum.
type Code uint8

// Color marshals itself as text: it is compared as a whole.
type Color int

// MarshalText spells the color.
func (c Color) MarshalText() ([]byte, error) { return []byte([]string{"red", "green"}[c%2]), nil }

// Shout has a MarshalText with a pointer receiver, which encoding/json uses
// only through a pointer.
type Shout string

// MarshalText upper-cases the text.
func (s *Shout) MarshalText() ([]byte, error) { return []byte(strings.ToUpper(string(*s))), nil }

// Ticket has enum fields.
//
//events:collection
type Ticket struct {
	Status    Status    `json:"status"`
	Priority  Priority  `json:"priority"`
	Weight    Weight    `json:"weight"`
	Flag      Flag      `json:"flag"`
	Code      Code      `json:"code"`
	Color     Color     `json:"color"`
	Shout     Shout     `json:"shout"`
	LoudShout *Shout    `json:"loud_shout"`
	Statuses  []Status  `json:"statuses"`
	Prev      *Status   `json:"prev,omitempty"`
	PrevPrio  *Priority `json:"prev_prio,omitempty"`
}
