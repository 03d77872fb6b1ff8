package cdc

import (
	"fmt"

	"github.com/dotdo/events/internal/wire"
)

// maxDepth is the deepest nesting of arrays and objects a document may have,
// the outermost one counting 1. It is SQLite's JSON_MAX_DEPTH: its JSON
// functions (every filter, order and index reads documents through them)
// refuse anything deeper as "malformed JSON", and encoding/json reads up to
// 10,000. Refusing it at the write keeps a collection from holding a
// document that breaks every Find and Count on it.
const maxDepth = 1000

// checkDepth returns an ErrEncode error when the JSON text raw nests deeper
// than maxDepth. raw must be valid JSON (json.Marshal's output or checked).
func checkDepth(raw []byte, what func() string) error {
	if len(raw) <= 2*maxDepth {
		return nil // each level takes two bytes at least: not deep enough
	}
	depth, deepest := 0, 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			end, err := wire.StringEnd(raw, i) // valid JSON: it ends
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrEncode, what(), err)
			}
			i = end - 1
		case '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ']', '}':
			depth--
		}
	}
	if deepest > maxDepth {
		return fmt.Errorf("%w: %s nests %d levels deep; at most %d are kept (SQLite's JSON depth limit)", ErrEncode, what(), deepest, maxDepth)
	}
	return nil
}
