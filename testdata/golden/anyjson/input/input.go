// Package anyjson has fields without a fixed JSON shape: they are stored as
// JSON, filtered with Eq, Ne, In, IsNull and NotNull, and typed JSON in the
// lake queries.
package anyjson

// Payload is a named empty interface.
type Payload any

// Meta is a nested struct with an any inside.
type Meta struct {
	Source string `json:"source"`
	Extra  any    `json:"extra,omitempty"`
}

// Event holds values of any shape.
//
//events:collection
type Event struct {
	Kind    string         `json:"kind" events:"index"`
	Value   any            `json:"value"`
	Empty   interface{}    `json:"empty"`
	Attrs   map[string]any `json:"attrs"`
	List    []any          `json:"list"`
	Maybe   *any           `json:"maybe,omitempty"`
	Payload Payload        `json:"payload"`
	Meta    Meta           `json:"meta"`
}
