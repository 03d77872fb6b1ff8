package errnotours

// Doc is fine, but events_gen.go is not the generator's.
//
//events:collection
type Doc struct {
	Name string `json:"name"`
}
