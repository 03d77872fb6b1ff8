// Package crashtest is the crash test of the emitter and its sinks: a
// re-executed test binary writes changes and emits custom events through
// an emitter until the test kills it with SIGKILL at a random moment; the
// test then restarts delivery and checks that nothing committed or
// acknowledged was lost.
package crashtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
)

// Doc is the document the child writes, in the collection "users".
type Doc struct {
	Age int `json:"age"`
}

// DocID is the id of change i of run.
func DocID(run string, i int) string { return fmt.Sprintf("r%s-d%05d", run, i) }

// Fail ends the child, telling the parent why.
func Fail(err error) {
	fmt.Println("error", err)
	os.Exit(2)
}

// Work is the child's loop, until it is killed: change i is a Put of DocID
// (run, i), followed by a custom event of type "crash" with the fields run
// and n = i. It prints "put I" once change I is committed, and "ack I" once
// every custom event up to I was flushed or persisted (every tenth step,
// Flush and PersistBatch by turns).
func Work(ctx context.Context, store *cdc.Store, em *emitter.Emitter, run string) {
	users, err := cdc.NewCollection[Doc](store, "users")
	if err != nil {
		Fail(err)
	}
	for i := 0; ; i++ {
		if err := users.Put(ctx, DocID(run, i), Doc{Age: i}); err != nil {
			Fail(err)
		}
		fmt.Println("put", i)
		if err := em.Emit(events.Custom{Type: "crash", Fields: map[string]any{"run": run, "n": i}}); err != nil {
			Fail(err)
		}
		if i%10 == 9 {
			if (i/10)%2 == 0 {
				err = em.Flush(ctx)
				if err != nil {
					err = em.PersistBatch(ctx)
				}
			} else {
				err = em.PersistBatch(ctx)
			}
			if err == nil {
				fmt.Println("ack", i)
			}
		}
	}
}

// Kill starts the test binary with the extra environment env (which makes
// its TestMain run the child), waits until the child has acknowledged acks
// times and committed a random number (0-24) of changes more, kills it with
// SIGKILL and returns the numbers of its last committed change and last
// acknowledged custom event.
func Kill(t testing.TB, env []string, acks int) (lastPut, lastAck int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lastPut, lastAck = -1, -1
	extra := rand.IntN(25)
	seen := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || f[0] != "put" && f[0] != "ack" {
			_ = cmd.Process.Kill()
			t.Fatalf("child: %s", sc.Text())
		}
		n, _ := strconv.Atoi(f[1])
		if f[0] == "put" {
			lastPut = n
			if seen >= acks {
				extra--
			}
		} else {
			lastAck = n
			seen++
		}
		if seen >= acks && extra <= 0 {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	_ = cmd.Wait()
	if seen < acks {
		t.Fatalf("child stopped after %d acks", seen)
	}
	return lastPut, lastAck
}
