// Package cdcx is the typed way for this module's packages to reach the
// plumbing of a cdc store (migrations of their own tables, SQL in a
// transaction, bookmark hooks, pruning) that is not public API.
package cdcx

import (
	"github.com/dotdo/events/internal/cdchook"
	"github.com/dotdo/events/runtime/cdc"
)

// Store returns the plumbing of s.
func Store(s *cdc.Store) cdchook.Store { return cdchook.Get().Store(s) }

// Tx returns the plumbing of t.
func Tx(t *cdc.Tx) cdchook.Tx { return cdchook.Get().Tx(t) }

// IDField is a field over the document id itself, for filters and orders
// by id (paging through a collection in id order).
func IDField() cdc.StringField[string] {
	return cdchook.Get().IDField().(cdc.StringField[string])
}

// Lean is the option of cdc.Open for a mostly idle store
// (cdchook.Hooks.Lean).
func Lean() cdc.Option { return cdchook.Get().Lean().(cdc.Option) }
