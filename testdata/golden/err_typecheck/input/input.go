package errtypecheck

// Doc has a field whose type does not exist.
//
//events:collection
type Doc struct {
	Name    string  `json:"name"`
	Missing Nowhere `json:"missing"`
}
