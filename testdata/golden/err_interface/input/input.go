package errinterface

import (
	"encoding/json"
	"io"
)

// Blob has interface fields with methods: encoding/json cannot decode into
// them. (any, interface{} and map[string]any are fine: see the anyjson case.)
//
//events:collection
type Blob struct {
	Err       error          `json:"err"`
	Reader    io.Reader      `json:"reader"`
	Marshaler json.Marshaler `json:"marshaler"`
	Readers   []io.Reader    `json:"readers"`
	Fine      io.Reader      `json:"fine" events:"-"`
	Any       any            `json:"any"`
}
