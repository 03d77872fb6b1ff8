package emitter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
)

// source is where a sink's events come from: the change log or custom emits.
type source int

const (
	srcCDC source = iota
	srcCustom
	srcRedrive // dead letters re-queued for their sink (Redrive)
	srcTx      // custom events written in the caller's transaction (EmitTx)
	numSources
)

// sourceNames name the sources in the emitter's tables.
var sourceNames = [numSources]string{"cdc", "custom", "redrive", "tx"}

// Emitter batches a store's events and delivers them to its sinks. It is
// safe for concurrent use.
type Emitter struct {
	cfg       config
	store     *cdc.Store
	storeID   string
	log       *slog.Logger
	red       redactor
	sinks     []*sink
	stop      chan struct{}  // closed by Close: Run returns
	persistMu sync.Mutex     // one move to the outbox at a time
	bg        sync.WaitGroup // background spills and reservations

	// mu guards what follows. It is never held while waiting for the
	// store's writer: Emit may run inside the caller's transaction.
	mu       sync.Mutex
	identity events.Identity
	life     lifecycle
	q        memQueue    // custom events in memory
	ids      idBlock     // the ids of the next custom events
	seq      seqState    // custom sequence numbers
	ob       outboxState // custom events in the store's outbox
	marks    marks       // how far the store's other tables were read or pruned
	tally    tally
	release  func() error // gives up the store's holder lock (Close)
}

// lifecycle is where the emitter is between New and Close.
type lifecycle struct {
	closing   bool
	closed    bool
	runDone   chan struct{} // set while Run runs; closed when it returns
	runCancel func()        // cancels Run's rounds
}

// marks are what the emitter knows of the change log and of its tables
// other than the outbox.
type marks struct {
	prunedCDC  uint64 // the CDC seq the change log was pruned through
	redriveMax uint64 // the highest seq in emitter_redrive
	txOn       bool   // emitter_txevents may have rows (EmitTx was used)
	txPruned   uint64 // emitter_txevents was pruned through this seq
}

// seqState hands out custom sequence numbers from blocks reserved in the
// store ahead of need.
type seqState struct {
	next      uint64 // the next custom sequence number
	end       uint64 // end (exclusive) of the reserved block
	block     uint64 // block size (tests shrink it)
	ahead     uint64 // first seq of the block reserved ahead, 0 if none
	reserving bool   // a reservation runs
}

// outboxState is what the emitter knows of its outbox table.
type outboxState struct {
	spilling   bool   // a background move to the outbox runs
	persisting uint64 // events up to this seq are (being) written to the outbox
	max        uint64 // highest seq ever written to the outbox
	count      int    // rows in the outbox
	pruned     uint64 // the outbox was pruned through this seq
}

// tally counts what Stats reports of Emit.
type tally struct {
	emitted, rejected, spills uint64
}

// New returns an emitter for store. It creates its tables in the store on
// first use and resumes the cursors, outbox and retry schedule a previous
// emitter left there. Call Run (or HandleAlarm and Flush yourself) to
// deliver, and Close when done; the store stays open.
func New(store *cdc.Store, opts Options) (_ *Emitter, err error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidOptions)
	}
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	release, err := cdcx.Store(store).Hold() // one emitter per store: cdc.ErrHeld
	if err != nil {
		return nil, fmt.Errorf("emitter: %w", err)
	}
	defer func() {
		if err != nil {
			_ = release()
		}
	}()
	if err := cdcx.Store(store).Migrate(ctx, "emitter", migrations); err != nil {
		return nil, fmt.Errorf("emitter: %w", err)
	}
	e := &Emitter{
		cfg:     cfg,
		store:   store,
		log:     cfg.Logger,
		red:     newRedactor(cfg.APIKey),
		stop:    make(chan struct{}),
		release: release,
	}
	if e.storeID, err = loadStoreID(ctx, store); err != nil {
		return nil, err
	}
	e.identity = cfg.Identity
	if e.identity.ID == "" {
		e.identity.ID = e.storeID
	}
	if cfg.httpOn {
		e.addSink(httpSink{e}, cfg.BatchSize, cfg.HTTPInFlight)
	}
	if cfg.Bucket != nil {
		// One lake write at a time: a retry must start where the failed
		// attempt started for its keys to overwrite what that attempt wrote.
		e.addSink(lakeSink{e}, cfg.LakeBatchSize, 1)
	}
	for _, s := range cfg.Sinks {
		e.addSink(s, cfg.BatchSize, 1)
	}
	if err := e.load(ctx); err != nil {
		return nil, err
	}
	e.seq.block = seqBlock
	if e.seq.next, err = reserveSeqs(ctx, store, e.seq.block); err != nil {
		return nil, err
	}
	e.seq.end = e.seq.next + e.seq.block
	return e, nil
}

// addSink adds a sink that takes up to batchSize events per batch, with up
// to inFlight batches at once.
func (e *Emitter) addSink(out Sink, batchSize, inFlight int) {
	_, builtin := out.(preparer)
	e.sinks = append(e.sinks, &sink{name: out.Name(), out: out, user: !builtin, batchSize: batchSize,
		bufs: make([]batch, inFlight), wake: make(chan struct{}, 1)})
}

// StoreID returns the store's emitter id: 16 hex digits chosen at random the
// first time an emitter opened the store. Event ids start with it.
func (e *Emitter) StoreID() string { return e.storeID }

// Identity returns the identity stamped on events, with what
// EnrichFromRequest learnt.
func (e *Emitter) Identity() events.Identity {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.identity
}

// PendingCount returns the number of custom events waiting for delivery to
// at least one sink, in memory and in the outbox.
func (e *Emitter) PendingCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.q.len() + e.ob.count
}

// Emit validates ev, stamps it (ts: now, to the millisecond, when it has
// none; do: the emitter's identity when it has none; id: a unique id) and
// queues its JSON in memory. It does not block on delivery.
//
// Overflow rule: once Options.MaxPending events wait in memory they all move
// to the outbox in SQLite, in the background; while that write waits for the
// store (e.g. Emit runs inside the caller's transaction) memory takes up to
// MaxPending more. Beyond that, or when Options.MaxBacklog events wait in
// memory and the outbox together, Emit refuses the event with an error
// matching ErrBacklogFull and counts it in Stats.Rejected. No event is ever
// dropped silently. Emit never waits for SQLite, so it may be called inside
// Store.Update; the event is then queued at once, whether the transaction
// commits or not (EmitTx queues it only if it commits). An invalid event
// gives an error matching events.ErrInvalidEvent; one of a change's type
// (collection.*) also matches ErrChangeEvent.
func (e *Emitter) Emit(ev events.Event) error {
	if ev == nil {
		return fmt.Errorf("%w: nil event", events.ErrInvalidEvent)
	}
	now := e.cfg.Now().UTC().Truncate(time.Millisecond)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.life.closing {
		return ErrClosed
	}
	env := events.Envelope{TS: now, DO: e.identity}
	ts, err := checkEvent(ev, env)
	if err != nil {
		return err
	}
	if err := e.makeRoom(); err != nil {
		e.tally.rejected++
		return err
	}
	if err := e.takeSeqLocked(); err != nil {
		e.tally.rejected++
		return err
	}
	seq := e.seq.next
	env.ID = e.ids.id(e.storeID, seq)
	dst, start := e.q.buf()
	out, err := ev.AppendJSON(dst, env)
	if err == nil && !trusted(ev) {
		err = checkJSON(out[start:])
	}
	if err != nil {
		return fmt.Errorf("emitter: encode %s: %w", ev.EventType(), err)
	}
	e.q.push(seq, ts.UnixMilli(), out, start)
	e.seq.next++
	e.tally.emitted++
	e.spillIfFullLocked()
	if e.q.len() >= e.cfg.BatchSize {
		for _, s := range e.sinks {
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

// checkEvent validates ev, stamped with env, for Emit and EmitTx, and
// returns its time.
func checkEvent(ev events.Event, env events.Envelope) (time.Time, error) {
	if err := ev.Validate(env); err != nil {
		return time.Time{}, err
	}
	switch typ := ev.EventType(); typ {
	case events.TypeCollectionInsert, events.TypeCollectionUpdate, events.TypeCollectionDelete:
		return time.Time{}, fmt.Errorf("%w: %w: %s (use EmitChange)", events.ErrInvalidEvent, ErrChangeEvent, typ)
	}
	ts := ev.EventTime()
	if ts.IsZero() {
		return env.TS, nil
	}
	if y := ts.UTC().Year(); y < 1970 || y > 9999 {
		// The lake's partitions (and JavaScript dates) need a 4-digit year.
		return time.Time{}, fmt.Errorf("%w: %s ts %s is outside years 1970-9999", events.ErrInvalidEvent, ev.EventType(), ts.UTC().Format(time.RFC3339))
	}
	return ts, nil
}

// makeRoom applies the overflow rule before an event is queued. e.mu is held.
func (e *Emitter) makeRoom() error {
	inMem := e.q.len()
	if inMem+e.ob.count >= e.cfg.MaxBacklog {
		return fmt.Errorf("%w: %d custom events wait for delivery (MaxBacklog %d)", ErrBacklogFull, inMem+e.ob.count, e.cfg.MaxBacklog)
	}
	if inMem >= 2*e.cfg.MaxPending {
		return fmt.Errorf("%w: %d custom events in memory while the outbox write runs (MaxPending %d)", ErrBacklogFull, inMem, e.cfg.MaxPending)
	}
	return nil
}

// spillIfFullLocked starts moving memory to the outbox once MaxPending
// events wait there. It runs in the background: Emit may run inside the
// caller's own transaction, which holds the store's only writer. e.mu is held.
func (e *Emitter) spillIfFullLocked() {
	if e.q.len() >= e.cfg.MaxPending && !e.ob.spilling {
		e.ob.spilling = true
		e.tally.spills++
		e.bg.Go(e.spill)
	}
}

// spill is the background move of memory to the outbox.
func (e *Emitter) spill() {
	err := e.persist(context.Background())
	e.mu.Lock()
	e.ob.spilling = false
	e.mu.Unlock()
	if err != nil {
		e.log.Error("emitter: moving pending events to the outbox failed", "error", err.Error())
	}
}

// takeSeqLocked makes e.seq.next usable. Blocks of sequence numbers are
// reserved in the store ahead of need, in the background, so Emit never
// waits for SQLite (it may run inside the caller's own transaction, which
// holds the store's only writer). e.mu is held.
func (e *Emitter) takeSeqLocked() error {
	if e.seq.next >= e.seq.end {
		if e.seq.ahead == 0 {
			e.reserveAheadLocked()
			return fmt.Errorf("%w: the next block of sequence numbers is not reserved yet (the store's writer is busy)", ErrBacklogFull)
		}
		e.seq.next, e.seq.end, e.seq.ahead = e.seq.ahead, e.seq.ahead+e.seq.block, 0
	}
	if e.seq.ahead == 0 && e.seq.end-e.seq.next <= e.seq.block/2 {
		e.reserveAheadLocked()
	}
	return nil
}

// reserveAheadLocked starts reserving the next block unless that runs
// already. e.mu is held.
func (e *Emitter) reserveAheadLocked() {
	if e.seq.reserving {
		return
	}
	e.seq.reserving = true
	e.bg.Go(func() {
		first, err := reserveSeqs(context.Background(), e.store, e.seq.block)
		e.mu.Lock()
		e.seq.reserving = false
		if err == nil {
			e.seq.ahead = first
		}
		e.mu.Unlock()
		if err != nil {
			e.log.Error("emitter: reserving sequence numbers failed", "error", err.Error())
		}
	})
}

// trusted reports whether ev is one of the events package's structs, whose
// AppendJSON always writes one JSON object on one line.
func trusted(ev events.Event) bool {
	switch ev.(type) {
	case events.Custom, events.RPCCall, events.CollectionChange, events.Lifecycle, events.WebSocket, events.Client,
		*events.Custom, *events.RPCCall, *events.CollectionChange, *events.Lifecycle, *events.WebSocket, *events.Client:
		return true
	}
	return false
}

// checkJSON checks what another Event implementation wrote: one JSON object
// without raw newlines, as the wire format and JSON Lines need.
func checkJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' || bytes.ContainsAny(b, "\r\n") || !json.Valid(b) {
		return fmt.Errorf("%w: AppendJSON must write one JSON object without raw newlines", events.ErrInvalidEvent)
	}
	return nil
}
