// Package kafkasink delivers an emitter's or a fleet's events to a Kafka
// topic, through a franz-go client (github.com/twmb/franz-go/pkg/kgo).
//
//	cl, err := kgo.NewClient(kgo.SeedBrokers("localhost:9092"))
//	...
//	sink, err := kafkasink.New(cl, "store-events")
//	...
//	em, err := emitter.New(store, emitter.Options{CDC: true, Sinks: []emitter.Sink{sink}})
//
// The sink is one more emitter.Sink: like the HTTP and lake sinks it has,
// in each store, its own saved position, retry schedule and dead letters
// (named by Name, "kafka"; use Named for a second Kafka sink), and a
// Kafka outage never holds back or re-sends to another sink.
//
// # Records
//
// Each event is one record:
//
//   - key: the id of the store the event belongs to (its do.id), so the
//     default partitioner puts all of a store's events in one partition;
//   - value: the event's JSON, as the HTTP ingest and the lake get it
//     (events.DecodeEvent reads it);
//   - headers: HeaderID ("events-id", the event's id) and HeaderType
//     ("events-type", e.g. "collection.update");
//   - timestamp: the event's time (its "ts").
//
// # Guarantees
//
// Order: per store, per partition. A store's changes arrive in bookmark
// order and its custom events in emission order (the two are batched
// separately, so a change and a custom event may swap). Events of
// different stores have no order between them. This needs the client's
// defaults: the idempotent producer (New refuses kgo.DisableIdempotentWrite)
// and a partitioner that hashes the key (the default; not a round-robin or
// manual one).
//
// At least once. Send returns only when the broker acknowledged every
// record (with the client's acks, all in-sync replicas by default); then
// the emitter saves the sink's position. A process that dies after the
// broker took a batch but before the position was saved sends that batch
// again when it restarts, so duplicates are limited to the batch in flight
// at the crash (at most Options.BatchSize events per sink). A re-sent event
// has the same id: consumers de-duplicate by the events-id header (or the
// value's "id"). While a broker is down or a produce times out (each Send
// gets the emitter's RequestTimeout), the batch is retried with the
// emitter's backoff; nothing is dropped. A retry first waits for the
// records the timed-out send left with the client, rather than producing a
// second copy behind them, so an outage adds no duplicates.
//
// Records Kafka can never store are dead-lettered alone: a record larger
// than kgo.ProducerBatchMaxBytes or the topic's max.message.bytes, or one
// the broker refuses as invalid. Keep ProducerBatchMaxBytes at most the
// topic's max.message.bytes: the client then refuses an oversized record
// alone, before sending it. A batch the broker refuses whole is tried again
// record by record (only those failing alone are set aside), and a store's
// later records may then be ahead of those retried. An unknown topic or missing authorization is retried:
// it concerns every event and clears once an operator fixes it.
//
// # Consuming
//
// Any Kafka consumer reads the topic, e.g. a franz-go client with
// kgo.ConsumeTopics and a consumer group. Skip records whose events-id
// header was seen already (a table keyed by id, or the ids of the last
// few batches: a re-sent copy follows its first soon after). A record's
// value decodes with events.DecodeEvent; a change event
// (events.CollectionChange) becomes a typed changelog.Change with
// changelog.DecodeChange. The package's example does both.
package kafkasink
