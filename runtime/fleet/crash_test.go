package fleet_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
)

const (
	crashDirEnv  = "FLEET_CRASH_DIR"
	crashURLEnv  = "FLEET_CRASH_URL"
	crashLakeEnv = "FLEET_CRASH_LAKE"
	crashRunEnv  = "FLEET_CRASH_RUN"
)

// TestMain lets the test binary act as the child a crash test kills.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir, os.Getenv(crashURLEnv), os.Getenv(crashLakeEnv), os.Getenv(crashRunEnv))
		return
	}
	os.Exit(m.Run())
}

func crashOptions(dir, url, lakeDir string) fleet.Options {
	return fleet.Options{Dir: dir, Class: "Crash", MaxOpen: 8,
		Emitter: emitter.Options{Endpoint: url, Bucket: lake.Dir(lakeDir), FlushInterval: 20 * time.Millisecond}}
}

// crashChild writes through a fleet until killed, printing "ack store doc"
// once each write's Do returned.
func crashChild(dir, url, lakeDir, run string) {
	ctx := context.Background()
	f, err := fleet.Open(ctx, crashOptions(dir, url, lakeDir))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	go f.Run(ctx)
	out := bufio.NewWriter(os.Stdout)
	for n := 0; ; n++ {
		store := fmt.Sprintf("s%02d", rand.IntN(20))
		doc := fmt.Sprintf("r%s-%d", run, n)
		err := f.Do(ctx, store, func(s *cdc.Store) error {
			c, err := cdc.NewCollection[user](s, "users")
			if err != nil {
				return err
			}
			return c.Put(ctx, doc, user{Name: doc})
		})
		if err != nil {
			fmt.Fprintln(out, "error", err)
			out.Flush()
			os.Exit(1)
		}
		fmt.Fprintln(out, "ack", store, doc)
		out.Flush()
	}
}

// TestCrashDeliversAcknowledged: a child writing through a fleet is killed
// (SIGKILL) several times; a new fleet on the same files then delivers
// every acknowledged change to the ingest and the lake, and no bookmark of
// a store is ever shipped as two different changes.
func TestCrashDeliversAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	ctx := context.Background()
	dir, lakeDir := t.TempDir(), t.TempDir()
	in := newIngest(t)
	acked := map[[2]string]bool{}
	for run := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashURLEnv+"="+in.srv.URL,
			crashLakeEnv+"="+lakeDir, crashRunEnv+"="+fmt.Sprint(run))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		deadline := time.After(time.Duration(300+rand.IntN(500)) * time.Millisecond)
		n := 0
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				f := strings.Fields(l)
				if len(f) == 3 && f[0] == "ack" {
					acked[[2]string{f[1], f[2]}] = true
					n++
				} else {
					t.Fatalf("child: %s", l)
				}
			case <-deadline:
				_ = cmd.Process.Signal(syscall.SIGKILL)
				for l := range lines { // what it wrote before dying
					if f := strings.Fields(l); len(f) == 3 && f[0] == "ack" {
						acked[[2]string{f[1], f[2]}] = true
						n++
					}
				}
				break read
			}
		}
		_ = cmd.Wait()
		t.Logf("run %d: %d acknowledged writes", run, n)
	}
	f := openFleet(t, crashOptions(dir, in.srv.URL, lakeDir))
	if err := f.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	got, _ := in.snapshot()
	check := func(name string, evs []wireEvent) {
		have := map[[2]string]bool{}
		byBookmark := map[[2]string]string{}
		for _, ev := range evs {
			have[[2]string{ev.DO.ID, ev.DocID}] = true
			k := [2]string{ev.DO.ID, ev.Bookmark}
			if prev, ok := byBookmark[k]; ok && prev != ev.ID {
				t.Errorf("%s: store %s bookmark %s shipped as %s and %s", name, ev.DO.ID, ev.Bookmark, prev, ev.ID)
			}
			byBookmark[k] = ev.ID
			if ev.DO.Class != "Crash" {
				t.Errorf("%s: do.class %q", name, ev.DO.Class)
			}
		}
		missing := 0
		for k := range acked {
			if !have[k] {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%s: %d of %d acknowledged writes missing", name, missing, len(acked))
		}
	}
	check("http", got)
	check("lake", lakeEvents(t, lake.Dir(lakeDir)))
	if len(acked) == 0 {
		t.Fatalf("no write was acknowledged")
	}
}
