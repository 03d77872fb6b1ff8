package kafkasink_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/emitter/kafkasink"
)

// A store's emitter delivers its changes to a Kafka topic; a consumer
// reads the topic, skips re-sent copies by the events-id header and
// decodes each change event into a typed changelog.Change.
func Example() {
	ctx := context.Background()
	// An in-process Kafka for the example; use your brokers' addresses.
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "store-events"))
	if err != nil {
		panic(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	dir, err := os.MkdirTemp("", "kafkasink-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	// Producer: the store's emitter with the Kafka sink.
	type User struct {
		Name string `json:"name"`
	}
	store, err := cdc.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		panic(err)
	}
	defer store.Close()
	producer, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		panic(err)
	}
	defer producer.Close()
	sink, err := kafkasink.New(producer, "store-events")
	if err != nil {
		panic(err)
	}
	em, err := emitter.New(store, emitter.Options{CDC: true, Sinks: []emitter.Sink{sink}})
	if err != nil {
		panic(err)
	}
	users, err := cdc.NewCollection[User](store, "users")
	if err != nil {
		panic(err)
	}
	_ = users.Put(ctx, "u1", User{Name: "Ann"})
	_ = users.Put(ctx, "u1", User{Name: "Ann Lee"})
	if err := em.Close(ctx); err != nil { // delivers what waits
		panic(err)
	}

	// Consumer: any Kafka client; here franz-go.
	consumer, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics("store-events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())) // or kgo.ConsumerGroup("...")
	if err != nil {
		panic(err)
	}
	defer consumer.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	seen := map[string]bool{} // event ids already handled
	for handled := 0; handled < 2 && ctx.Err() == nil; {
		consumer.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var id string
			for _, h := range r.Headers {
				if h.Key == kafkasink.HeaderID {
					id = string(h.Value)
				}
			}
			if seen[id] {
				return // a copy re-sent after a crash
			}
			seen[id] = true
			ev, err := events.DecodeEvent(r.Value)
			if err != nil {
				panic(err)
			}
			raw, isChange, err := changelog.ChangeOfEvent(ev)
			if err != nil {
				panic(err)
			}
			if !isChange {
				return // a custom event
			}
			ch, err := changelog.DecodeChange[User](raw)
			if err != nil {
				panic(err)
			}
			fmt.Println(ch.Op, ch.Collection, ch.DocID, ch.Doc.Name, string(r.Key) == em.StoreID())
			handled++
		})
	}
	// Output:
	// insert users u1 Ann true
	// update users u1 Ann Lee true
}
