package natssink_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/emitter/natssink"
)

// TestConsumerDecodesChanges: the package example's consumer, run: a
// durable consumer filtered on one store's subjects gets that store's
// changes as typed changelog.Change values (Doc and Prev decoded) and its
// custom events, not the other store's.
func TestConsumerDecodesChanges(t *testing.T) {
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	createStream(t, js, 2*time.Minute)
	sink := newSink(t, js)
	for _, id := range []string{"shop.eu", "shop.us"} {
		store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "store.db"))
		if err != nil {
			t.Fatal(err)
		}
		em, err := emitter.New(store, emitter.Options{CDC: true, TrackPrevious: true, Sinks: []emitter.Sink{sink},
			Identity: events.Identity{ID: id}, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		users, err := cdc.NewCollection[user](store, "users")
		if err != nil {
			t.Fatal(err)
		}
		if err := users.Put(ctx, "u1", user{Name: "Ann"}); err != nil {
			t.Fatal(err)
		}
		if err := users.Put(ctx, "u1", user{Name: "Anna"}); err != nil {
			t.Fatal(err)
		}
		if _, err := users.Delete(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if err := em.Emit(events.Custom{Type: "user.registered", Fields: map[string]any{"userId": "u1"}}); err != nil {
			t.Fatal(err)
		}
		if err := em.Close(ctx); err != nil {
			t.Fatal(err)
		}
		store.Close()
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, testStream, jetstream.ConsumerConfig{
		Durable: "user-mirror", FilterSubject: testPrefix + "." + natssink.Token("shop.eu") + ".>",
		AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got, custom []string
	for tries := 0; len(got)+len(custom) < 4 && tries < 20; tries++ {
		batch, err := cons.Fetch(4-len(got)-len(custom), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range batch.Messages() {
			store, typ, err := natssink.ParseSubject(testPrefix, msg.Subject())
			if err != nil {
				t.Fatal(err)
			}
			ev, err := events.DecodeEvent(msg.Data())
			if err != nil {
				t.Fatal(err)
			}
			raw, isChange, err := changelog.ChangeOfEvent(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !isChange {
				custom = append(custom, fmt.Sprintf("%s %s %v", store, typ, ev.(events.Custom).Fields["userId"]))
				_ = msg.Ack()
				continue
			}
			ch, err := changelog.DecodeChange[user](raw)
			if err != nil {
				t.Fatal(err)
			}
			s := fmt.Sprintf("%s %s %s", store, ch.Op, ch.DocID)
			if ch.Doc != nil {
				s += " doc=" + ch.Doc.Name
			}
			if ch.Prev != nil {
				s += " prev=" + ch.Prev.Name
			}
			got = append(got, s)
			if err := msg.Ack(); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{"shop.eu insert u1 doc=Ann", "shop.eu update u1 doc=Anna prev=Ann", "shop.eu delete u1 prev=Anna"}
	if fmt.Sprint(custom) != "[shop.eu user.registered u1]" {
		t.Errorf("custom events consumed: %q", custom)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("consumed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
