package lake

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/internal/lakeparquet"
)

// CompactOptions say what Compact compacts.
type CompactOptions struct {
	// Before: Compact compacts the hours and days that end at or before
	// it. Leave time for late events, e.g. time.Now().Add(-2 * time.Hour);
	// a later event of a compacted hour is still read and the next Compact
	// folds it in. Set Before or Age.
	Before time.Time
	// Age, when Before is zero, sets Before to Age before the time of each
	// run (what CompactEvery needs).
	Age time.Duration
	// ObjectBytes bounds each output object: the most bytes of events (as
	// JSON) one Parquet object holds before Compact starts the next
	// (default 64 MiB; the object itself is ~10-50× smaller). Compact's
	// memory is a small multiple of it, whatever a partition's size.
	ObjectBytes int64
	// Progress, when set, is called after each partition with its folder
	// and the totals so far (for a command that shows progress).
	Progress func(folder string, total CompactResult)
	// Done, when set, is called by CompactEvery after each run with its
	// result and error; without it CompactEvery logs errors with slog.
	Done func(CompactResult, error)
}

// CompactResult counts what Compact did.
type CompactResult struct {
	// Partitions is the number of hour and day folders compacted.
	Partitions int
	// ObjectsIn and BytesIn count the objects read (and removed);
	// ObjectsOut and BytesOut the Parquet objects written.
	ObjectsIn, ObjectsOut int
	BytesIn, BytesOut     int64
	// Events is the number of events written, each id once per partition.
	Events int64
}

// defaultObjectBytes is CompactOptions.ObjectBytes's default.
const defaultObjectBytes = 64 << 20

// Compact turns the events objects of every partition that ends at or
// before opts.Before into Parquet (package doc, "compaction"): a day that
// ends by then becomes day-level objects events/yyyy/mm/dd/_compact_*.parquet
// (its hour folders' JSON Lines and hour-level Parquet included), an hour of
// a later day hour-level ones events/yyyy/mm/dd/hh/_compact_*.parquet. Each
// event is written once per partition (events are keyed by id; one without
// an id by the object and line it was first stored at), rows sorted by
// store and time. Inputs are removed only after every output of their
// partition is stored; a partition already compacted (one run's objects,
// nothing else) is left alone.
//
// Readers see the same events before, during and after: a crash or a
// second Compact at the same time may leave an event in two objects, which
// every reader counts once. A corrupt input (an error matching ErrCorrupt
// that names the object and line) leaves its partition as it was; Compact
// goes on with the others and returns every such error, joined, with the
// counts of what it did. Bad options give an error matching
// ErrInvalidOptions and change nothing.
//
// Compact also keeps the empty placeholder objects package query's SQL
// needs (see lakeformat).
func Compact(ctx context.Context, b Bucket, opts CompactOptions) (CompactResult, error) {
	var res CompactResult
	switch {
	case b == nil:
		return res, fmt.Errorf("%w: compact: nil bucket", ErrInvalidOptions)
	case opts.Before.IsZero() && opts.Age <= 0:
		return res, fmt.Errorf("%w: compact: set Before or a positive Age", ErrInvalidOptions)
	case !opts.Before.IsZero() && opts.Age != 0:
		return res, fmt.Errorf("%w: compact: set Before or Age, not both", ErrInvalidOptions)
	case opts.ObjectBytes < 0:
		return res, fmt.Errorf("%w: compact: ObjectBytes %d is negative", ErrInvalidOptions, opts.ObjectBytes)
	}
	if opts.ObjectBytes == 0 {
		opts.ObjectBytes = defaultObjectBytes
	}
	if opts.Before.IsZero() {
		opts.Before = time.Now().Add(-opts.Age)
	}
	if err := EnsurePlaceholders(ctx, b); err != nil {
		return res, err
	}
	c := &compactor{b: b, opts: opts, res: &res}
	// Days are compacted by partitionWorkers at once, while the listing
	// goes on: parsing and encoding are CPU-bound, reads and writes wait.
	var (
		mu    sync.Mutex
		errs  []error
		fatal error
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	days := make(chan []ObjectInfo)
	for range partitionWorkers {
		wg.Go(func() {
			for day := range days {
				if err := c.day(ctx, day); err != nil {
					mu.Lock()
					if errors.Is(err, ErrCorrupt) {
						errs = append(errs, err)
					} else if fatal == nil {
						fatal = err
						cancel()
					}
					mu.Unlock()
				}
			}
		})
	}
	var day []ObjectInfo
	dayKey := ""
	send := func() bool {
		if len(day) == 0 {
			return true
		}
		select {
		case days <- day:
			day = nil
			return true
		case <-ctx.Done():
			return false
		}
	}
	var listErr error
	for o, err := range listFrom(ctx, b, lakeformat.Root, "") {
		if err != nil {
			listErr = err
			break
		}
		if _, _, _, ok := lakeformat.Parse(o.Key); !ok {
			continue
		}
		if k := o.Key[:lakeformat.DayPrefixLen]; k != dayKey {
			if !send() {
				break
			}
			dayKey = k
		}
		day = append(day, o)
	}
	send()
	close(days)
	wg.Wait() // every worker is done: res and errs are this goroutine's again
	if fatal != nil {
		errs = append(errs, fatal)
	} else if listErr != nil {
		errs = append(errs, listErr)
	}
	return res, errors.Join(errs...)
}

// partitionWorkers is how many days Compact works on at once.
const partitionWorkers = 2

// CompactEvery runs Compact with opts at once and then every interval,
// until ctx ends, for a long-running service that compacts its lake without
// cron. opts must set Age (not Before): each run compacts what is older than
// Age then. A failed run does not stop the loop: its error goes to
// opts.Done, or to slog's default logger. It returns ctx's error; bad
// options give an error matching ErrInvalidOptions at once.
func CompactEvery(ctx context.Context, b Bucket, interval time.Duration, opts CompactOptions) error {
	switch {
	case b == nil:
		return fmt.Errorf("%w: compact: nil bucket", ErrInvalidOptions)
	case interval <= 0:
		return fmt.Errorf("%w: compact: interval %v is not positive", ErrInvalidOptions, interval)
	case !opts.Before.IsZero() || opts.Age <= 0:
		return fmt.Errorf("%w: compact: CompactEvery needs a positive Age and no Before", ErrInvalidOptions)
	case opts.ObjectBytes < 0:
		return fmt.Errorf("%w: compact: ObjectBytes %d is negative", ErrInvalidOptions, opts.ObjectBytes)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		res, err := Compact(ctx, b, opts)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if opts.Done != nil {
			opts.Done(res, err)
		} else if err != nil {
			slog.Warn("lake: compaction failed", "error", err, "partitions", res.Partitions)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// EnsurePlaceholders stores the lake's empty placeholder objects (see
// lakeformat) where they are missing, so DuckDB's globs always match a file.
func EnsurePlaceholders(ctx context.Context, b Bucket) error {
	objs, err := ListAll(ctx, b, lakeformat.PlaceholderRoot)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, o := range objs {
		have[o.Key] = true
	}
	for _, key := range []string{lakeformat.PlaceholderJSONL, lakeformat.PlaceholderParquet, lakeformat.PlaceholderDay} {
		if have[key] {
			continue
		}
		var body []byte
		if strings.HasSuffix(key, lakeformat.Parquet) {
			body = lakeparquet.Empty()
		}
		if err := b.Put(ctx, key, bytes.NewReader(body), PutOptions{}); err != nil {
			return fmt.Errorf("lake: compact: put %s: %w", key, err)
		}
	}
	return nil
}

// compactor is one Compact call.
type compactor struct {
	b    Bucket
	opts CompactOptions
	mu   sync.Mutex // guards res and calls of opts.Progress
	res  *CompactResult
	// folders serves the Dir bucket's fast path (compact_dir.go).
	folders dirFolders
}

// day compacts what needs it in one day's objects (key order).
func (c *compactor) day(ctx context.Context, objs []ObjectInfo) error {
	first, _, _, _ := lakeformat.Parse(objs[0].Key)
	start := first.Truncate(24 * time.Hour)
	if !start.Add(24 * time.Hour).After(c.opts.Before) {
		return c.partition(ctx, lakeformat.DayPrefix(start), objs, true)
	}
	var errs []error
	for i := 0; i < len(objs); {
		hour, _, day, _ := lakeformat.Parse(objs[i].Key)
		j := i
		var part []ObjectInfo
		for ; j < len(objs); j++ {
			h, _, d, _ := lakeformat.Parse(objs[j].Key)
			if d != day || !h.Equal(hour) {
				break
			}
			part = append(part, objs[j])
		}
		i = j
		if day || hour.Add(time.Hour).After(c.opts.Before) {
			continue
		}
		if err := c.partition(ctx, lakeformat.HourPrefix(hour), part, false); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				return err
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// settled reports whether a partition's objects need no compaction: only
// compacted objects of the partition's own level, all of one run.
func settled(folder string, objs []ObjectInfo) bool {
	run := ""
	for _, o := range objs {
		name := o.Key[strings.LastIndexByte(o.Key, '/')+1:]
		r, ok := lakeformat.CompactRun(name)
		if !ok || o.Key != folder+name || run != "" && r != run {
			return false
		}
		run = r
	}
	return true
}

// partition compacts objs, the objects of one hour or day folder.
func (c *compactor) partition(ctx context.Context, folder string, objs []ObjectInfo, isDay bool) error {
	if settled(folder, objs) {
		return nil
	}
	run := newULID(time.Now())
	var (
		buf     []lakeparquet.Row
		size    int64
		written []string
		res     CompactResult
		done    []ObjectInfo
	)
	fail := func(err error) error {
		// Leave the partition as it was: remove what this run wrote.
		for _, k := range written {
			_ = c.b.Delete(context.WithoutCancel(ctx), k)
		}
		return err
	}
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		buf = lakeparquet.Dedupe(buf)
		var body bytes.Buffer
		if err := lakeparquet.Write(&body, buf); err != nil {
			return err
		}
		key := folder + lakeformat.CompactName(run, len(written))
		if err := c.b.Put(ctx, key, bytes.NewReader(body.Bytes()), PutOptions{ContentType: "application/vnd.apache.parquet"}); err != nil {
			return fmt.Errorf("lake: compact: put %s: %w", key, err)
		}
		written = append(written, key)
		res.ObjectsOut++
		res.BytesOut += int64(body.Len())
		res.Events += int64(len(buf))
		clear(buf)
		buf, size = buf[:0], 0
		return nil
	}
	// Room for the rows of the first output at once (growing a slice of
	// rows by doubling costs as much CPU as parsing them): at least one
	// row per rowBytesGuess bytes of input.
	var in int64
	for _, o := range objs {
		in += o.Size
	}
	buf = make([]lakeparquet.Row, 0, min(in, c.opts.ObjectBytes)/rowBytesGuess+1)
	take, stop := c.prefetch(ctx, objs, c.opts.ObjectBytes/4)
	defer stop()
	for i, o := range objs {
		f := take(i)
		if f.err != nil {
			return fail(f.err)
		}
		if !f.found {
			continue // another Compact removed it: its events are in that one's output
		}
		add := func(r lakeparquet.Row) error {
			buf = append(buf, r)
			size += int64(r.Size())
			if size >= c.opts.ObjectBytes {
				return flush()
			}
			return nil
		}
		var err error
		if f.parsed {
			err = f.parseErr
			for i := 0; err == nil && i < len(f.rows); i++ {
				err = add(f.rows[i])
			}
		} else {
			err = c.parse(o.Key, f.data, add)
		}
		if err != nil {
			return fail(err)
		}
		res.ObjectsIn++
		res.BytesIn += int64(len(f.data))
		done = append(done, o)
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	// Every output is stored: the inputs may go.
	if err := c.deleteAll(ctx, done); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res.Partitions++
	c.res.ObjectsIn += res.ObjectsIn
	c.res.ObjectsOut += res.ObjectsOut
	c.res.BytesIn += res.BytesIn
	c.res.BytesOut += res.BytesOut
	c.res.Events += res.Events
	if c.opts.Progress != nil {
		c.opts.Progress(folder, *c.res)
	}
	return nil
}

// rowBytesGuess is about the fewest bytes of JSON Lines one event takes.
const rowBytesGuess = 160

// ioWorkers is how many objects Compact reads or removes at once: object
// stores (and a folder's fsyncs) answer slowly one by one and well in
// parallel. It also bounds the objects held in memory ahead of the one
// being added to the output (see prefetch).
const ioWorkers = 16

// parseAheadBytes is the largest JSON Lines object whose rows the reading
// goroutine parses (in parallel with the others): a partition of many small
// objects is parsed on every core, while the rows held ahead stay a few MB.
// A Parquet input is parsed in turn: its rows can be 50× its size.
const parseAheadBytes = 256 << 10

// fetched is an object's content, or why there is none; for a small object
// also its rows (parsed), or why it has none (parseErr).
type fetched struct {
	data     []byte
	found    bool
	err      error
	parsed   bool
	rows     []lakeparquet.Row
	parseErr error
}

// prefetch reads objs in the background for take, which returns each
// object's content in objs's order. At most ioWorkers objects, and at most
// aheadBytes bytes of them (the listed sizes; one object of any size when
// none is held), are being read or waiting for take at once, so memory
// stays bounded however many or large the objects. stop ends the reads
// still going.
func (c *compactor) prefetch(ctx context.Context, objs []ObjectInfo, aheadBytes int64) (take func(i int) fetched, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make([]chan fetched, len(objs))
	for i := range out {
		out[i] = make(chan fetched, 1)
	}
	var (
		mu   sync.Mutex
		n    int   // objects being read or waiting for take
		held int64 // their listed sizes
	)
	wake := make(chan struct{}, 1) // take made room
	enter := func(size int64) bool {
		mu.Lock()
		defer mu.Unlock()
		if n >= ioWorkers || n > 0 && held+size > aheadBytes {
			return false
		}
		n++
		held += size
		return true
	}
	go func() {
		for i, o := range objs {
			for !enter(o.Size) {
				select {
				case <-wake:
				case <-ctx.Done():
					for _, ch := range out[i:] {
						ch <- fetched{err: ctx.Err()}
					}
					return
				}
			}
			go func() { out[i] <- c.fetchParsed(ctx, o.Key) }()
		}
	}()
	take = func(i int) fetched {
		f := <-out[i]
		mu.Lock()
		n--
		held -= objs[i].Size
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
		return f
	}
	return take, cancel
}

// fetchParsed reads the object at key and, when it is a small JSON Lines
// object, parses it.
func (c *compactor) fetchParsed(ctx context.Context, key string) fetched {
	f := c.fetch(ctx, key)
	if f.found && len(f.data) <= parseAheadBytes && strings.HasSuffix(key, lakeformat.JSONL) {
		f.parsed = true
		f.rows = make([]lakeparquet.Row, 0, bytes.Count(f.data, []byte{'\n'})+1)
		f.parseErr = c.parse(key, f.data, func(r lakeparquet.Row) error {
			f.rows = append(f.rows, r)
			return nil
		})
	}
	return f
}

// fetch reads the object at key; found is false when it is gone.
func (c *compactor) fetch(ctx context.Context, key string) fetched {
	if d, ok := c.b.(*dirBucket); ok {
		return d.compactRead(ctx, &c.folders, key)
	}
	obj, err := c.b.Get(ctx, key)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return fetched{}
		}
		return fetched{err: fmt.Errorf("lake: compact: get %s: %w", key, err)}
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(obj.Body)
	if err != nil {
		return fetched{err: fmt.Errorf("lake: compact: read %s: %w", key, err)}
	}
	return fetched{data: data, found: true}
}

// deleteAll removes objs, ioWorkers at a time.
func (c *compactor) deleteAll(ctx context.Context, objs []ObjectInfo) error {
	if d, ok := c.b.(*dirBucket); ok {
		return d.compactDelete(ctx, &c.folders, objs)
	}
	if bd, ok := c.b.(BatchDeleter); ok {
		return c.deleteBatches(ctx, bd, objs)
	}
	sem := make(chan struct{}, ioWorkers)
	errs := make([]error, len(objs))
	var wg sync.WaitGroup
	for i, o := range objs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.b.Delete(ctx, o.Key); err != nil {
				errs[i] = fmt.Errorf("lake: compact: delete %s: %w", o.Key, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// deleteBatches removes objs MaxBatchDelete per request, ioWorkers
// requests at a time; a batch that fails is removed key by key.
func (c *compactor) deleteBatches(ctx context.Context, bd BatchDeleter, objs []ObjectInfo) error {
	sem := make(chan struct{}, ioWorkers)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for start := 0; start < len(objs); start += MaxBatchDelete {
		keys := make([]string, 0, min(MaxBatchDelete, len(objs)-start))
		for _, o := range objs[start:min(start+MaxBatchDelete, len(objs))] {
			keys = append(keys, o.Key)
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if bd.DeleteMany(ctx, keys) == nil {
				return
			}
			// A server without DeleteObjects, or keys it did not remove:
			// one request per key, whose errors are the ones to report.
			for _, k := range keys {
				if err := c.b.Delete(ctx, k); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("lake: compact: delete %s: %w", k, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// parse calls add with each event of the object at key, whose content is
// data.
func (c *compactor) parse(key string, data []byte, add func(lakeparquet.Row) error) error {
	hour, name, _, _ := lakeformat.Parse(key)
	if strings.HasSuffix(key, lakeformat.Parquet) {
		rows, err := lakeparquet.Read(data, nil)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorrupt, quoteKey(key), err)
		}
		for _, r := range rows {
			if err := add(r); err != nil {
				return err
			}
		}
		return nil
	}
	src := lakeformat.HourKey(hour) + "/" + name
	for line := 1; len(data) > 0; line++ {
		text := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			text, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if t := bytes.TrimSpace(text); len(t) > 0 {
			row, err := lakeparquet.FromLine(t, src, line)
			if err != nil {
				return fmt.Errorf("%w: %s line %d: %v", ErrCorrupt, quoteKey(key), line, err)
			}
			if err := add(row); err != nil {
				return err
			}
		}
	}
	return nil
}

// newULID returns a ULID (Crockford base32 of 48 bits of milliseconds and
// 80 random bits): compaction runs sort by time and never collide.
func newULID(t time.Time) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	_, _ = rand.Read(b[6:])
	// 128 bits as 26 base32 digits, most significant first.
	var out [26]byte
	hi := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	lo := uint64(b[8])<<56 | uint64(b[9])<<48 | uint64(b[10])<<40 | uint64(b[11])<<32 | uint64(b[12])<<24 | uint64(b[13])<<16 | uint64(b[14])<<8 | uint64(b[15])
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
