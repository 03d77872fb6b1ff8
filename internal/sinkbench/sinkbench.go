// Package sinkbench measures what delivering events costs the producing
// process: CPU time per delivered event of an emitter whose only sink is
// the one under test, against the same emitter delivering over HTTP. The
// receivers run in other processes (a re-exec'd test binary, a broker
// binary), so the figure is the producer's alone.
//
// A sink package's benchmark calls Serve from its TestMain (so the test
// binary can act as the HTTP receiver), starts its broker in a child
// process, and calls Compare:
//
//	func TestMain(m *testing.M) { sinkbench.Serve(); os.Exit(m.Run()) }
//
//	func BenchmarkCPU(b *testing.B) {
//		... start the broker in its own process ...
//		r := sinkbench.Compare(b, 20_000, 3, func() emitter.Sink { ... })
//		b.ReportMetric(r.Ratio(), "cpu-ratio")
//	}
package sinkbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
)

// receiverEnv makes a test binary that calls Serve act as the HTTP
// receiver instead of running its tests.
const receiverEnv = "EVENTS_SINKBENCH_RECEIVER"

// Serve turns the test binary into the HTTP receiver when StartReceiver
// re-executed it (and returns at once otherwise): it answers every POST
// with 200, prints its URL on stdout and exits when stdin closes. Call it
// first thing in TestMain.
func Serve() {
	if os.Getenv(receiverEnv) == "" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})}
	go srv.Serve(ln) //nolint:errcheck // ends with the process
	fmt.Println("http://" + ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin) // the parent holds stdin open while it needs us
	os.Exit(0)
}

// StartReceiver re-executes the test binary as the HTTP receiver (see
// Serve) and returns its URL. The child ends when the test does.
func StartReceiver(tb testing.TB) string {
	tb.Helper()
	return StartChild(tb, exec.Command(os.Args[0], "-test.run=^$"), receiverEnv+"=1")
}

// StartChild starts cmd with the extra environment entries env, reads the
// first line it prints (an address) and returns it. The child's stdin is
// held open until the test ends, then closed and the child killed.
func StartChild(tb testing.TB, cmd *exec.Cmd, env ...string) string {
	tb.Helper()
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("child %s: no address: %v", cmd.Path, err)
	}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "error") {
		tb.Fatalf("child %s: %s", cmd.Path, line)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return line
}

// CPU returns the CPU time (user and system) this process has used.
func CPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// doc is the document the measured changes carry: a typical small record.
type doc struct {
	Name  string   `json:"name"`
	Email string   `json:"email"`
	Age   int      `json:"age"`
	Tags  []string `json:"tags"`
}

// Deliver writes n changes to a new store, then starts an emitter with
// opts (CDC on) and returns the process CPU time it took from there until
// Flush reported every change delivered, per event.
func Deliver(tb testing.TB, n int, opts emitter.Options) time.Duration {
	tb.Helper()
	ctx := context.Background()
	store, err := cdc.Open(ctx, filepath.Join(tb.TempDir(), "store.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	users, err := cdc.NewCollection[doc](store, "users")
	if err != nil {
		tb.Fatal(err)
	}
	const chunk = 1000
	for i := 0; i < n; i += chunk {
		entries := make([]cdc.Entry[doc], 0, chunk)
		for j := i; j < min(i+chunk, n); j++ {
			entries = append(entries, cdc.Entry[doc]{ID: fmt.Sprintf("user-%07d", j),
				Doc: doc{Name: "User " + fmt.Sprint(j), Email: fmt.Sprintf("u%d@example.com", j), Age: j % 90, Tags: []string{"a", "b"}}})
		}
		if err := users.PutMany(ctx, entries); err != nil {
			tb.Fatal(err)
		}
	}
	opts.CDC = true
	cpu0 := CPU()
	em, err := emitter.New(store, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := em.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	used := CPU() - cpu0
	st := em.Stats()
	if err := em.Close(ctx); err != nil {
		tb.Fatal(err)
	}
	delivered := st.HTTP.Delivered
	for _, s := range st.Sinks {
		delivered = max(delivered, s.Delivered)
	}
	if delivered < uint64(n) {
		tb.Fatalf("delivered %d of %d changes: %+v", delivered, n, st)
	}
	return used / time.Duration(n)
}

// Result is what Compare measured: CPU per delivered event of each run,
// the sink's and the HTTP baseline's alternately.
type Result struct {
	Sink, HTTP []time.Duration
}

// Ratio is the median of the sink's CPU per event over the median of the
// HTTP baseline's.
func (r Result) Ratio() float64 {
	return float64(median(r.Sink)) / float64(median(r.HTTP))
}

func median(d []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(d))
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// Compare delivers n changes rounds times through a sink made by newSink
// and as many times over HTTP to a receiver in a child process,
// alternately, with the same batch size (100, the HTTP sink's default), and
// returns CPU per event of each run. The test binary's TestMain must call
// Serve.
func Compare(tb testing.TB, n, rounds int, newSink func() emitter.Sink) Result {
	tb.Helper()
	url := StartReceiver(tb)
	var r Result
	for range rounds {
		r.Sink = append(r.Sink, Deliver(tb, n, emitter.Options{Sinks: []emitter.Sink{newSink()}}))
		r.HTTP = append(r.HTTP, Deliver(tb, n, emitter.Options{Endpoint: url}))
	}
	return r
}
