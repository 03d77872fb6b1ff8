package natssink_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dotdo/events/internal/sinkbench"
	"github.com/dotdo/events/runtime/emitter"
)

// benchEnv turns on TestSinkBenchCPU.
const benchEnv = "EVENTS_SINK_BENCH"

// TestSinkBenchCPU measures the producer's CPU per delivered event with the
// NATS sink against the HTTP sink (sinkbench.Compare), the broker a
// nats-server binary built from the module in its own process, JetStream
// on a temp folder. Set EVENTS_SINK_BENCH=1 (and EVENTS_SINK_BENCH_N,
// EVENTS_SINK_BENCH_ROUNDS to change 20,000 events × 5 rounds).
func TestSinkBenchCPU(t *testing.T) {
	if os.Getenv(benchEnv) != "1" {
		t.Skip("set " + benchEnv + "=1 to measure")
	}
	n, rounds := envInt(benchEnv+"_N", 20_000), envInt(benchEnv+"_ROUNDS", 5)
	dir := t.TempDir()
	bin := filepath.Join(dir, "nats-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building nats-server: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	srv := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", filepath.Join(dir, "js"))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	})
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	var nc *nats.Conn
	for range 200 { // the server's start, bounded
		if nc, err = nats.Connect(url); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	createStream(t, js, 2*time.Minute)
	r := sinkbench.Compare(t, n, rounds, func() emitter.Sink { return newSink(t, js) })
	st, err := js.Stream(context.Background(), testStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(n * rounds); info.State.Msgs != want {
		t.Fatalf("stream holds %d messages, want %d", info.State.Msgs, want)
	}
	t.Logf("CPU per event: nats %v, http %v", r.Sink, r.HTTP)
	t.Logf("ratio nats/http (medians): %.2f", r.Ratio())
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
