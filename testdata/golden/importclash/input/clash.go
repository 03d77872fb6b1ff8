// Package importclash declares names the generated file imports.
package importclash

import "time"

// cdc is also the name of the runtime package.
var cdc = "not the runtime"

// context is also a standard package's name.
const context = 1

// query is also the name of the lake query package.
var query = "not the query package"

// Use keeps the declarations used.
func Use() (string, int, string) { return cdc, context, query }

// Event is a collection whose generated file must alias its imports.
//
//events:collection
type Event struct {
	At time.Time `json:"at"`
}
