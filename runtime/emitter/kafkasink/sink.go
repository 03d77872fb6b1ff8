package kafkasink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dotdo/events/runtime/emitter"
)

// Record header keys the sink sets on every record.
const (
	// HeaderID is the header holding the event's id, the same on every
	// re-send: consumers de-duplicate by it.
	HeaderID = "events-id"
	// HeaderType is the header holding the event's type (e.g.
	// "collection.insert"), so a consumer can route without decoding.
	HeaderType = "events-type"
)

// defaultName is the sink's name unless Named gives another.
const defaultName = "kafka"

// maxTopic is Kafka's limit on a topic name's length.
const maxTopic = 249

// Sink produces a batch's events to one Kafka topic. It implements
// emitter.Sink; add it to emitter.Options.Sinks (or a fleet's). It is safe
// for concurrent use, though an emitter sends to a sink from one goroutine.
type Sink struct {
	cl    *kgo.Client
	topic string
	name  string

	mu      sync.Mutex
	pending *attempt  // a produce a Send stopped waiting for; nil if none
	free    sync.Pool // of *attempt: a batch's records are large
}

// attempt is one produce of a batch's records.
type attempt struct {
	batch string // Batch.ID: the same events on every retry
	recs  []kgo.Record
	ptrs  []*kgo.Record
	hdrs  []kgo.RecordHeader
	buf   []byte        // the records' bytes
	done  chan struct{} // closed once res is set
	res   kgo.ProduceResults
}

// New returns a sink producing to topic through client, named "kafka".
//
// client must keep franz-go's defaults that ordering and de-duplication
// rest on: the idempotent producer (no kgo.DisableIdempotentWrite), no
// transactional id, a key-hashing partitioner (the default; it keeps a
// store's records in one partition) and kgo.ProducerBatchMaxBytes no larger
// than the topic's max.message.bytes (franz-go's default fits Kafka's
// default). New refuses a client that disables idempotency, is
// transactional or always produces to another default topic. The sink
// never closes client.
//
// topic must be a valid Kafka topic name: 1-249 bytes of a-z, A-Z, 0-9,
// '.', '_' and '-', not "." or "..". Errors match emitter.ErrInvalidOptions.
func New(client *kgo.Client, topic string) (*Sink, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: kafkasink: nil client", emitter.ErrInvalidOptions)
	}
	if err := validTopic(topic); err != nil {
		return nil, err
	}
	if off, _ := client.OptValue(kgo.DisableIdempotentWrite).(bool); off {
		return nil, fmt.Errorf("%w: kafkasink: the client disables idempotent writes (kgo.DisableIdempotentWrite): "+
			"a retried produce could then duplicate or reorder a store's records", emitter.ErrInvalidOptions)
	}
	if v := client.OptValues(kgo.TransactionalID); len(v) == 2 {
		if set, _ := v[1].(bool); set {
			return nil, fmt.Errorf("%w: kafkasink: the client is transactional (kgo.TransactionalID): "+
				"the sink produces outside transactions", emitter.ErrInvalidOptions)
		}
	}
	if always, _ := client.OptValue(kgo.DefaultProduceTopicAlways).(bool); always {
		if def, _ := client.OptValue(kgo.DefaultProduceTopic).(string); def != topic {
			return nil, fmt.Errorf("%w: kafkasink: the client always produces to topic %q (kgo.DefaultProduceTopicAlways), not %q",
				emitter.ErrInvalidOptions, def, topic)
		}
	}
	return &Sink{cl: client, topic: topic, name: defaultName}, nil
}

// validTopic checks a topic name by Kafka's rules.
func validTopic(topic string) error {
	if topic == "" || len(topic) > maxTopic || topic == "." || topic == ".." {
		return fmt.Errorf("%w: kafkasink: topic %q must be 1-%d bytes and not \".\" or \"..\"", emitter.ErrInvalidOptions, topic, maxTopic)
	}
	for _, c := range []byte(topic) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: kafkasink: topic %q may hold only a-z, A-Z, 0-9, '.', '_' and '-'", emitter.ErrInvalidOptions, topic)
		}
	}
	return nil
}

// Named returns a copy of the sink with another name, for a second Kafka
// sink beside the first: the name keys the sink's saved positions, retry
// state and dead letters in each store, so keep it stable. emitter.New
// checks it (1-64 bytes of a-z, 0-9, '.', '_', '-').
func (s *Sink) Named(name string) *Sink {
	return &Sink{cl: s.cl, topic: s.topic, name: name}
}

// Name implements emitter.Sink: "kafka" unless Named gave another.
func (s *Sink) Name() string { return s.name }

// Send implements emitter.Sink: it produces one record per event and waits
// until every record is acknowledged or ctx ends. Records that can never
// be stored (larger than the topic accepts, or refused as invalid by the
// broker) are reported in a *emitter.DeliveryError's Rejected, so only they
// are dead-lettered; any other failure (a broker down, a timeout, an
// unknown topic, missing authorization) is returned as a plain error and
// the emitter retries the whole batch with backoff.
func (s *Sink) Send(ctx context.Context, b *emitter.Batch) error {
	if b == nil || len(b.Events) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A produce an earlier Send stopped waiting for (its ctx ended while the
	// broker was away) is still under way: wait for it rather than queue
	// another copy of the records behind it. If it was this batch and got
	// through, the batch is delivered.
	if p := s.pending; p != nil {
		select {
		case <-p.done:
			s.pending = nil
			if p.batch == b.ID && len(p.recs) == len(b.Events) {
				err := s.outcome(ctx, p.recs, p.res)
				s.release(p)
				var de *emitter.DeliveryError
				if err == nil || errors.As(err, &de) {
					return err
				}
			}
		case <-ctx.Done():
			return fmt.Errorf("kafkasink: an earlier produce of %d records to %s is not acknowledged yet: %w",
				len(p.recs), s.topic, context.Cause(ctx))
		}
	}
	a := s.records(b)
	// ProduceSync waits for the broker's answer to a request it sent even
	// after ctx ends (the idempotent producer cannot fail records whose fate
	// is unknown): wait for it only while ctx lasts.
	go func() {
		a.res = s.cl.ProduceSync(ctx, a.ptrs...)
		close(a.done)
	}()
	select {
	case <-a.done:
		err := s.outcome(ctx, a.recs, a.res)
		s.release(a)
		return err
	case <-ctx.Done():
		s.pending = a
		return fmt.Errorf("kafkasink: %d records to %s not acknowledged: %w", len(a.recs), s.topic, context.Cause(ctx))
	}
}

// produce produces rs and waits for their results while ctx lasts (see
// Send).
func (s *Sink) produce(ctx context.Context, rs []*kgo.Record) (kgo.ProduceResults, error) {
	done := make(chan kgo.ProduceResults, 1)
	go func() { done <- s.cl.ProduceSync(ctx, rs...) }()
	select {
	case res := <-done:
		return res, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("kafkasink: %d records to %s not acknowledged: %w", len(rs), s.topic, context.Cause(ctx))
	}
}

// records builds the records of b, in an attempt from the pool. Every
// byte they hold is copied into the attempt's buffer (the batch's are
// valid only during Send, and the client may hold a record longer).
func (s *Sink) records(b *emitter.Batch) *attempt {
	a, _ := s.free.Get().(*attempt)
	if a == nil {
		a = new(attempt)
	}
	n := len(b.Events)
	size := 0
	for i, ev := range b.Events {
		size += len(ev.JSON) + len(ev.ID) + len(ev.Type)
		if i == 0 || ev.Store != b.Events[i-1].Store {
			size += len(ev.Store)
		}
	}
	*a = attempt{batch: b.ID, done: make(chan struct{}),
		recs: grow(a.recs, n), ptrs: grow(a.ptrs, n), hdrs: grow(a.hdrs, 2*n), buf: slices.Grow(a.buf[:0], size)}
	buf := a.buf
	take := func(p []byte) []byte {
		start := len(buf)
		buf = append(buf, p...)
		return buf[start:len(buf):len(buf)]
	}
	takeString := func(p string) []byte {
		start := len(buf)
		buf = append(buf, p...)
		return buf[start:len(buf):len(buf)]
	}
	var key []byte
	for i, ev := range b.Events {
		if i == 0 || ev.Store != b.Events[i-1].Store {
			key = takeString(ev.Store)
		}
		h := a.hdrs[2*i : 2*i+2 : 2*i+2]
		h[0] = kgo.RecordHeader{Key: HeaderID, Value: takeString(ev.ID)}
		h[1] = kgo.RecordHeader{Key: HeaderType, Value: takeString(ev.Type)}
		a.recs[i] = kgo.Record{Topic: s.topic, Key: key, Value: take(ev.JSON), Headers: h, Timestamp: ev.TS}
		a.ptrs[i] = &a.recs[i]
	}
	return a
}

// grow returns s with length n, reusing its array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// release returns a finished attempt to the pool: the client holds none of
// its records any more.
func (s *Sink) release(a *attempt) {
	a.res = nil
	s.free.Put(a)
}

// outcome turns the produce results into Send's error.
func (s *Sink) outcome(ctx context.Context, recs []kgo.Record, res kgo.ProduceResults) error {
	var (
		retry    error
		failed   int
		rejected []int
		index    map[*kgo.Record]int
	)
	for _, r := range res {
		if r.Err == nil {
			continue
		}
		failed++
		if !permanent(r.Err) {
			if retry == nil {
				retry = r.Err
			}
			continue
		}
		if index == nil {
			index = make(map[*kgo.Record]int, len(recs))
			for i := range recs {
				index[&recs[i]] = i
			}
		}
		rejected = append(rejected, index[r.Record])
	}
	if failed == 0 {
		return nil
	}
	if retry != nil {
		// Retry all: the records that can never be stored fail again then,
		// and are set aside once the others are through.
		return fmt.Errorf("kafkasink: %d of %d records to %s failed: %w", failed, len(recs), s.topic, retry)
	}
	slices.Sort(rejected)
	if len(rejected) > 1 {
		// A broker refuses a whole record batch for one bad record: try
		// each again alone, so only those that fail alone are set aside.
		return s.isolate(ctx, recs, rejected)
	}
	return s.rejection(recs, rejected, res.FirstErr())
}

// isolate produces the records at idx (in order) one at a time and
// reports those refused for good alone.
func (s *Sink) isolate(ctx context.Context, recs []kgo.Record, idx []int) error {
	var (
		rejected []int
		first    error
	)
	for _, i := range idx {
		// A copy of its own: the attempt's memory is reused once Send
		// returns, and a produce Send stops waiting for goes on.
		r := kgo.Record{Topic: s.topic, Key: bytes.Clone(recs[i].Key), Value: bytes.Clone(recs[i].Value),
			Timestamp: recs[i].Timestamp}
		for _, h := range recs[i].Headers {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: bytes.Clone(h.Value)})
		}
		res, err := s.produce(ctx, []*kgo.Record{&r})
		if err == nil {
			_, err = res.First()
		}
		switch {
		case err == nil:
		case !permanent(err):
			return fmt.Errorf("kafkasink: record %d of %d to %s failed: %w", i, len(recs), s.topic, err)
		default:
			if first == nil {
				first = err
			}
			rejected = append(rejected, i)
		}
	}
	if len(rejected) == 0 {
		return nil
	}
	return s.rejection(recs, rejected, first)
}

// rejection is the error of records refused for good.
func (s *Sink) rejection(recs []kgo.Record, rejected []int, err error) error {
	return &emitter.DeliveryError{
		Rejected: rejected,
		Msg:      fmt.Sprintf("kafkasink: %s refused %d of %d records for good: %v", s.topic, len(rejected), len(recs), err),
		Err:      err,
	}
}

// permanent reports whether a record's produce error can never clear by
// retrying the same record: only errors about the record itself. Errors
// about the topic or the client (unknown topic, authorization) hit every
// record and clear when an operator fixes them, so they are retried.
func permanent(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.InvalidRecord) ||
		errors.Is(err, kerr.InvalidTimestamp)
}
