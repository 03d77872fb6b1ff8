// Package changeevent turns a change-log row into the collection event this
// module's emitters and fleets ship for it: one home for what a change's
// event holds.
package changeevent

import (
	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/changelog"
)

// Of returns the event of change ch, with event id id: its type from the
// op, doc unless it is a delete, prev (for updates and deletes) only with
// trackPrevious.
func Of(ch changelog.RawChange, id string, trackPrevious bool) events.CollectionChange {
	ev := events.CollectionChange{
		Type:       ch.Op.EventType(),
		TS:         ch.TS,
		ID:         id,
		Collection: ch.Collection,
		DocID:      ch.DocID,
		Bookmark:   string(ch.Bookmark),
	}
	if ch.Op != changelog.OpDelete {
		ev.Doc = ch.Doc
	}
	if trackPrevious && ch.Op != changelog.OpInsert {
		ev.Prev = ch.Prev
	}
	return ev
}
