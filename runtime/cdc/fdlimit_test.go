//go:build linux

package cdc_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
)

// TestOutOfFileDescriptors: a store opened when the process is at its
// open-file limit says so (matching syscall.EMFILE) instead of SQLite's
// bare "unable to open database file (14)".
func TestOutOfFileDescriptors(t *testing.T) {
	var lim syscall.Rlimit
	must(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) //nolint:errcheck // restores the test process's limit
	// Use up every descriptor under a small limit.
	low := lim
	low.Cur = 64
	must(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	var held []*os.File
	defer func() {
		for _, f := range held {
			f.Close()
		}
	}()
	for range 128 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatal(err)
			}
			break
		}
		held = append(held, f)
	}
	_, err := cdc.Open(context.Background(), filepath.Join(t.TempDir(), "store.db"))
	if !errors.Is(err, syscall.EMFILE) {
		t.Fatalf("Open at the fd limit = %v, want an error matching EMFILE", err)
	}
	t.Log(err)
}
