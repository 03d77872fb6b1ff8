// Package embedded has embedded structs, promoted like encoding/json does.
package embedded

import "time"

// Base is embedded by value.
type Base struct {
	ID      string    `json:"id" events:"index"`
	Created time.Time `json:"created"`
	Note    string    `json:"note"`
}

// Audit is embedded through a pointer.
type Audit struct {
	By string `json:"by"`
}

// hidden is an unexported struct: its exported fields are still promoted.
type hidden struct {
	Secret string `json:"secret"`
}

// Role is a named non-struct type, embedded: a field named Role.
type Role string

// Tagged is embedded with a json name: it is a nested member, not promoted.
type Tagged struct {
	Value int `json:"value"`
}

// Doc embeds all of them.
//
//events:collection
type Doc struct {
	Base
	*Audit
	hidden
	Role
	Tagged `json:"tagged"`
	// Note shadows Base.Note: the shallower field wins, as in encoding/json.
	Note  string `json:"note"`
	Title string `json:"title"`
}
