package gen

import (
	"fmt"
	"path/filepath"
	"strings"
)

// defaultOutput is the name of the generated file in each package directory.
const defaultOutput = "events_gen.go"

// Config says which packages to generate for and where the output goes.
type Config struct {
	// Dir is the directory the patterns, and the file names in Errors, are
	// relative to; "" means the current directory (file names in Errors
	// are then absolute).
	Dir string
	// Patterns name the packages, as for go build ("./...", an import
	// path, a directory); none means ".". With a pattern containing "...",
	// packages without annotated types are skipped; otherwise each named
	// package must have one.
	Patterns []string
	// Output is the file name written in each package's directory; ""
	// means events_gen.go. It must end in .go and not in _test.go.
	Output string
	// Env is the environment of the go command; nil means the process's.
	Env []string
	// BuildFlags are passed to the go command, e.g. -tags=integration.
	BuildFlags []string
}

func (c *Config) output() string {
	if c.Output == "" {
		return defaultOutput
	}
	return c.Output
}

func (c *Config) patterns() []string {
	if len(c.Patterns) == 0 {
		return []string{"."}
	}
	return c.Patterns
}

// wildcard reports whether a pattern may match packages without annotations.
func (c *Config) wildcard() bool {
	for _, p := range c.patterns() {
		if strings.Contains(p, "...") {
			return true
		}
	}
	return false
}

// validate checks the options that do not depend on the input.
func (c *Config) validate() error {
	out := c.output()
	if filepath.Base(out) != out || out == "." || out == ".." {
		return fmt.Errorf("gen: output %q must be a file name, without directories", out)
	}
	if !strings.HasSuffix(out, ".go") || strings.HasSuffix(out, "_test.go") {
		return fmt.Errorf("gen: output %q must end in .go and not in _test.go", out)
	}
	return nil
}
