// Package natssink is an emitter.Sink that publishes events to a NATS
// JetStream stream, for fanning a store's changes and events out to other
// services.
//
// # Setup
//
// Create a stream that captures "{prefix}.>" with a duplicate window of at
// least two minutes (NATS's default), then add the sink to an emitter or a
// fleet:
//
//	nc, _ := nats.Connect(url)
//	js, _ := jetstream.New(nc)
//	js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS",
//		Subjects: []string{"events.>"}, Duplicates: 2 * time.Minute})
//	sink, err := natssink.New(js, "events")
//	em, err := emitter.New(store, emitter.Options{CDC: true, Sinks: []emitter.Sink{sink}})
//
// New checks the stream: no stream capturing every subject under the
// prefix is ErrNoStream, a window shorter than 2 minutes (or than
// WithMinDuplicateWindow) is ErrDuplicateWindow. When the server does
// not answer, New succeeds and the check runs before the first Send.
//
// The sink publishes on js's connection (js.Conn()), with a reply
// subscription of its own for the acknowledgements. Give the connection
// unlimited reconnects (nats.MaxReconnects(-1)): while it is down, Send
// fails at once and the emitter retries with backoff.
//
// # Subjects
//
// Each event is published under "{prefix}.{store}.{type}": its store id
// (do.id) and its type (collection.insert, user.signup, ...), each made one
// subject token by Token. Printable ASCII stands for itself except '.',
// '*', '>' and '%'; those and every other byte (space, control characters,
// the bytes of non-ASCII UTF-8) become "%XX" with upper-case hex, and an
// empty string becomes "%". So store "acme.eu" with type "user.signup"
// goes to "events.acme%2Eeu.user%2Esignup". The scheme is reversible:
// ParseSubject gives the store id and type back. A consumer of one store
// filters on "events." + natssink.Token(storeID) + ".>", of one type on
// "events.*." + natssink.Token(typ).
//
// # Messages
//
// A message's data is the event's JSON, the same object the HTTP sink
// sends and the lake stores (for a change: type, id, ts, collection, docId,
// bookmark, doc, prev and do); its headers are Nats-Msg-Id (the event's
// id) and Events-Type (HeaderType, the event's type).
//
// # Delivery: once within the duplicate window
//
// The emitter keeps a cursor per sink and re-sends a batch until the
// server has acknowledged every event of it, with backoff while the server
// is down. Because Nats-Msg-Id is the event's id, the stream drops a
// re-sent event it stored within its duplicate window: after a timeout, a
// lost acknowledgement or a crash and restart of the emitter, the stream
// still holds each event once. A re-send later than the window after the
// first copy (a restart after a long stop, an outage that hit between the
// server storing an event and its acknowledgement and lasted longer than
// the window) is stored again; a consumer that must never see a duplicate
// keeps the ids it handled for longer. An event the server can never take
// (larger than its max payload or the stream's max message size) is
// rejected alone: the emitter dead-letters it and goes on.
//
// # Order
//
// One store's events of one type share a subject. The sink publishes a
// batch in order on one connection and returns only when every message is
// acknowledged, so while publishing succeeds the stream holds each store's
// events in batch order, across types too: a store's changes in bookmark
// order, its custom events in the order they were emitted. A connection
// lost in the middle of a batch stops the batch at once (nothing is queued
// behind the loss), but events already in flight after a lost one may be
// stored before it is stored by the retry. Changes carry their bookmark,
// which sorts in commit order, for consumers that must rule that out.
//
// # Consuming
//
// Any JetStream consumer reads the stream. Change events decode into
// events.CollectionChange (events.DecodeEvent), whose Doc and Prev are
// JSON: unmarshal them into the collection's document type, or turn the
// event into a changelog.RawChange and use changelog.DecodeChange for a
// typed changelog.Change. See the package example.
package natssink
