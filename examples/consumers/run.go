package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/emitter/kafkasink"
	"github.com/dotdo/events/runtime/emitter/natssink"
)

// Order is a document of the "orders" collection.
type Order struct {
	Customer string `json:"customer"`
	Total    int    `json:"total"`
	Status   string `json:"status"`
}

// wait bounds how long a consumer waits for this run's changes.
const wait = 30 * time.Second

// tally counts a consumer's changes by op.
type tally map[cdc.Op]int

func (t tally) String() string {
	return fmt.Sprintf("%d changes: %d inserts, %d updates, %d deletes",
		t[cdc.OpInsert]+t[cdc.OpUpdate]+t[cdc.OpDelete], t[cdc.OpInsert], t[cdc.OpUpdate], t[cdc.OpDelete])
}

// run writes cfg.Orders orders (each inserted, paid, one in four deleted)
// and prints what each consumer saw of them.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.Orders < 1 {
		return errors.New("need at least one order")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return err
	}
	kafkaAddr, stopKafka, err := startKafka()
	if err != nil {
		return err
	}
	defer stopKafka()
	js, stopNATS, err := startNATS(ctx, cfg.Dir)
	if err != nil {
		return err
	}
	defer stopNATS()

	store, err := cdc.Open(ctx, filepath.Join(cfg.Dir, "shop.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	orders, err := cdc.NewCollection[Order](store, "orders")
	if err != nil {
		return err
	}
	producer, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr))
	if err != nil {
		return err
	}
	defer producer.Close()
	toKafka, err := kafkasink.New(producer, topic)
	if err != nil {
		return err
	}
	toNATS, err := natssink.New(js, subjects)
	if err != nil {
		return err
	}
	em, err := emitter.New(store, emitter.Options{CDC: true, TrackPrevious: true,
		Sinks:         []emitter.Sink{toKafka, toNATS},
		Identity:      events.Identity{ID: "shop-1", Class: "Shop"},
		FlushInterval: 50 * time.Millisecond})
	if err != nil {
		return err
	}
	defer em.Close(context.WithoutCancel(ctx))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go em.Run(runCtx)

	// A typed watcher of this run's changes, started before the writes.
	start, err := store.Bookmark(ctx)
	if err != nil {
		return err
	}
	want := 2*cfg.Orders + cfg.Orders/4
	watched := make(chan tally, 1)
	go func() {
		seen := tally{}
		wctx, cancel := context.WithTimeout(runCtx, wait)
		defer cancel()
		for ch, err := range orders.Watch(wctx, start) { // ch is a cdc.Change[Order]
			if err != nil {
				break
			}
			seen[ch.Op]++
			if seen[cdc.OpInsert]+seen[cdc.OpUpdate]+seen[cdc.OpDelete] == want {
				break
			}
		}
		watched <- seen
	}()

	// The writes: each order inserted, then paid; one in four deleted.
	run := time.Now().UnixMilli()
	for i := range cfg.Orders {
		id := fmt.Sprintf("o%d-%03d", run, i)
		if err := orders.Put(ctx, id, Order{Customer: fmt.Sprintf("c%d", i%5), Total: 10 * (i + 1), Status: "new"}); err != nil {
			return err
		}
	}
	for i := range cfg.Orders {
		id := fmt.Sprintf("o%d-%03d", run, i)
		if err := orders.Put(ctx, id, Order{Customer: fmt.Sprintf("c%d", i%5), Total: 10 * (i + 1), Status: "paid"}); err != nil {
			return err
		}
		if i%4 == 3 {
			if _, err := orders.Delete(ctx, id); err != nil {
				return err
			}
		}
	}
	last, err := store.Bookmark(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "store %s: %d orders written, changes after %s through %s\n",
		filepath.Join(cfg.Dir, "shop.db"), cfg.Orders, bookmarkOrStart(start), last)
	fmt.Fprintf(out, "watch (typed, in process): %s\n", <-watched)

	// A named, durable watcher: what it has not seen, this run or before.
	durable := tally{}
	paid := 0
	dctx, dcancel := context.WithTimeout(ctx, wait)
	defer dcancel()
	for ch, err := range orders.WatchAs(dctx, "shipping") {
		if err != nil {
			return fmt.Errorf("watcher shipping: %w", err)
		}
		durable[ch.Op]++
		if ch.Op == cdc.OpUpdate && ch.Doc.Status == "paid" {
			paid++ // ship it
		}
		if ch.Bookmark >= last {
			break
		}
	}
	fmt.Fprintf(out, "watch %q (durable, resumes where it stopped): %s new to it, %d orders to ship\n", "shipping", durable, paid)

	if err := em.Flush(ctx); err != nil {
		return err
	}
	kafka, err := readKafka(ctx, kafkaAddr, want)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "kafka topic %s: %s (key = store id, header events-id)\n", topic, kafka)
	nats, total, err := readNATS(ctx, js, start, want)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "nats stream %s: %s of this run, %d messages in all (subject %s.{store}.{type}, Nats-Msg-Id = event id)\n",
		streamName, nats, total, subjects)
	return nil
}

func bookmarkOrStart(b cdc.Bookmark) string {
	if b == "" {
		return "the start"
	}
	return string(b)
}

// readKafka reads the topic from its start (the broker lives as long as
// the run) until it has want distinct changes, decoding each record.
func readKafka(ctx context.Context, addr string, want int) (tally, error) {
	consumer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	seen, got := map[string]bool{}, tally{}
	for n := 0; n < want && ctx.Err() == nil; {
		consumer.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			ch, id, ok := decodeOrder(r.Value)
			if !ok || seen[id] {
				return // a custom event, another collection or a re-sent copy
			}
			seen[id] = true
			got[ch.Op]++
			n++
		})
	}
	return got, nil
}

// readNATS reads the stream from its start with an ordered consumer and
// counts the changes after start (earlier runs' are in the stream too).
func readNATS(ctx context.Context, js jetstream.JetStream, start cdc.Bookmark, want int) (tally, int, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, streamName, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subjects + ".>"}})
	if err != nil {
		return nil, 0, err
	}
	got, total := tally{}, 0
	for n := 0; n < want && ctx.Err() == nil; {
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, 0, err
		}
		for msg := range batch.Messages() {
			total++
			if _, _, err := natssink.ParseSubject(subjects, msg.Subject()); err != nil {
				continue // not the sink's
			}
			ch, _, ok := decodeOrder(msg.Data())
			if ok && ch.Bookmark > start {
				got[ch.Op]++
				n++
			}
		}
	}
	return got, total, nil
}

// decodeOrder decodes an event's JSON into a typed change of an order;
// ok is false for anything else.
func decodeOrder(data []byte) (ch changelog.Change[Order], id string, ok bool) {
	ev, err := events.DecodeEvent(data)
	if err != nil {
		return ch, "", false
	}
	raw, isChange, err := changelog.ChangeOfEvent(ev)
	if err != nil || !isChange || raw.Collection != "orders" {
		return ch, "", false
	}
	ch, err = changelog.DecodeChange[Order](raw)
	if err != nil {
		return ch, "", false
	}
	return ch, ev.(events.CollectionChange).ID, true
}
