// Package emitterhook is where package emitter hands a fleet (package
// runtime/fleet) what they share without making it public API: options
// resolved with the emitter's defaults and checks, the built-in HTTP and
// lake sinks in a form that takes batches of many stores, and the retry
// schedule. Package emitter registers it in an init function.
package emitterhook

import (
	"log/slog"
	"time"

	"github.com/dotdo/events"
)

// Pipeline is an emitter.Options resolved for a pipeline of many stores.
type Pipeline struct {
	// Sinks are emitter.Sink values: the HTTP sink (when on), the lake sink
	// (when a Bucket is set) and Options.Sinks, in that order. The built-in
	// ones send Batch.Events of any stores: HTTP as one request, the lake
	// as one object per UTC hour named by the writer.
	Sinks []any
	// BatchSizes are the most events per batch of each sink.
	BatchSizes []int
	// MaxBatchBytes caps a batch's bytes.
	MaxBatchBytes int
	// FlushInterval is how long events may wait to form a batch.
	FlushInterval time.Duration
	// RequestTimeout bounds one send.
	RequestTimeout time.Duration
	// TrackPrevious puts "prev" in update and delete events.
	TrackPrevious bool
	// MaxBacklog bounds the custom events waiting.
	MaxBacklog int
	// Logger, Now are the options' (defaults applied).
	Logger *slog.Logger
	Now    func() time.Time
	// RetryDelay is the wait after attempt consecutive failures (the
	// emitter's schedule, jitter included).
	RetryDelay func(attempt int, retryAfter time.Duration) time.Duration
	// Clean removes the API key from a message.
	Clean func(string) string
	// Check validates a custom event stamped with env as Emit does and
	// returns its time (env.TS when it has none).
	Check func(ev events.Event, env events.Envelope) (time.Time, error)
}

// Hooks are the functions package emitter registers.
type Hooks struct {
	// Resolve checks opts (an emitter.Options) and resolves it; the lake
	// sink writes objects named by writer (lakeformat.ValidWriterID).
	Resolve func(opts any, writer string) (Pipeline, error)
}

var hooks Hooks

// Register is called once, by package emitter's init.
func Register(h Hooks) { hooks = h }

// Get returns the registered hooks.
func Get() Hooks { return hooks }
