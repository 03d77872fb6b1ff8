package query

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/lake"
)

// The bench lake: benchStores stores writing for benchDays days from
// benchStart (across a year boundary), one object per store and hour, as an
// emitter flushing hourly would. Its events are 50% rpc.call, 40% CDC on
// two collections, 10% lifecycle and custom events.
const (
	benchStores  = 10
	benchDays    = 30
	benchDocs    = 2000 // documents per store and collection
	benchVersion = "v2" // bump when the generator changes
)

var benchStart = time.Date(2024, 12, 17, 0, 0, 0, 0, time.UTC)

// benchLake returns the folder of a lake of n events, generating it on first
// use and reusing it across runs (it lives in the temp dir, keyed by n).
func benchLake(tb testing.TB, n int) string {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("events-query-bench-%s-%d", benchVersion, n))
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	hours := benchDays * 24
	objects := benchStores * hours
	if n < objects {
		tb.Fatalf("n=%d is too small for %d stores x %d hours", n, benchStores, hours)
	}
	bucket := lake.Dir(dir)
	var wg sync.WaitGroup
	errs := make(chan error, benchStores)
	for s := range benchStores {
		wg.Go(func() {
			if err := writeBenchStore(bucket, s, hours, n, objects); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	if err := os.WriteFile(done, []byte(time.Since(start).String()+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("generated %d events (%d stores x %d hours) in %s at %s", n, benchStores, hours, time.Since(start), dir)
	return dir
}

// benchIdentity is the identity of bench store s.
func benchIdentity(s int) events.Identity {
	classes := []string{"ChatRoom", "ChatRoom", "ChatRoom", "ChatRoom", "ChatRoom", "UserService", "UserService", "UserService", "Billing", "Billing"}
	return events.Identity{ID: fmt.Sprintf("store-%02d", s), Class: classes[s%len(classes)], Colo: []string{"AMS", "SJC"}[s%2]}
}

// writeBenchStore writes store s's objects, hour by hour: n events over all
// objects, the first n%objects objects (in store-major order) one more.
func writeBenchStore(bucket lake.Bucket, s, hours, n, objects int) error {
	id := benchIdentity(s)
	methods := []string{"sendMessage", "join", "leave", "getHistory"}
	var seq, bookmark uint64
	versions := map[string]int{}
	enc := make([]lakewrite.EncodedEvent, 0, n/objects+1)
	for h := range hours {
		perObject := n / objects
		if s*hours+h < n%objects {
			perObject++
		}
		enc = enc[:0]
		hour := benchStart.Add(time.Duration(h) * time.Hour)
		for i := range perObject {
			seq++
			ts := hour.Add(time.Duration(i) * time.Hour / time.Duration(perObject))
			var ev events.Event
			switch k := seq % 10; {
			case k < 5:
				failed := seq%37 == 0
				call := events.RPCCall{TS: ts, Method: methods[seq%4], DurationMs: float64(seq%500) / 4, Success: !failed}
				if failed {
					call.Error = "boom"
				}
				ev = call
			case k < 9:
				bookmark++
				coll := []string{"users", "messages"}[seq%2]
				doc := fmt.Sprintf("doc-%d", (seq*7919)%benchDocs)
				key := coll + "/" + doc
				typ := events.TypeCollectionUpdate
				switch versions[key] {
				case 0:
					typ = events.TypeCollectionInsert
				}
				versions[key]++
				body, _ := json.Marshal(map[string]any{"v": versions[key], "name": doc})
				ev = events.CollectionChange{Type: typ, TS: ts, Collection: coll, DocID: doc, Doc: body, Bookmark: fmt.Sprintf("%020d", bookmark)}
			default:
				ev = events.Custom{Type: "user.action", TS: ts, Fields: map[string]any{"userId": fmt.Sprint(seq % 100)}}
			}
			js, err := ev.AppendJSON(nil, events.Envelope{TS: ts, DO: id, ID: fmt.Sprintf("%s-%d", id.ID, seq)})
			if err != nil {
				return err
			}
			enc = append(enc, lakewrite.EncodedEvent{TS: ts, Seq: seq, JSON: js})
		}
		if _, err := lakewrite.WriteEvents(context.Background(), bucket, id, enc); err != nil {
			return err
		}
	}
	return nil
}
