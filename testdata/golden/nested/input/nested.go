// Package nested has structs inside structs.
package nested

// Geo is a position.
type Geo struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Address is where someone lives.
type Address struct {
	City    string `json:"city" events:"index"`
	Country string `json:"country"`
	Geo     Geo    `json:"geo"`
	Prev    *Geo   `json:"prev,omitempty"`
}

// Odd has a field named Field, which the fields type cannot also embed.
type Odd struct {
	Field string `json:"field"`
}

// User lives somewhere.
//
//events:collection
type User struct {
	Name    string   `json:"name"`
	Address Address  `json:"address"`
	Billing *Address `json:"billing,omitempty"`
	Odd     Odd      `json:"odd"`
	Meta    struct {
		Source string `json:"source"`
		Geo    Geo    `json:"geo"`
	} `json:"meta"`
}
