package emitter

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/lake"
)

// Defaults and limits of Options.
const (
	// defaultEndpoint is the ingest endpoint used when only APIKey is set.
	defaultEndpoint = "https://events.do/ingest"
	// defaultBatchSize is the number of events per batch when BatchSize is 0.
	defaultBatchSize = 100
	// defaultLakeBatchSize is the most events per lake write when
	// LakeBatchSize is 0.
	defaultLakeBatchSize = 1000
	// maxLakeBatchSize bounds LakeBatchSize (and so the memory of a write).
	maxLakeBatchSize = 100_000
	// defaultMaxBatchBytes is MaxBatchBytes when 0.
	defaultMaxBatchBytes = 8 << 20
	// maxHTTPInFlight bounds HTTPInFlight.
	maxHTTPInFlight = 16
	// defaultFlushInterval is how long Run holds events when FlushInterval is 0.
	defaultFlushInterval = time.Second
	// defaultRequestTimeout bounds one HTTP request or lake write.
	defaultRequestTimeout = 10 * time.Second
	// defaultMaxPending is how many custom events wait in memory before they
	// spill to the outbox: about 15-25 MB of typical events. (Upstream keeps
	// 10,000 in a 128 MB isolate and drops the oldest beyond; here they move
	// to SQLite, which costs about ten times the memory path, so the bound is
	// set to absorb bursts rather than to save memory.)
	defaultMaxPending = 100_000
	// defaultMaxBacklog is how many custom events may wait for delivery, in
	// memory and in the outbox together, before Emit refuses more.
	defaultMaxBacklog = 1_000_000
	// baseRetryDelay is the delay after the first failed attempt; it doubles
	// with each further failure up to maxRetryDelay.
	baseRetryDelay = time.Second
	// maxRetryDelay caps the exponential backoff.
	maxRetryDelay = 60 * time.Second
	// maxJitter bounds the random delay added to each backoff.
	maxJitter = time.Second
	// maxRetryAfter caps a server's Retry-After.
	maxRetryAfter = time.Hour
)

// Options configure an Emitter. The zero value of each field means its
// default. The first eight mirror the upstream library's options.
type Options struct {
	// Endpoint is the HTTP ingest URL. The HTTP sink is on when Endpoint or
	// APIKey is set; Endpoint then defaults to https://events.do/ingest.
	Endpoint string
	// APIKey, when set, is sent as "Authorization: Bearer <APIKey>". It
	// never appears in logs, errors or Stats.
	APIKey string
	// BatchSize is the most events per HTTP batch and per batch of a sink
	// of Sinks (default 100, at most events.MaxBatchEvents, what the ingest
	// accepts). Run delivers as soon as this many custom events wait.
	BatchSize int
	// FlushInterval is how often Run delivers what waits (default 1s) and
	// polls the change log.
	FlushInterval time.Duration
	// CDC ships every change of the store's change log.
	CDC bool
	// TrackPrevious includes "prev" (the document before the change) in
	// update and delete events.
	TrackPrevious bool
	// Bucket, when set, turns the lake sink on: events are written as JSON
	// Lines under events/{yyyy}/{mm}/{dd}/{hh}/, one object per UTC hour.
	Bucket lake.Bucket
	// Identity is the store's identity, stamped as "do" on events that have
	// none. When Identity.ID is empty the store's emitter id (StoreID) is used.
	Identity events.Identity

	// LakeBatchSize is the most events per lake write (default 1000, at
	// most 100,000): the lake is not bound by the ingest's limit, and fewer,
	// larger objects are cheaper to write and to query. A write takes what waits, so a quiet
	// store still writes small objects promptly.
	LakeBatchSize int

	// MaxBatchBytes caps a batch's size in bytes, for every sink (default
	// 8 MiB; the ingest takes 16). An event larger than that goes alone.
	// Whatever the cap, a batch a sink answers with 413 (Request Entity
	// Too Large) is sent again in halves; a single event that still gets
	// 413 is dead-lettered.
	MaxBatchBytes int

	// HTTPInFlight is how many HTTP batches may be in flight at once
	// (default 1). With 1 the ingest receives batches strictly in order
	// (the next batch is encoded while a request is out, so it leaves as
	// soon as the response arrives); more hides the round trip (worth it to a distant endpoint) but batches
	// may then arrive out of order (each event's id and batchId carry its
	// sequence number, changes their bookmark). At most 16.
	HTTPInFlight int

	// Sinks are more destinations, beside HTTP and lake or alone. Each gets
	// batches of up to BatchSize events and has its own cursors, retry
	// schedule and dead letters, under its Name; a new sink starts with the
	// oldest change the store keeps and the oldest custom event waiting.
	Sinks []Sink

	// HTTPClient sends batches (default: a client of its own). Redirects
	// are not followed, whatever its CheckRedirect says: a 3xx answer is a
	// failed attempt whose error names the Location to set as Endpoint.
	HTTPClient *http.Client
	// RequestTimeout bounds one HTTP request or lake write (default 10s).
	RequestTimeout time.Duration
	// MaxPending is how many custom events wait in memory before they all
	// move to the outbox (default 100,000). Memory holds at most twice this
	// while that move waits for the store; see Emit.
	MaxPending int
	// MaxBacklog is how many custom events may wait for delivery in memory
	// and the outbox together; beyond it Emit returns ErrBacklogFull
	// (default 1,000,000). Collection changes are not counted: they are in
	// the store's change log already.
	MaxBacklog int
	// Logger receives delivery failures and retries (default: slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now). Tests drive retries by moving it
	// and calling HandleAlarm.
	Now func() time.Time
	// Jitter returns the random delay added to a backoff, in [0, 1s)
	// (default: uniform random). Tests pin it.
	Jitter func() time.Duration
}

// config is Options with defaults applied and checked.
type config struct {
	Options
	httpOn     bool
	redacted   string // the endpoint without user info, for messages
	jitterFunc func() time.Duration
}

// resolve applies defaults and validates.
func (o Options) resolve() (config, error) {
	c := config{Options: o}
	if o.Identity.ID != "" {
		if err := events.ValidateStoreID(o.Identity.ID); err != nil {
			return c, fmt.Errorf("%w: Identity.ID: %w", ErrInvalidOptions, err)
		}
	}
	if c.BatchSize == 0 {
		c.BatchSize = defaultBatchSize
	}
	if c.BatchSize < 0 || c.BatchSize > events.MaxBatchEvents {
		return c, fmt.Errorf("%w: BatchSize %d must be 1-%d", ErrInvalidOptions, o.BatchSize, events.MaxBatchEvents)
	}
	if c.LakeBatchSize == 0 {
		c.LakeBatchSize = defaultLakeBatchSize
	}
	if c.LakeBatchSize < 0 || c.LakeBatchSize > maxLakeBatchSize {
		return c, fmt.Errorf("%w: LakeBatchSize %d must be 1-%d", ErrInvalidOptions, o.LakeBatchSize, maxLakeBatchSize)
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = defaultMaxBatchBytes
	}
	if c.MaxBatchBytes < 0 {
		return c, fmt.Errorf("%w: negative MaxBatchBytes %d", ErrInvalidOptions, o.MaxBatchBytes)
	}
	if c.HTTPInFlight == 0 {
		c.HTTPInFlight = 1
	}
	if c.HTTPInFlight < 0 || c.HTTPInFlight > maxHTTPInFlight {
		return c, fmt.Errorf("%w: HTTPInFlight %d must be 1-%d", ErrInvalidOptions, o.HTTPInFlight, maxHTTPInFlight)
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = defaultFlushInterval
	}
	if c.FlushInterval < 0 {
		return c, fmt.Errorf("%w: negative FlushInterval %s", ErrInvalidOptions, o.FlushInterval)
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = defaultRequestTimeout
	}
	if c.RequestTimeout < 0 {
		return c, fmt.Errorf("%w: negative RequestTimeout %s", ErrInvalidOptions, o.RequestTimeout)
	}
	if c.MaxPending == 0 {
		c.MaxPending = defaultMaxPending
	}
	if c.MaxBacklog == 0 {
		c.MaxBacklog = defaultMaxBacklog
	}
	if c.MaxPending < 0 || c.MaxBacklog < 0 {
		return c, fmt.Errorf("%w: negative MaxPending or MaxBacklog", ErrInvalidOptions)
	}
	if c.MaxPending > c.MaxBacklog {
		c.MaxPending = c.MaxBacklog
	}
	c.httpOn = c.Endpoint != "" || c.APIKey != ""
	if c.httpOn {
		if c.Endpoint == "" {
			c.Endpoint = defaultEndpoint
		}
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL may hold credentials: do not quote it.
			return c, fmt.Errorf("%w: Endpoint must be an absolute http or https URL", ErrInvalidOptions)
		}
		c.redacted = u.Redacted()
	}
	if !c.httpOn && c.Bucket == nil && len(c.Sinks) == 0 {
		return c, fmt.Errorf("%w: no sink: set Endpoint or APIKey (HTTP), Bucket (lake) or Sinks", ErrInvalidOptions)
	}
	names := map[string]bool{}
	for i, s := range c.Sinks {
		if s == nil {
			return c, fmt.Errorf("%w: Sinks[%d] is nil", ErrInvalidOptions, i)
		}
		name := s.Name()
		if err := validSinkName(name); err != nil {
			return c, err
		}
		if names[name] {
			return c, fmt.Errorf("%w: two sinks are named %q", ErrInvalidOptions, name)
		}
		names[name] = true
	}
	c.Sinks = slices.Clone(c.Sinks)
	if c.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		c.HTTPClient = &http.Client{Transport: tr}
	}
	// A redirect is never a delivery: Go's client would follow a 301, 302
	// or 303 with a GET without the body, which a server may answer 200.
	// The sink reports the redirect instead (a copy: the caller's client
	// keeps its own policy).
	client := *c.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.HTTPClient = &client
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.jitterFunc = c.Jitter
	if c.jitterFunc == nil {
		c.jitterFunc = func() time.Duration { return rand.N(maxJitter) }
	}
	return c, nil
}
