package query

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dotdo/events"
)

// The stores of the fixture lake.
var (
	room1 = events.Identity{ID: "room-1", Name: "general", Class: "ChatRoom", Colo: "AMS", Worker: "chat"}
	room2 = events.Identity{ID: "room-2", Class: "ChatRoom", Colo: "SJC"}
	users = events.Identity{ID: "users-1", Class: "UserService", Colo: "AMS"}
	// dated has no class, and an id DuckDB would infer as a DATE.
	dated = events.Identity{ID: "2025-01-01"}
	// odd's id needs percent-encoding in keys and quoting in SQL.
	odd = events.Identity{ID: "odd_id/ü'", Class: "Odd's"}
)

// at parses a UTC wire time.
func at(s string) time.Time {
	t, err := time.Parse(events.TimeLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// fixtureEvent is one event of the fixture lake: its store and the event,
// whose ID (e01, e02...) names it in expected results.
type fixtureEvent struct {
	store events.Identity
	ev    events.Event
}

// bm is a 20-digit bookmark, as the runtime writes them.
func bm(n int) string { return fmt.Sprintf("%020d", n) }

// fixtureEvents spans hour, day, month and year boundaries, five stores of
// three classes (and one without a class), every kind of event the runtime
// writes and a custom one. The comments say why each is there.
func fixtureEvents() []fixtureEvent {
	rpc := func(id string, ts string, method string, dur float64, ok bool) events.RPCCall {
		c := events.RPCCall{ID: id, TS: at(ts), Method: method, DurationMs: dur, Success: ok}
		if !ok {
			c.Error = "timeout"
		}
		return c
	}
	change := func(id, typ, ts, coll, doc string, n int, body, prev string) events.CollectionChange {
		c := events.CollectionChange{ID: id, Type: typ, TS: at(ts), Collection: coll, DocID: doc, Bookmark: bm(n)}
		if body != "" {
			c.Doc = json.RawMessage(body)
		}
		if prev != "" {
			c.Prev = json.RawMessage(prev)
		}
		return c
	}
	const (
		ins = events.TypeCollectionInsert
		upd = events.TypeCollectionUpdate
		del = events.TypeCollectionDelete
	)
	three, six := 3, 6
	return []fixtureEvent{
		// January 2024: the upstream README's Build window.
		{room1, rpc("e01", "2024-01-15T14:40:00.000Z", "sendMessage", 10, true)},
		{room1, rpc("e02", "2024-01-15T14:59:59.999Z", "sendMessage", 30, false)}, // last ms of an hour
		{room2, rpc("e03", "2024-01-15T15:00:00.000Z", "sendMessage", 20, true)},  // first ms of the next
		{room2, rpc("e04", "2024-01-31T00:00:00.000Z", "join", 5, true)},          // exactly the README's End
		{room1, rpc("e05", "2024-01-31T00:00:00.001Z", "join", 7, true)},          // just after it
		{users, rpc("e06", "2024-01-20T08:00:00.000Z", "getUser", 3, true)},       // another class
		{room1, change("e07", ins, "2024-01-15T14:41:00.000Z", "messages", "m1", 1, `{"text":"hi"}`, "")},
		{room1, rpc("e08", "2023-12-31T23:59:59.999Z", "sendMessage", 100, true)}, // just before Start
		{room1, rpc("e09", "2024-01-01T00:00:00.000Z", "sendMessage", 40, true)},  // exactly Start
		// A month boundary, a leap day.
		{room2, rpc("e10", "2024-02-01T00:00:00.000Z", "leave", 1, true)},
		{users, change("e11", ins, "2024-02-29T12:00:00.000Z", "users", "user-123", 1, `{"name":"Ann","role":"user"}`, "")},
		// The year boundary: one document's history across it.
		{users, change("e12", upd, "2024-12-31T23:59:59.999Z", "users", "user-123", 2, `{"name":"Ann","role":"admin"}`, `{"name":"Ann","role":"user"}`)},
		{users, change("e13", upd, "2025-01-01T00:00:00.000Z", "users", "user-123", 3, `{"name":"Ann B","role":"admin"}`, `{"name":"Ann","role":"admin"}`)},
		{users, change("e14", upd, "2025-01-01T00:00:00.000Z", "users", "user-123", 4, `{"name":"Ann C","role":"admin"}`, `{"name":"Ann B","role":"admin"}`)}, // same ms: bookmark decides
		{users, change("e15", ins, "2025-01-01T00:30:00.000Z", "users", "user-456", 5, `{"name":"Bob","role":"user"}`, "")},
		{users, change("e16", del, "2025-01-01T01:00:00.000Z", "users", "user-123", 6, "", `{"name":"Ann C","role":"admin"}`)},
		{users, change("e17", ins, "2025-01-01T01:05:00.000Z", "sessions", "user-123", 7, `{"active":true}`, "")},       // same id, other collection
		{room1, change("e18", ins, "2025-01-01T00:15:00.000Z", "users", "user-123", 2, `{"name":"Ann in room-1"}`, "")}, // same doc, other store
		{dated, change("e19", ins, "2025-01-01T02:00:00.000Z", "users", "2025-01-01", 1, `{"name":"Date-like"}`, "")},   // date-like docId
		{dated, events.Lifecycle{ID: "e20", Type: events.TypeDOCreate, TS: at("2025-01-01T02:00:00.000Z"), Reason: "boot"}},
		{odd, rpc("e21", "2025-01-01T03:00:00.000Z", "sendMessage", 50, false)},
		{odd, events.Custom{ID: "e22", Type: "user.action", TS: at("2025-01-01T03:10:00.000Z"), Fields: map[string]any{
			"filename": "x.txt", "code": "not-a-number", "userId": "u-9", "extra": map[string]any{"a": 1},
		}}}, // a field named filename, a code of the wrong type
		{room2, events.WebSocket{ID: "e23", Type: events.TypeWSConnect, TS: at("2025-01-02T10:00:00.000Z"), ConnectionCount: &three, Code: &six}},
		{users, events.RPCCall{ID: "e24", TS: at("2025-01-02T10:00:00.000Z"), Method: "getUser", Namespace: "admin", DurationMs: 9, Success: true}},
		{room1, rpc("e25", "2025-01-02T10:00:00.000Z", "sendMessage", 60, true)}, // same ts as e23, e24
	}
}

// writeFixture writes the fixture to a new lake folder, each store's events
// in two batches (so some hours hold several objects of one store), and
// returns the folder and the events' JSON by id.
func writeFixture(tb testing.TB) (string, map[string]map[string]any) {
	tb.Helper()
	dir := tb.TempDir()
	byStore := map[string][]events.Event{}
	stores := map[string]events.Identity{}
	var order []string
	wire := map[string]map[string]any{}
	for _, fe := range fixtureEvents() {
		if _, ok := stores[fe.store.ID]; !ok {
			order = append(order, fe.store.ID)
		}
		stores[fe.store.ID] = fe.store
		byStore[fe.store.ID] = append(byStore[fe.store.ID], fe.ev)
		js, err := fe.ev.AppendJSON(nil, events.Envelope{DO: fe.store})
		if err != nil {
			tb.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(js, &m); err != nil {
			tb.Fatal(err)
		}
		wire[m["id"].(string)] = m
	}
	for _, id := range order {
		evs := byStore[id]
		half := len(evs) / 2
		writeBatch(tb, dir, stores[id], 1, evs[:half]...)
		writeBatch(tb, dir, stores[id], uint64(1+half), evs[half:]...)
	}
	return dir, wire
}
