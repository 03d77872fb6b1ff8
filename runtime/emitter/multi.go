package emitter

import (
	"context"
	"sync"
	"time"

	"github.com/dotdo/events/internal/emitterhook"
	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/internal/wire"
)

// A fleet (package runtime/fleet) runs one pipeline for many stores with
// the same Options, sinks and retry schedule: it gets them through
// internal/emitterhook.
func init() {
	emitterhook.Register(emitterhook.Hooks{Resolve: resolveMulti})
}

// resolveMulti resolves opts for a pipeline of many stores.
func resolveMulti(o any, writer string) (emitterhook.Pipeline, error) {
	cfg, err := o.(Options).resolve()
	if err != nil {
		return emitterhook.Pipeline{}, err
	}
	red := newRedactor(cfg.APIKey)
	p := emitterhook.Pipeline{
		MaxBatchBytes:  cfg.MaxBatchBytes,
		FlushInterval:  cfg.FlushInterval,
		RequestTimeout: cfg.RequestTimeout,
		TrackPrevious:  cfg.TrackPrevious,
		MaxBacklog:     cfg.MaxBacklog,
		Logger:         cfg.Logger,
		Now:            cfg.Now,
		RetryDelay: func(attempt int, retryAfter time.Duration) time.Duration {
			return retryDelay(attempt, retryAfter, cfg.jitterFunc())
		},
		Clean: red.clean,
		Check: checkEvent,
	}
	if cfg.httpOn {
		p.Sinks = append(p.Sinks, &multiHTTP{cfg: &cfg, red: red})
		p.BatchSizes = append(p.BatchSizes, cfg.BatchSize)
	}
	if cfg.Bucket != nil {
		p.Sinks = append(p.Sinks, &multiLake{cfg: &cfg, red: red, w: &lakewrite.MultiWriter{Bucket: cfg.Bucket,
			Key: func(hour time.Time, firstMs int64, seq uint64, sum string) string {
				return lakeformat.WriterKey(hour, writer, firstMs, seq, sum)
			}}})
		p.BatchSizes = append(p.BatchSizes, cfg.LakeBatchSize)
	}
	for _, s := range cfg.Sinks {
		p.Sinks = append(p.Sinks, s)
		p.BatchSizes = append(p.BatchSizes, cfg.BatchSize)
	}
	return p, nil
}

// multiHTTP is the HTTP sink for batches of many stores: Batch.Events as one
// request, batchId Batch.ID.
type multiHTTP struct {
	cfg  *config
	red  redactor
	mu   sync.Mutex
	body []byte
	raw  [][]byte
}

// Name implements Sink.
func (*multiHTTP) Name() string { return "http" }

// Send implements Sink.
func (s *multiHTTP) Send(ctx context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw = s.raw[:0]
	for _, ev := range b.Events {
		s.raw = append(s.raw, ev.JSON)
	}
	s.body = wire.AppendBatch(s.body[:0], b.ID, s.raw)
	return sendHTTP(ctx, s.cfg, s.red, b.ID, s.body, s.raw)
}

// multiLake is the lake sink for batches of many stores: one object per
// UTC hour of the events' own ts, named by the writer
// (lakeformat.WriterKey). The events are this module's own encoding.
type multiLake struct {
	cfg    *config
	red    redactor
	w      *lakewrite.MultiWriter
	mu     sync.Mutex
	lastID string
	n      uint64 // numbers the batches: the same for a retry of one
	evs    []lakewrite.EncodedEvent
}

// Name implements Sink.
func (*multiLake) Name() string { return "lake" }

// Send implements Sink.
func (s *multiLake) Send(ctx context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.ID != s.lastID {
		s.lastID = b.ID
		s.n++
	}
	s.evs = s.evs[:0]
	for _, ev := range b.Events {
		s.evs = append(s.evs, lakewrite.EncodedEvent{TS: ev.TS, Seq: s.n, JSON: ev.JSON})
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	if _, err := s.w.Write(ctx, s.evs); err != nil {
		return &DeliveryError{Sink: "lake", Permanent: lakePermanent(err), Msg: s.red.clean(err.Error()), Err: s.red.wrap(err)}
	}
	return nil
}
