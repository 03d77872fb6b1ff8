package errcomplex

// Signal has complex numbers.
//
//events:collection
type Signal struct {
	C64     complex64    `json:"c64"`
	C128    complex128   `json:"c128"`
	Samples []complex128 `json:"samples"`
}
