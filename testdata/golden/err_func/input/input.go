package errfunc

// Step is an element type with a function inside.
type Step struct {
	Name string `json:"name"`
	Run  func() `json:"run"`
}

// Hidden keeps its function out of the filters but not out of the document.
type Hidden struct {
	Name string `json:"name"`
	Run  func() `json:"run" events:"-"`
}

// Job has functions, directly and deep inside.
//
//events:collection
type Job struct {
	Callback func(int) error `json:"callback"`
	Steps    []Step          `json:"steps"`
	ByName   map[string]Step `json:"by_name"`
	// encoding/json fails on a func field even when it is nil: events:"-"
	// does not make it storable.
	Skipped func()   `json:"skipped" events:"-"`
	Nested  Hidden   `json:"nested"`
	Chans   chan int `json:"-"` // left out of the document: fine
}
