package errinterface

import (
	"encoding/json"
	"io"
)

// Blob has interface fields.
//
//events:collection
type Blob struct {
	Any       any            `json:"any"`
	Empty     interface{}    `json:"empty"`
	Err       error          `json:"err"`
	Reader    io.Reader      `json:"reader"`
	Marshaler json.Marshaler `json:"marshaler"`
	Values    map[string]any `json:"values"`
	Fine      any            `json:"fine" events:"-"`
}
