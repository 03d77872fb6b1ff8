// Package regenerate already has an outdated generated file, and code that
// uses the generated names: neither stops the generator.
package regenerate

// Thing is a collection.
//
//events:collection
type Thing struct {
	Name string `json:"name"`
}

// ByName finds things by name, with a generated field.
var ByName = ThingWhere.Name
