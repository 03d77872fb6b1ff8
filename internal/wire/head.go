package wire

import (
	"encoding/json"
	"time"
)

// Head is what the readers of a stored event (the lake's, a redrive) need
// of it without decoding it whole.
type Head struct {
	ID       string    // "id"; empty for an event stored without one
	Type     string    // "type"
	Store    string    // "do"."id"
	Bookmark string    // "bookmark"; empty for a custom event
	TS       time.Time // "ts", UTC
}

// ParseHead reads the head of one event's JSON. An error (malformed JSON,
// a "ts" that is not a time) comes with what could be read.
func ParseHead(js []byte) (Head, error) {
	var h struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		TS       string `json:"ts"`
		Bookmark string `json:"bookmark"`
		DO       struct {
			ID string `json:"id"`
		} `json:"do"`
	}
	if err := json.Unmarshal(js, &h); err != nil {
		return Head{ID: h.ID, Type: h.Type, Store: h.DO.ID, Bookmark: h.Bookmark}, err
	}
	ts, err := ParseTime(h.TS)
	return Head{ID: h.ID, Type: h.Type, Store: h.DO.ID, Bookmark: h.Bookmark, TS: ts}, err
}
