// Package kinds has a field of every supported kind.
package kinds

import (
	"encoding/json"
	"net/netip"
	"time"
)

// Level is an integer enum.
type Level int

// Name is an alias of string.
type Name = string

// Pair is a generic struct.
type Pair[K comparable, V any] struct {
	Key   K `json:"key"`
	Value V `json:"value"`
}

// Node is a recursive type.
type Node struct {
	Label    string `json:"label"`
	Children []Node `json:"children,omitempty"`
	Parent   *Node  `json:"parent,omitempty"`
}

// Everything has a field of every supported kind.
//
//events:collection everything
type Everything struct {
	String  string  `json:"string"`
	Bool    bool    `json:"bool"`
	Int     int     `json:"int"`
	Int8    int8    `json:"int8"`
	Int16   int16   `json:"int16"`
	Int32   int32   `json:"int32"`
	Int64   int64   `json:"int64"`
	Uint    uint    `json:"uint"`
	Uint8   uint8   `json:"uint8"`
	Uint16  uint16  `json:"uint16"`
	Uint32  uint32  `json:"uint32"`
	Uint64  uint64  `json:"uint64"`
	Uintptr uintptr `json:"uintptr"`
	Float32 float32 `json:"float32"`
	Float64 float64 `json:"float64"`
	Byte    byte    `json:"byte"`
	Rune    rune    `json:"rune"`

	Time     time.Time       `json:"time"`
	Duration time.Duration   `json:"duration"`
	Raw      json.RawMessage `json:"raw,omitempty"`
	Addr     netip.Addr      `json:"addr"` // has MarshalText: compared as a whole
	Level    Level           `json:"level"`
	Alias    Name            `json:"alias"`

	Strings []string          `json:"strings"`
	Bytes   []byte            `json:"bytes"`
	Array   [3]int            `json:"array"`
	Map     map[string]int    `json:"map"`
	Nested  map[string][]bool `json:"nested_map"`
	Matrix  [][]float64       `json:"matrix"`
	Pairs   []Pair[string, int]
	Pair    Pair[string, Level] `json:"pair"`
	Tree    Node                `json:"tree"`
	Anon    struct {
		X int `json:"x"`
		Y int `json:"y,omitempty"`
	} `json:"anon"`
	AnonList []struct {
		Z string `json:"z"`
	} `json:"anon_list"`

	NoTag       string
	OnlyOptions string `json:",omitempty"`
	BadTagName  string `json:"bad\"name"`
	Dashed      string `json:"-,"`
	Skipped     string `json:"-"`
	Excluded    any    `json:"excluded" events:"-"`
	Indexed     string `json:"indexed" events:"index"`
	unexported  string
}

// use keeps unexported from being reported as unused.
func (e Everything) use() string { return e.unexported }

var _ = Everything.use
