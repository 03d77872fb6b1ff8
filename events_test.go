package events_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events"
)

var ts = time.Date(2024, 1, 15, 14, 40, 0, 0, time.UTC)
var do = events.Identity{ID: "abc123", Name: "room-1", Class: "ChatRoom", Colo: "SJC", Worker: "chat"}

func intp(i int) *int { return &i }

func TestWireFormat(t *testing.T) {
	cases := []struct {
		name string
		ev   events.Event
		want string
	}{
		{"rpc.call", events.RPCCall{TS: ts, DO: do, Method: "sendMessage", Namespace: "chat", DurationMs: 12.5, Success: false, Error: "boom"},
			`{"type":"rpc.call","ts":"2024-01-15T14:40:00.000Z","do":{"id":"abc123","name":"room-1","class":"ChatRoom","colo":"SJC","worker":"chat"},"method":"sendMessage","namespace":"chat","durationMs":12.5,"success":false,"error":"boom"}`},
		{"collection.update", events.CollectionChange{Type: events.TypeCollectionUpdate, TS: ts, DO: events.Identity{ID: "abc123"}, ID: "e1",
			Collection: "users", DocID: "u1", Doc: json.RawMessage(`{"name":"Ann"}`), Prev: json.RawMessage(`{"name":"An"}`), Bookmark: "00000000000000000042"},
			`{"type":"collection.update","ts":"2024-01-15T14:40:00.000Z","do":{"id":"abc123"},"id":"e1","collection":"users","docId":"u1","doc":{"name":"Ann"},"prev":{"name":"An"},"bookmark":"00000000000000000042"}`},
		{"do.alarm", events.Lifecycle{Type: events.TypeDOAlarm, TS: ts, DO: events.Identity{ID: "x"}, Reason: "retry"},
			`{"type":"do.alarm","ts":"2024-01-15T14:40:00.000Z","do":{"id":"x"},"reason":"retry"}`},
		{"ws.close", events.WebSocket{Type: events.TypeWSClose, TS: ts, DO: events.Identity{ID: "x"}, ConnectionCount: intp(3), Code: intp(1000), Reason: "bye"},
			`{"type":"ws.close","ts":"2024-01-15T14:40:00.000Z","do":{"id":"x"},"connectionCount":3,"code":1000,"reason":"bye"}`},
		{"track", events.Client{Type: events.TypeTrack, TS: ts, DO: events.Identity{ID: "x"}, Event: "click", Properties: map[string]any{"b": 1, "a": "x"}, UserID: "u1", AnonymousID: "a1", SessionID: "s1"},
			`{"type":"track","ts":"2024-01-15T14:40:00.000Z","do":{"id":"x"},"event":"click","properties":{"a":"x","b":1},"userId":"u1","anonymousId":"a1","sessionId":"s1"}`},
		{"custom", events.Custom{Type: "user.action", TS: ts, DO: events.Identity{ID: "x"}, Fields: map[string]any{"userId": "123", "n": 2, "ok": true, "nested": map[string]any{"k": []int{1}}}},
			`{"type":"user.action","ts":"2024-01-15T14:40:00.000Z","do":{"id":"x"},"n":2,"nested":{"k":[1]},"ok":true,"userId":"123"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.ev.Validate(events.Envelope{}); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestEnvelopeFillsOnlyWhatIsMissing(t *testing.T) {
	env := events.Envelope{ID: "id-1", TS: ts, DO: events.Identity{ID: "store"}}
	got, err := events.Custom{Type: "x"}.AppendJSON(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"x","ts":"2024-01-15T14:40:00.000Z","do":{"id":"store"},"id":"id-1"}`; string(got) != want {
		t.Fatalf("got %s", got)
	}
	own := events.Custom{Type: "x", TS: ts.Add(time.Hour), DO: events.Identity{ID: "own"}, ID: "mine"}
	got, _ = own.AppendJSON(nil, env)
	if want := `{"type":"x","ts":"2024-01-15T15:40:00.000Z","do":{"id":"own"},"id":"mine"}`; string(got) != want {
		t.Fatalf("got %s", got)
	}
	// A time in another zone is written in UTC with milliseconds.
	la := time.FixedZone("PST", -8*3600)
	got, _ = events.RPCCall{TS: time.Date(2024, 1, 15, 6, 40, 0, 123456789, la), DO: do, Method: "m", Success: true}.AppendJSON(nil, events.Envelope{})
	if !strings.Contains(string(got), `"ts":"2024-01-15T14:40:00.123Z"`) {
		t.Fatalf("got %s", got)
	}
}

func TestBatchRoundTrip(t *testing.T) {
	batch := events.Batch{BatchID: "b-1", Events: []events.Event{
		events.RPCCall{Type: events.TypeRPCCall, TS: ts, DO: do, Method: "m", DurationMs: 3, Success: true},
		events.CollectionChange{Type: events.TypeCollectionInsert, TS: ts, DO: do, Collection: "users", DocID: "ü/'1", Doc: json.RawMessage(`{"a":1}`), Bookmark: "00000000000000000001"},
		events.CollectionChange{Type: events.TypeCollectionDelete, TS: ts, DO: do, Collection: "users", DocID: "u", Prev: json.RawMessage(`{"a":1}`), Bookmark: "00000000000000000002"},
		events.Lifecycle{Type: events.TypeDOCreate, TS: ts, DO: do},
		events.WebSocket{Type: events.TypeWSConnect, TS: ts, DO: do, ConnectionCount: intp(1)},
		events.Client{Type: events.TypeIdentify, TS: ts, DO: do, Traits: map[string]any{"plan": "pro", "seats": 3.0}, UserID: "u"},
		events.Custom{Type: "user.action", TS: ts, DO: do, ID: "e9", Fields: map[string]any{"line\nbreak": "quote\"d \u2028", "n": 1.5, "list": []any{"a", true}}},
	}}
	body, err := json.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(body) {
		t.Fatalf("invalid JSON: %s", body)
	}
	back, err := events.DecodeBatch(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, batch) {
		t.Fatalf("round trip changed the batch:\n got %#v\nwant %#v", back, batch)
	}
}

func TestInvalidEvents(t *testing.T) {
	cases := map[string]events.Event{
		"empty type":         events.Custom{TS: ts},
		"bad character":      events.Custom{Type: "user action", TS: ts},
		"too long":           events.Custom{Type: strings.Repeat("a", 129), TS: ts},
		"zero time":          events.Custom{Type: "x"},
		"reserved field":     events.Custom{Type: "x", TS: ts, Fields: map[string]any{"ts": 1}},
		"wrong kind type":    events.Lifecycle{Type: "do.sleep", TS: ts},
		"rpc without method": events.RPCCall{TS: ts},
		"rpc NaN":            events.RPCCall{TS: ts, Method: "m", DurationMs: math.NaN()},
		"change without doc": events.CollectionChange{Type: events.TypeCollectionInsert, TS: ts, Collection: "c"},
		"change bad json":    events.CollectionChange{Type: events.TypeCollectionInsert, TS: ts, Collection: "c", DocID: "d", Doc: json.RawMessage(`{`)},
		"client bad type":    events.Client{Type: "click", TS: ts},
		"ws bad type":        events.WebSocket{Type: "ws.open", TS: ts},
	}
	for name, ev := range cases {
		if err := ev.Validate(events.Envelope{}); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	if _, err := (events.Custom{Type: "x", TS: ts, Fields: map[string]any{"c": make(chan int)}}).AppendJSON(nil, events.Envelope{}); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("channel field: %v", err)
	}
	if _, err := (events.Custom{Type: "x", TS: ts, Fields: map[string]any{"f": math.Inf(1)}}).AppendJSON(nil, events.Envelope{}); !errors.Is(err, events.ErrInvalidEvent) {
		t.Errorf("infinite field: %v", err)
	}
	for _, body := range []string{`{`, `{"events":[{"type":"","ts":"2024-01-15T14:40:00.000Z"}]}`, `{"events":[{"type":"x","ts":"yesterday"}]}`, `{"events":[{"type":"x"}]}`} {
		if _, err := events.DecodeBatch([]byte(body)); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("DecodeBatch(%s) = %v", body, err)
		}
	}
}

// TestTimeFormatMatchesLayout checks the hand-written ts encoder against
// time.Format over awkward instants.
func TestTimeFormatMatchesLayout(t *testing.T) {
	instants := []time.Time{
		time.Date(2024, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 1_000_000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 5, 7, 50_000_000, time.FixedZone("X", -7*3600)),
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := range 1000 {
		instants = append(instants, time.Unix(int64(i)*7919*3601, int64(i)*1_234_567).UTC())
	}
	for _, ts := range instants {
		got, err := events.Custom{Type: "x", TS: ts}.AppendJSON(nil, events.Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		want := `"ts":"` + ts.UTC().Format(events.TimeLayout) + `"`
		if !strings.Contains(string(got), want) {
			t.Fatalf("%v: got %s, want %s", ts, got, want)
		}
	}
}
