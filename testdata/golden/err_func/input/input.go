package errfunc

// Step is an element type with a function inside.
type Step struct {
	Name string `json:"name"`
	Run  func() `json:"run"`
}

// Job has functions, directly and deep inside.
//
//events:collection
type Job struct {
	Callback func(int) error `json:"callback"`
	Steps    []Step          `json:"steps"`
	ByName   map[string]Step `json:"by_name"`
}
