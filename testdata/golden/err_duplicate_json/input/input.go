package errduplicatejson

// A is embedded.
type A struct {
	X string `json:"x"`
	K string `json:"k"`
}

// B is embedded next to A.
type B struct {
	X string `json:"x"`
	K string `json:"other_k"`
}

// Inner is nested.
type Inner struct {
	P int `json:"p"`
	Q int `json:"p"`
}

// Doc has fields that share a JSON name, or a Go name.
//
//events:collection
type Doc struct {
	Name  string `json:"name"`
	Title string `json:"name"`
	A
	B
	Inner Inner   `json:"inner"`
	Many  []Inner `json:"many"`
}
