// Package other declares types that the golden input imports.
package other

// Level is an integer enum.
type Level int

// Role is a string enum.
type Role string

// Point is a struct from another package.
type Point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// level is not exported: the generated code cannot name it.
type level int

// Wrapper has a field of an unexported type.
type Wrapper struct {
	L    level  `json:"l"`
	Note string `json:"note"`
}

// NewWrapper returns a Wrapper at level l.
func NewWrapper(l int) Wrapper { return Wrapper{L: level(l)} }
