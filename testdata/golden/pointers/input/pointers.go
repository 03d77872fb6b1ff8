// Package pointers has pointer fields.
package pointers

import "time"

// Inner is pointed to.
type Inner struct {
	N int `json:"n"`
}

// Maybe has a pointer of each kind.
//
//events:collection maybes
type Maybe struct {
	S     *string    `json:"s,omitempty"`
	I     *int64     `json:"i,omitempty"`
	B     *bool      `json:"b,omitempty"`
	F     *float64   `json:"f,omitempty"`
	T     *time.Time `json:"t,omitempty"`
	In    *Inner     `json:"in,omitempty"`
	PP    **int      `json:"pp,omitempty"`
	Slice *[]string  `json:"slice,omitempty"`
	Map   *map[string]string
}
