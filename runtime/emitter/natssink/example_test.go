package natssink_test

import (
	"context"
	"log"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/emitter/natssink"
)

// The producer: a stream capturing "events.>" that remembers ids for two
// minutes, and an emitter shipping a store's changes and custom events to it.
func Example() {
	ctx := context.Background()
	nc, err := nats.Connect("nats://127.0.0.1:4222", nats.MaxReconnects(-1))
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       "EVENTS",
		Subjects:   []string{"events.>"},
		Storage:    jetstream.FileStorage,
		Duplicates: 2 * time.Minute, // Nats-Msg-Id de-duplication window, at least 2 minutes
	}); err != nil {
		log.Fatal(err)
	}
	sink, err := natssink.New(js, "events") // subjects events.{store}.{type}
	if err != nil {
		log.Fatal(err) // ErrNoStream, ErrDuplicateWindow, emitter.ErrInvalidOptions
	}

	store, err := cdc.Open(ctx, "app.db")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	em, err := emitter.New(store, emitter.Options{CDC: true, TrackPrevious: true, Sinks: []emitter.Sink{sink}})
	if err != nil {
		log.Fatal(err)
	}
	defer em.Close(ctx)
	go em.Run(ctx)

	type User struct {
		Name string `json:"name"`
	}
	users, err := cdc.NewCollection[User](store, "users")
	if err != nil {
		log.Fatal(err)
	}
	_ = users.Put(ctx, "u1", User{Name: "Ann"}) // published as events.{store}.collection%2Einsert
	_ = em.Emit(events.Custom{Type: "user.registered", Fields: map[string]any{"userId": "u1"}})
}

// The consumer: a durable JetStream consumer that turns the users
// collection's change events back into typed changes.
func Example_consumer() {
	ctx := context.Background()
	nc, err := nats.Connect("nats://127.0.0.1:4222")
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "EVENTS", jetstream.ConsumerConfig{
		Durable:       "user-mirror",
		FilterSubject: "events.>", // one store: "events." + natssink.Token(storeID) + ".>"
		AckPolicy:     jetstream.AckExplicitPolicy,
	})
	if err != nil {
		log.Fatal(err)
	}
	type User struct {
		Name string `json:"name"`
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		store, _, err := natssink.ParseSubject("events", msg.Subject())
		if err != nil {
			_ = msg.Term() // not the sink's
			return
		}
		ev, err := events.DecodeEvent(msg.Data())
		if err != nil {
			_ = msg.Term()
			return
		}
		raw, isChange, err := changelog.ChangeOfEvent(ev)
		if err != nil {
			_ = msg.Term()
			return
		}
		if !isChange || raw.Collection != "users" { // a custom event or another collection
			_ = msg.Ack()
			return
		}
		ch, err := changelog.DecodeChange[User](raw)
		if err != nil {
			_ = msg.Term()
			return
		}
		// ch.Doc (insert, update) and ch.Prev (update, delete; with
		// TrackPrevious) are *User. The event id (the Nats-Msg-Id
		// header) is the key to de-duplicate by.
		switch ch.Op {
		case changelog.OpInsert, changelog.OpUpdate:
			log.Printf("store %s: user %s is now %q (bookmark %s)", store, ch.DocID, ch.Doc.Name, ch.Bookmark)
		case changelog.OpDelete:
			log.Printf("store %s: user %s deleted", store, ch.DocID)
		}
		_ = msg.Ack()
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cc.Stop()
	<-ctx.Done()
}
