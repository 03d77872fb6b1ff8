package cdc_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
)

const holdChildEnv = "CDC_HOLD_CHILD_DB"

// holdChild holds the store at path, says "held", and waits to be killed.
func holdChild(path string) {
	s, err := cdc.Open(context.Background(), path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	if _, err := cdcx.Store(s).Hold(); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("held")
	select {} // until SIGKILL
}

// TestHoldOneAtATime: a second holder of a store (same handle, another
// handle on the file, or a :memory: store held twice) fails with ErrHeld
// while the first lives, and gets it once the first released it.
func TestHoldOneAtATime(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s1, err := cdc.Open(ctx, path)
	must(t, err)
	defer s1.Close()
	s2, err := cdc.Open(ctx, path)
	must(t, err)
	defer s2.Close()
	mem, err := cdc.Open(ctx, ":memory:")
	must(t, err)
	defer mem.Close()

	for _, tc := range []struct {
		name          string
		first, second *cdc.Store
	}{{"same handle", s1, s1}, {"two handles", s1, s2}, {"memory", mem, mem}} {
		release, err := cdcx.Store(tc.first).Hold()
		if err != nil {
			t.Fatalf("%s: first hold: %v", tc.name, err)
		}
		if _, err := cdcx.Store(tc.second).Hold(); !errors.Is(err, cdc.ErrHeld) {
			t.Fatalf("%s: second hold = %v, want ErrHeld", tc.name, err)
		}
		must(t, release())
		again, err := cdcx.Store(tc.second).Hold()
		if err != nil {
			t.Fatalf("%s: hold after release: %v", tc.name, err)
		}
		must(t, again())
	}
	// Two :memory: stores are two databases: each has its own holder.
	other, err := cdc.Open(ctx, ":memory:")
	must(t, err)
	defer other.Close()
	r1, err := cdcx.Store(mem).Hold()
	must(t, err)
	r2, err := cdcx.Store(other).Hold()
	must(t, err)
	must(t, r1())
	must(t, r2())
}

// TestHoldAcrossProcesses: a holder in another process keeps this one out
// (ErrHeld, naming its pid); killed with SIGKILL, its hold is gone at once.
func TestHoldAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := cdc.Open(ctx, path)
	must(t, err)
	defer s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	defer cmd.Process.Kill() //nolint:errcheck // already dead on the normal path
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "held\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	_, err = cdcx.Store(s).Hold()
	if !errors.Is(err, cdc.ErrHeld) {
		t.Fatalf("hold while the child holds = %v, want ErrHeld", err)
	}
	if want := fmt.Sprint(cmd.Process.Pid); !containsWord(err.Error(), want) {
		t.Errorf("error %q does not name the holder's pid %s", err, want)
	}
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	release, err := cdcx.Store(s).Hold() // at once: no waiting, no lease to expire
	if err != nil {
		t.Fatalf("hold after the holder was killed: %v", err)
	}
	must(t, release())
}

func containsWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i:i+len(w)] == w && (i+len(w) == len(s) || s[i+len(w)] < '0' || s[i+len(w)] > '9') && (i == 0 || s[i-1] < '0' || s[i-1] > '9') {
			return true
		}
	}
	return false
}
