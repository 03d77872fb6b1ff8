package errinvalidname

// Digit starts with a digit.
//
//events:collection 9lives
type Digit struct {
	X int `json:"x"`
}

// Dotted has a dot.
//
//events:collection bad.name
type Dotted struct {
	X int `json:"x"`
}

// Long is 129 characters.
//
//events:collection aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
type Long struct {
	X int `json:"x"`
}

// Unicode has a non-ASCII letter.
//
//events:collection café
type Unicode struct {
	X int `json:"x"`
}

// Dash starts with a dash.
//
//events:collection -dash
type Dash struct {
	X int `json:"x"`
}
