package errindexcontainer

import "encoding/json"

// Post tags values whose JSON is an array, an object or any value with
// events:"index": an index would hold the whole value, not its elements.
//
//events:collection
type Post struct {
	Tags   []string          `json:"tags" events:"index"`
	Scores [3]int            `json:"scores" events:"index"`
	Attrs  map[string]string `json:"attrs" events:"index"`
	Extra  any               `json:"extra" events:"index"`
	// These index fine: a string, a base64 string, a number, raw JSON.
	Title string          `json:"title" events:"index"`
	Blob  []byte          `json:"blob" events:"index"`
	Rank  *int            `json:"rank" events:"index"`
	Raw   json.RawMessage `json:"raw" events:"index"`
}
