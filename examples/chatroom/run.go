package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the DuckDB driver, for the analysis step

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/query"
	"github.com/dotdo/events/runtime/snapshot"
)

// roomID is the chat room's store id: it names its objects in the lake.
const roomID = "room-1"

// room is the chat room: its store, collections and emitter.
type room struct {
	store    *cdc.Store
	users    *UserCollection
	messages *MessageCollection
	em       *emitter.Emitter
	bucket   lake.Bucket
}

// run does the whole job, printing what it does to out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.Dir == "" {
		cfg.Dir = ".events/chatroom"
	}
	if cfg.DB == "" {
		cfg.DB = filepath.Join(cfg.Dir, "chatroom.db")
	}
	if cfg.Lake == "" {
		cfg.Lake = filepath.Join(cfg.Dir, "lake")
	}
	if cfg.Users < 1 || cfg.Messages < 1 {
		return errors.New("-users and -messages must be at least 1")
	}
	lakeRoot, err := filepath.Abs(cfg.Lake)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DB), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(out, "data: SQLite %s, lake %s\n", cfg.DB, lakeRoot)

	ingest, err := startIngest(filepath.Join(cfg.Dir, "ingest-lake"))
	if err != nil {
		return err
	}
	defer ingest.Close()
	fmt.Fprintf(out, "ingest server: %s\n", ingest.URL)

	store, err := cdc.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer store.Close()
	r := &room{store: store, bucket: lake.Dir(lakeRoot)}
	if r.users, err = NewUserCollection(store); err != nil {
		return err
	}
	if r.messages, err = NewMessageCollection(store); err != nil {
		return err
	}
	r.em, err = emitter.New(store, emitter.Options{
		Endpoint:      ingest.URL,
		APIKey:        "demo-key",
		CDC:           true,
		TrackPrevious: true,
		Bucket:        r.bucket,
		Identity:      events.Identity{ID: roomID, Name: "general", Class: "ChatRoom", Worker: "chatroom-example"},
		FlushInterval: 200 * time.Millisecond,
	})
	if err != nil {
		return err
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- r.em.Run(runCtx) }()

	// 1. Work: users and messages through the generated collections, each
	// call timed as an rpc.call event, plus custom business events.
	existing, err := r.users.Count(ctx, nil)
	if err != nil {
		return err
	}
	if existing > 0 {
		fmt.Fprintf(out, "found %d users from an earlier run: adding to them\n", existing)
	}
	progress(out, "creating %d users and sending %d messages", cfg.Users, cfg.Messages)
	userIDs, err := r.createUsers(ctx, existing, cfg.Users)
	if err != nil {
		return err
	}
	if err := r.sendMessages(ctx, userIDs, cfg.Messages/2, "hello"); err != nil {
		return err
	}
	if err := r.promote(ctx, userIDs[0]); err != nil {
		return err
	}
	// A failing call: it counts in the latency figures as an error.
	_ = r.em.Call(ctx, "deleteMessage", func(ctx context.Context) error {
		if ok, err := r.messages.Delete(ctx, "no-such-message"); err != nil || !ok {
			return errors.Join(err, errors.New("no such message"))
		}
		return nil
	})

	// 2. Snapshot, then more work, remembering a bookmark to come back to.
	progress(out, "taking a snapshot")
	snap, err := snapshot.Create(ctx, store, roomID, snapshot.Options{Bucket: r.bucket})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "snapshot %s: %d documents in %v, bookmark %s\n", snap.Key, snap.TotalDocs, snap.Collections, snap.Bookmark)
	// Event times have millisecond precision: let the clock leave the
	// snapshot's millisecond, so "as of the snapshot" holds exactly its state.
	snapTime := snap.Timestamp
	time.Sleep(time.Until(snapTime.Add(2 * time.Millisecond)))
	if err := r.sendMessages(ctx, userIDs, cfg.Messages-cfg.Messages/2, "again"); err != nil {
		return err
	}
	target, err := store.Bookmark(ctx)
	if err != nil {
		return err
	}
	if err := r.vandalise(ctx); err != nil {
		return err
	}
	progress(out, "flushing events to the ingest server and the lake")
	if err := r.em.Flush(ctx); err != nil {
		return err
	}

	// 3. Point-in-time restore to the bookmark before the vandalism.
	before, err := r.messages.Count(ctx, nil)
	if err != nil {
		return err
	}
	progress(out, "restoring the room to bookmark %s", target)
	res, err := snapshot.RestoreTo(ctx, store, r.bucket, roomID, snapshot.Target{Bookmark: target})
	if err != nil {
		return err
	}
	after, err := r.messages.Count(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "restored from %s + %d changes (%d from the local log): messages %d -> %d\n",
		res.Snapshot, res.Replayed, res.FromLog, before, after)
	if err := r.em.Flush(ctx); err != nil {
		return err
	}
	stopRun()
	if err := <-runDone; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if err := r.em.Close(ctx); err != nil {
		return err
	}
	st := r.em.Stats()
	fmt.Fprintf(out, "emitter: %d events to the ingest server, %d to the lake, %d pending\n",
		st.HTTP.Delivered, st.Lake.Delivered, st.Pending)
	fmt.Fprintf(out, "ingest server received %d events in %d batches\n", ingest.Events(), ingest.Batches())

	// 4. Analysis: the generated and built-in DuckDB queries over the lake.
	progress(out, "querying the lake with DuckDB")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	return analyse(ctx, out, db, lakeRoot, userIDs[0], snapTime, snap.Bookmark, target)
}

// analyse runs the queries and prints each result as a table.
func analyse(ctx context.Context, out io.Writer, db *sql.DB, lakeRoot, userID string, at time.Time, from, to cdc.Bookmark) error {
	where := query.Lake{Root: lakeRoot, DOID: roomID}
	history, err := UserLake{Lake: where}.History(ctx, db, userID)
	if err != nil {
		return fmt.Errorf("user history: %w", err)
	}
	t := table{title: "history of user " + userID, header: []string{"ts", "op", "bookmark", "name", "role", "active", "prev role", "prev active"}}
	for _, c := range history {
		row := []string{c.TS.Format(events.TimeLayout), string(c.Op), string(c.Bookmark), "", "", "", "", ""}
		if c.Doc != nil {
			row[3], row[4], row[5] = c.Doc.Name, string(c.Doc.Role), fmt.Sprint(c.Doc.Active)
		}
		if c.Prev != nil {
			row[6], row[7] = string(c.Prev.Role), fmt.Sprint(c.Prev.Active)
		}
		t.rows = append(t.rows, row)
	}
	t.print(out)

	state, err := MessageLake{Lake: where}.StateAt(ctx, db, at)
	if err != nil {
		return fmt.Errorf("messages as of %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	t = table{title: "the room as of the snapshot (" + at.UTC().Format(events.TimeLayout) + ")", header: []string{"message", "user", "text", "sent"}}
	for _, e := range state {
		t.rows = append(t.rows, []string{e.ID, e.Doc.UserID, e.Doc.Text, e.Doc.Sent.UTC().Format(events.TimeLayout)})
	}
	t.print(out)

	latency, err := query.Latency(query.LatencyOptions{Root: lakeRoot, DOID: roomID})
	if err != nil {
		return err
	}
	t, err = queryTable(ctx, db, "latency per method (ms)", latency)
	if err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	t.print(out)

	pitr, err := query.PITRRange(query.PITROptions{Root: lakeRoot, DOID: roomID, StartBookmark: string(from), EndBookmark: string(to)})
	if err != nil {
		return err
	}
	t, err = queryTable(ctx, db, "changes between the snapshot and the restore target", pitr,
		"bookmark", "type", "collection", "docId", "ts")
	if err != nil {
		return fmt.Errorf("pitr range: %w", err)
	}
	t.print(out)
	return nil
}
