package gen

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events_gen.go")
	content := []byte(header(nil) + "\n\npackage x\n")
	written, err := Write([]File{{Path: path, Content: content}})
	if err != nil || len(written) != 1 || written[0] != path {
		t.Fatalf("Write = %v, %v", written, err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("content %q, %v", got, err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, %v", info.Mode(), err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	written, err = Write([]File{{Path: path, Content: content}})
	if err != nil || len(written) != 0 {
		t.Fatalf("second Write = %v, %v", written, err)
	}
	if info, _ := os.Stat(path); !info.ModTime().Equal(old) {
		t.Error("unchanged file rewritten")
	}
	changed := append(bytes.Clone(content), "// more\n"...)
	if written, err := Write([]File{{Path: path, Content: changed}}); err != nil || len(written) != 1 {
		t.Fatalf("third Write = %v, %v", written, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A directory that does not exist: an error, nothing left behind.
	_, err = Write([]File{{Path: filepath.Join(dir, "missing", "x.go"), Content: content}})
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "gen: write") {
		t.Errorf("Write into a missing directory: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for out, ok := range map[string]bool{
		"": true, "events_gen.go": true, "x.go": true, "x_test.go": false, "x.txt": false, "a/b.go": false, "..": false, ".": false,
	} {
		c := Config{Output: out}
		if err := c.validate(); (err == nil) != ok {
			t.Errorf("Output %q: %v", out, err)
		}
	}
}

func TestDiagnosticFormat(t *testing.T) {
	d := Diagnostic{Msg: "m"}
	d.Pos.Filename, d.Pos.Line, d.Pos.Column = "/a/b/c.go", 3, 4
	for dir, want := range map[string]string{
		"":     "/a/b/c.go:3:4: m",
		"/a":   "b/c.go:3:4: m",
		"/a/b": "c.go:3:4: m",
		"/x":   "/a/b/c.go:3:4: m",
	} {
		if got := d.Format(dir); got != want {
			t.Errorf("Format(%q) = %q, want %q", dir, got, want)
		}
	}
	if got := (Diagnostic{Msg: "m"}).Format("/a"); got != "eventsgen: m" {
		t.Errorf("no position: %q", got)
	}
	errs := Errors{d, {Msg: "n"}}
	if got := errs.Error(); got != "/a/b/c.go:3:4: m\neventsgen: n" {
		t.Errorf("Error() = %q", got)
	}
}
