package emitter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/dotdo/events/internal/cdcx"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
)

// source is where a sink's events come from: the change log or custom emits.
type source int

const (
	srcCDC source = iota
	srcCustom
	numSources
)

// sourceNames name the sources in the emitter's tables.
var sourceNames = [numSources]string{"cdc", "custom"}

// memEvent is a custom event waiting in memory.
type memEvent struct {
	seq  uint64
	tsMs int64
	js   []byte // its JSON, in one of the chunks
}

// chunkSize is the size of the blocks encoded events are appended to. Fixed
// blocks (rather than one growing buffer) mean a burst never copies what is
// already queued, and delivered blocks go back to the garbage collector.
const chunkSize = 64 << 10

// chunkSlack is the room an event is expected to need: with less left, the
// next event starts a new chunk instead of overflowing this one.
const chunkSlack = 2 << 10

// Emitter batches a store's events and delivers them to its sinks. It is
// safe for concurrent use.
type Emitter struct {
	cfg     config
	store   *cdc.Store
	storeID string
	log     *slog.Logger
	red     redactor
	sinks   []*sink
	stop    chan struct{} // closed by Close: Run returns

	// mu guards what follows. It is never held while waiting for the
	// store's writer: Emit may run inside the caller's transaction.
	mu           sync.Mutex
	identity     events.Identity
	persistMu    sync.Mutex     // one move to the outbox at a time
	bg           sync.WaitGroup // background spills and reservations
	closing      bool
	closed       bool
	runDone      chan struct{} // set while Run runs; closed when it returns
	runCancel    func()        // cancels Run's rounds
	mem          []memEvent    // custom events in memory, in seq order, from memHead on
	memHead      int           // mem[:memHead] are released (compacted lazily)
	chunk        []byte        // where the next event's JSON is appended
	chunkLast    uint64        // seq of the last event in chunk
	filled       []filledChunk // earlier chunks that events may still point into
	spare        [][]byte      // emptied chunks, for reuse
	nextSeq      uint64        // the next custom sequence number
	seqEnd       uint64        // end (exclusive) of the reserved block
	seqBlock     uint64        // block size (tests shrink it)
	nextBlock    uint64        // first seq of the block reserved ahead, 0 if none
	reserving    bool          // a reservation runs
	spilling     bool          // a background move to the outbox runs
	persisting   uint64        // events up to this seq are (being) written to the outbox
	outboxMax    uint64        // highest seq ever written to the outbox
	outboxCount  int           // rows in the outbox
	outboxPruned uint64        // the outbox was pruned through this seq
	emitted      uint64
	rejected     uint64
	spills       uint64
	prunedCDC    uint64       // the CDC seq the change log was pruned through
	idBuf        []byte       // scratch for event ids
	release      func() error // gives up the store's holder lock (Close)
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
		red:     redactor{secret: cfg.APIKey},
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
		e.sinks = append(e.sinks, &sink{name: "http", send: e.sendHTTP, prep: e.httpBody, batchSize: cfg.BatchSize,
			bufs: make([]batch, cfg.HTTPInFlight), wake: make(chan struct{}, 1)})
	}
	if cfg.Bucket != nil {
		// One lake write at a time: a retry must start where the failed
		// attempt started for its keys to overwrite what that attempt wrote.
		e.sinks = append(e.sinks, &sink{name: "lake", send: e.sendLake, batchSize: cfg.LakeBatchSize,
			bufs: make([]batch, 1), wake: make(chan struct{}, 1)})
	}
	if err := e.load(ctx); err != nil {
		return nil, err
	}
	e.seqBlock = seqBlock
	if e.nextSeq, err = reserveSeqs(ctx, store, e.seqBlock); err != nil {
		return nil, err
	}
	e.seqEnd = e.nextSeq + e.seqBlock
	return e, nil
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
	return len(e.live()) + e.outboxCount
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
// Store.Update. An invalid event gives an error matching
// events.ErrInvalidEvent.
func (e *Emitter) Emit(ev events.Event) error {
	if ev == nil {
		return fmt.Errorf("%w: nil event", events.ErrInvalidEvent)
	}
	now := e.cfg.Now().UTC().Truncate(time.Millisecond)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		return ErrClosed
	}
	env := events.Envelope{TS: now, DO: e.identity}
	if err := ev.Validate(env); err != nil {
		return err
	}
	ts := ev.EventTime()
	if ts.IsZero() {
		ts = now
	} else if y := ts.UTC().Year(); y < 1970 || y > 9999 {
		// The lake's partitions (and JavaScript dates) need a 4-digit year.
		return fmt.Errorf("%w: %s ts %s is outside years 1970-9999", events.ErrInvalidEvent, ev.EventType(), ts.UTC().Format(time.RFC3339))
	}
	if err := e.makeRoom(); err != nil {
		e.rejected++
		return err
	}
	if err := e.takeSeqLocked(); err != nil {
		e.rejected++
		return err
	}
	seq := e.nextSeq
	if cap(e.chunk)-len(e.chunk) < chunkSlack {
		e.newChunkLocked()
	}
	start := len(e.chunk)
	e.idBuf = appendEventID(e.idBuf[:0], e.storeID, 'e', seq)
	isTrusted := trusted(ev)
	if isTrusted {
		// The events package's encoders copy the id and keep nothing, so
		// it can borrow the reused buffer: Emit then allocates nothing.
		env.ID = unsafe.String(unsafe.SliceData(e.idBuf), len(e.idBuf))
	} else {
		env.ID = string(e.idBuf)
	}
	out, err := ev.AppendJSON(e.chunk, env)
	if err == nil && !isTrusted {
		err = checkJSON(out[start:])
	}
	if err != nil {
		return fmt.Errorf("emitter: encode %s: %w", ev.EventType(), err)
	}
	var js []byte
	if cap(out) == cap(e.chunk) {
		e.chunk = out
		js = out[start:len(out):len(out)]
	} else {
		// A large event outgrew the chunk: AppendJSON made a new array.
		// Keep only the event, in a chunk of its own size.
		js = append(make([]byte, 0, len(out)-start), out[start:]...)
	}
	if len(e.mem) == cap(e.mem) {
		e.growMemLocked()
	}
	e.mem = append(e.mem, memEvent{seq: seq, tsMs: ts.UnixMilli(), js: js})
	e.chunkLast = seq
	e.nextSeq++
	e.emitted++
	e.spillIfFullLocked()
	if len(e.mem)-e.memHead >= e.cfg.BatchSize {
		for _, s := range e.sinks {
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

// makeRoom applies the overflow rule before an event is queued. e.mu is held.
func (e *Emitter) makeRoom() error {
	inMem := len(e.live())
	if inMem+e.outboxCount >= e.cfg.MaxBacklog {
		return fmt.Errorf("%w: %d custom events wait for delivery (MaxBacklog %d)", ErrBacklogFull, inMem+e.outboxCount, e.cfg.MaxBacklog)
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
	if len(e.live()) >= e.cfg.MaxPending && !e.spilling {
		e.spilling = true
		e.spills++
		e.bg.Go(e.spill)
	}
}

// spill is the background move of memory to the outbox.
func (e *Emitter) spill() {
	err := e.persist(context.Background())
	e.mu.Lock()
	e.spilling = false
	e.mu.Unlock()
	if err != nil {
		e.log.Error("emitter: moving pending events to the outbox failed", "error", err.Error())
	}
}

// takeSeqLocked makes e.nextSeq usable. Blocks of sequence numbers are
// reserved in the store ahead of need, in the background, so Emit never
// waits for SQLite (it may run inside the caller's own transaction, which
// holds the store's only writer). e.mu is held.
func (e *Emitter) takeSeqLocked() error {
	if e.nextSeq >= e.seqEnd {
		if e.nextBlock == 0 {
			e.reserveAheadLocked()
			return fmt.Errorf("%w: the next block of sequence numbers is not reserved yet (the store's writer is busy)", ErrBacklogFull)
		}
		e.nextSeq, e.seqEnd, e.nextBlock = e.nextBlock, e.nextBlock+e.seqBlock, 0
	}
	if e.nextBlock == 0 && e.seqEnd-e.nextSeq <= e.seqBlock/2 {
		e.reserveAheadLocked()
	}
	return nil
}

// reserveAheadLocked starts reserving the next block unless that runs
// already. e.mu is held.
func (e *Emitter) reserveAheadLocked() {
	if e.reserving {
		return
	}
	e.reserving = true
	e.bg.Go(func() {
		first, err := reserveSeqs(context.Background(), e.store, e.seqBlock)
		e.mu.Lock()
		e.reserving = false
		if err == nil {
			e.nextBlock = first
		}
		e.mu.Unlock()
		if err != nil {
			e.log.Error("emitter: reserving sequence numbers failed", "error", err.Error())
		}
	})
}

// appendEventID appends the event id "{storeID}-{kind}{seq}": kind 'c' for a
// change (seq: its bookmark's number), 'e' for a custom event.
func appendEventID(dst []byte, storeID string, kind byte, seq uint64) []byte {
	dst = append(dst, storeID...)
	dst = append(dst, '-', kind)
	return strconv.AppendUint(dst, seq, 10)
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
