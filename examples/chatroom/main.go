// Command chatroom is the whole job of events for Go in one program: a chat
// room whose state lives in an SQLite file, with every change captured,
// shipped to an HTTP ingest server and to a local lakehouse folder,
// snapshotted, restored to an earlier bookmark, and analysed with DuckDB.
//
//	go run ./examples/chatroom [-dir .events/chatroom] [-users 5] [-messages 20]
//
// It keeps its data under -dir, so a second run works on the existing data.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.Dir, "dir", ".events/chatroom", "folder for the SQLite file and the lake (created if missing)")
	flag.StringVar(&cfg.DB, "db", "", "SQLite file (default: chatroom.db in -dir)")
	flag.StringVar(&cfg.Lake, "lake", "", "lake folder (default: lake in -dir)")
	flag.IntVar(&cfg.Users, "users", 5, "users to create")
	flag.IntVar(&cfg.Messages, "messages", 20, "messages to send")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chatroom:", err)
		os.Exit(1)
	}
}

// config is what a run works on.
type config struct {
	Dir      string // folder holding the defaults below
	DB       string // the SQLite file
	Lake     string // the lake folder
	Users    int    // users to create
	Messages int    // messages to send
}

// progress prints a step that may take a moment.
func progress(out io.Writer, format string, args ...any) {
	fmt.Fprintf(out, "… "+format+"\n", args...)
}
