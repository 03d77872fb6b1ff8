package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kfake"
)

// The names the brokers are set up with.
const (
	topic      = "shop-events" // the Kafka topic
	subjects   = "shop"        // the NATS subject prefix: shop.{store}.{type}
	streamName = "SHOP"        // the JetStream stream capturing shop.>
)

// startKafka starts a one-broker Kafka cluster in process (franz-go's
// kfake, made for tests and examples) with the topic, and returns its
// address.
func startKafka() (addr string, stop func(), err error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic))
	if err != nil {
		return "", nil, fmt.Errorf("kafka: %w", err)
	}
	return c.ListenAddrs()[0], c.Close, nil
}

// startNATS starts an embedded NATS server with JetStream storing under
// dir, connects to it and makes sure the stream exists, with a duplicate
// window long enough for the sink's retries.
func startNATS(ctx context.Context, dir string) (js jetstream.JetStream, stop func(), err error) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: filepath.Join(dir, "nats"), NoLog: true, NoSigs: true})
	if err != nil {
		return nil, nil, fmt.Errorf("nats: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, nil, fmt.Errorf("nats: server not ready")
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		srv.Shutdown()
		return nil, nil, fmt.Errorf("nats: %w", err)
	}
	stop = func() {
		nc.Close()
		srv.Shutdown()
		srv.WaitForShutdown()
	}
	js, err = jetstream.New(nc)
	if err == nil {
		_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: streamName, Subjects: []string{subjects + ".>"},
			Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute})
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("nats: %w", err)
	}
	return js, stop, nil
}
