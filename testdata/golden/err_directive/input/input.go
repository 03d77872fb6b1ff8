package errdirective

// Typo misspells the directive.
//
//events:colection
type Typo struct {
	X int `json:"x"`
}

// TooMany has two names.
//
//events:collection one two
type TooMany struct {
	X int `json:"x"`
}

// Twice has two directives.
//
//events:collection twice
//events:collection twice_again
type Twice struct {
	X int `json:"x"`
}

//events:collection floating

// Fine is fine.
//
//events:collection
type Fine struct {
	X int `json:"x"`
}

// Spaced has a space after the slashes: Go does not take that for a
// directive, and neither does eventsgen.
//
// events:collection spaced
type Spaced struct {
	X int `json:"x"`
}

//	events:collection tabbed
