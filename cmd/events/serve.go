package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/dotdo/events/runtime/ingest"
)

const serveUsage = `Usage: events serve -lake DIR|s3://BUCKET|r2://BUCKET [-addr 127.0.0.1:8080] [flags]

Runs the ingest server (package runtime/ingest): POST /ingest takes batches
of the emitter's, a fleet's or the upstream JavaScript emitter's wire format
and answers 200 once the events are durable in the lake; GET /health;
GET /metrics (Prometheus). SIGTERM or SIGINT stops accepting connections,
finishes the requests in flight (up to -shutdown-timeout) and exits 0.

Keys: EVENTS_API_KEYS holds the accepted bearer keys, comma-separated (none:
no key needed). A key may be limited to stores: "KEY;prefix=tenant-a-;class=Room"
accepts only events whose do.id starts with one of its prefixes and whose
do.class is one of its classes.

` + lakeHelp

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", serveUsage, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0: any free port, printed on start)")
	lakeSpec := fs.String("lake", "", "the lake: a folder, s3://BUCKET or r2://BUCKET (required)")
	maxInFlight := fs.Int("max-in-flight", ingest.DefaultMaxInFlight, "requests handled at once; more get 503 with Retry-After")
	maxAge := fs.Duration("max-age", ingest.DefaultMaxAge, "oldest event ts accepted, before now (negative: no limit)")
	maxFuture := fs.Duration("max-future", ingest.DefaultMaxFuture, "latest event ts accepted, after now (negative: no limit)")
	rate := fs.Float64("rate-limit", 0, "requests per second per key (0: no limit); more get 429")
	shutdown := fs.Duration("shutdown-timeout", 30*time.Second, "how long SIGTERM waits for requests in flight")
	headerTimeout := fs.Duration("read-header-timeout", 10*time.Second, "how long a client may take to send its request headers")
	readTimeout := fs.Duration("read-timeout", time.Minute, "how long a client may take to send a whole request (a slow body holds one of -max-in-flight)")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return usageErr("-log-level %q: %v", *level, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	bucket, err := openLake(*lakeSpec)
	if err != nil {
		return err
	}
	plain, scoped, err := parseKeys(os.Getenv("EVENTS_API_KEYS"))
	if err != nil {
		return err
	}
	srv, err := ingest.New(ingest.Options{
		Bucket: bucket, Keys: plain, ScopedKeys: scoped, MaxInFlight: *maxInFlight,
		MaxAge: *maxAge, MaxFuture: *maxFuture, RateLimit: *rate, Logger: log,
	})
	if err != nil {
		return usageErr("%v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: *headerTimeout,
		ReadTimeout:       *readTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	auth := "no key needed"
	if n := len(plain) + len(scoped); n > 0 {
		auth = fmt.Sprintf("%d keys", n)
	}
	log.Info("events serve: listening", "url", "http://"+ln.Addr().String(), "lake", describeLake(*lakeSpec), "auth", auth)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("events serve: shutting down, finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), *shutdown)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("events serve: stopped")
	return nil
}

// parseKeys parses EVENTS_API_KEYS: comma-separated keys, each optionally
// followed by ";prefix=P" and ";class=C" limits.
func parseKeys(env string) ([]string, []ingest.Key, error) {
	var plain []string
	var scoped []ingest.Key
	for item := range strings.SplitSeq(env, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ";")
		if len(parts) == 1 {
			plain = append(plain, item)
			continue
		}
		k := ingest.Key{Secret: parts[0]}
		for _, p := range parts[1:] {
			name, val, ok := strings.Cut(p, "=")
			switch {
			case ok && name == "prefix" && val != "":
				k.StorePrefixes = append(k.StorePrefixes, val)
			case ok && name == "class" && val != "":
				k.Classes = append(k.Classes, val)
			default:
				return nil, nil, usageErr("EVENTS_API_KEYS: a key's limit %q is not prefix=P or class=C", p)
			}
		}
		scoped = append(scoped, k)
	}
	return plain, scoped, nil
}
