// Command consumers shows the three ways to follow a store's changes: a
// typed Watch in process (and a named, durable one), a Kafka topic and a
// NATS JetStream stream, each fed by the same emitter.
//
//	go run ./examples/consumers [-dir .events/consumers] [-orders 20]
//
// It starts a Kafka broker (franz-go's in-process kfake) and a NATS server
// with JetStream (embedded) on loopback, writes orders to a store, and
// prints what each consumer decoded. Data stays under -dir: a second run
// continues the store and the JetStream stream, and the named watcher sees
// only what it has not seen before.
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
	flag.StringVar(&cfg.Dir, "dir", ".events/consumers", "folder for the store and the NATS server's data (created if missing)")
	flag.IntVar(&cfg.Orders, "orders", 20, "orders to write")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "consumers:", err)
		os.Exit(1)
	}
}

// config is what a run works on.
type config struct {
	Dir    string // the store (shop.db) and the NATS server's data (nats/)
	Orders int
}
