package errmarshaler

import "encoding/json"

// Custom encodes itself.
//
//events:collection
type Custom struct {
	Name string `json:"name"`
}

// MarshalJSON hides the shape.
func (c Custom) MarshalJSON() ([]byte, error) { return json.Marshal(c.Name) }
