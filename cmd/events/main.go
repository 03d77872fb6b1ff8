// Command events is the one command for operators of this module's event
// streams and lakes:
//
//	events serve     run the ingest server over a local lake folder or S3/R2
//	events query     run a query builder on DuckDB over a local lake folder
//	events snapshot  snapshot a store file into a lake
//	events restore   restore a store file from a lake (latest, a bookmark or a time)
//	events tail      print a store's change log as JSON lines, optionally following it
//	events compact   compact a lake's older hours and days into Parquet
//
// "events CMD -h" explains each. Exit codes, for scripts:
//
//	0  success
//	1  failure (I/O, lake, database, server)
//	2  usage: unknown command, bad flag or flag value
//	3  the store is held by another process (an emitter, a fleet or another events command)
//	4  nothing found: no snapshot to restore from
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitBusy     = 3
	exitNotFound = 4
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr is a usage error (exit 2).
func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

const topUsage = `events is the operator's command for event streams, stores and lakes.

Usage:
  events serve     -lake DIR|s3://BUCKET [-addr 127.0.0.1:8080] ...   run the ingest server
  events query     -lake DIR [events|history|latency|pitr] [flags]   query the lake on DuckDB
  events snapshot  -store FILE -id ID -lake DIR|s3://BUCKET           snapshot a store into the lake
  events restore   -store FILE -id ID -lake DIR|s3://BUCKET [-bookmark B | -time T]
  events tail      -store FILE [-after B] [-follow] [-limit N]        print the change log as JSON lines
  events compact   -lake DIR|s3://BUCKET [-age 2h | -before TIME]     compact older hours and days into Parquet

Run "events CMD -h" for a command's flags.

Exit codes: 0 success, 1 failure, 2 usage, 3 store held by another process,
4 nothing found (no snapshot to restore from).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs one command and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return exitUsage
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"serve":    cmdServe,
		"query":    cmdQuery,
		"snapshot": cmdSnapshot,
		"restore":  cmdRestore,
		"tail":     cmdTail,
		"compact":  cmdCompact,
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, topUsage)
		return exitOK
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "events: unknown command %q\n\n%s", name, topUsage)
		return exitUsage
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "events %s: %v\n", name, err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

// newFlags returns a flag set for cmd that prints usage (the text, then
// the flags) to stderr and returns errors instead of exiting.
func newFlags(cmd, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("events "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; a bad flag is a usage error, -h is flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}
