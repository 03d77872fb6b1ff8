// Command tenants is a multi-tenant net/http service with one SQLite store
// per tenant, all on one fleet (package runtime/fleet): every tenant's
// changes and custom events go through one delivery pipeline to an HTTP
// ingest server and a local lakehouse folder.
//
//	go run ./examples/tenants [-dir .events/tenants] [-tenants 20] [-requests 200]
//
// It starts the service and a small ingest server on loopback, sends
// requests for many tenants, waits for delivery, prints what each sink got
// and exits. Data stays under -dir, so a second run continues it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.Dir, "dir", ".events/tenants", "folder for the stores and the lake (created if missing)")
	flag.IntVar(&cfg.Tenants, "tenants", 20, "tenants to serve")
	flag.IntVar(&cfg.Requests, "requests", 200, "requests to send")
	flag.IntVar(&cfg.MaxOpen, "max-open", 8, "stores open at once (fewer than tenants shows eviction)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tenants:", err)
		os.Exit(1)
	}
}

// config is what a run works on.
type config struct {
	Dir      string // stores in Dir/stores, the lake in Dir/lake
	Tenants  int
	Requests int
	MaxOpen  int
}
