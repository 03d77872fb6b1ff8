package cdc_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
)

const crashChildEnv = "CDC_CRASH_CHILD_DB"

// TestMain lets the test binary act as the crashing child process.
func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if path := os.Getenv(holdChildEnv); path != "" {
		holdChild(path)
		return
	}
	os.Exit(m.Run())
}

// crashChild writes forever (until killed), printing "ack N" after write N
// has returned.
func crashChild(path string) {
	ctx := context.Background()
	s, err := cdc.Open(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	users, err := cdc.NewCollection[User](s, "users")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		if err := users.Put(ctx, crashID(i), User{Age: i}); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("ack", i) // os.Stdout is unbuffered: the line is out once Put returned
	}
}

func crashID(i int) string { return fmt.Sprintf("d%02d", i%37) }

// TestCrashLosesNoAcknowledgedWrite kills a writing child process with
// SIGKILL at a random moment, then checks every acknowledged write is there
// with exactly one change row, and bookmarks have no gap or duplicate.
func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	for round := range 3 {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "crash.db")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
			stdout, err := cmd.StdoutPipe()
			must(t, err)
			must(t, cmd.Start())
			killAfter := 50 + rand.IntN(400)
			acked := -1
			lines := bufio.NewScanner(stdout)
			deadline := time.Now().Add(30 * time.Second)
			for lines.Scan() && time.Now().Before(deadline) {
				line := lines.Text()
				n, ok := strings.CutPrefix(line, "ack ")
				if !ok {
					t.Fatalf("child: %s", line)
				}
				acked, _ = strconv.Atoi(n)
				if acked >= killAfter {
					break
				}
			}
			must(t, cmd.Process.Signal(syscall.SIGKILL))
			_ = cmd.Wait()
			if acked < killAfter {
				t.Fatalf("child acknowledged only %d writes", acked+1)
			}
			// The child may have committed a few more writes than it printed.
			s, err := cdc.Open(context.Background(), path)
			must(t, err)
			defer s.Close()
			users, err := cdc.NewCollection[User](s, "users")
			must(t, err)
			changes, err := users.Changes(context.Background(), "", 1_000_000)
			must(t, err)
			if len(changes) < acked+1 {
				t.Fatalf("%d change rows for %d acknowledged writes", len(changes), acked+1)
			}
			for k, c := range changes {
				if want := changelog.BookmarkFromSeq(int64(k + 1)); c.Bookmark != want {
					t.Fatalf("change %d has bookmark %s, want %s (gap or duplicate)", k, c.Bookmark, want)
				}
				if c.DocID != crashID(k) || c.Doc == nil || c.Doc.Age != k {
					t.Fatalf("change %d = %s %+v, want write %d", k, c.DocID, c.Doc, k)
				}
				wantOp := cdc.OpUpdate
				if k < 37 {
					wantOp = cdc.OpInsert
				}
				if c.Op != wantOp {
					t.Fatalf("change %d is %s, want %s", k, c.Op, wantOp)
				}
			}
			last := len(changes) - 1
			for i := max(0, last-36); i <= last; i++ {
				got, ok, err := users.Get(context.Background(), crashID(i))
				if err != nil || !ok || got.Age != i {
					t.Fatalf("document %s = %+v, %v, %v; want age %d", crashID(i), got, ok, err, i)
				}
			}
			t.Logf("killed after %d acknowledged writes; %d committed", acked+1, len(changes))
		})
	}
}
