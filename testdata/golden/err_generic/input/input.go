package errgeneric

// Box is generic.
//
//events:collection
type Box[T any] struct {
	Value T `json:"value"`
}
