package natssink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dotdo/events/runtime/emitter/natssink"
)

// testPrefix is the subject prefix of the tests' sinks and stream.
const testPrefix = "ev.test"

// testStream is the tests' stream, capturing testPrefix.>.
const testStream = "EVENTS"

// broker is an embedded nats-server with JetStream on loopback, its store
// in a folder that outlives a restart.
type broker struct {
	t    testing.TB
	dir  string
	port int
	srv  *server.Server
}

// startBroker starts a server on a free loopback port.
func startBroker(t testing.TB) *broker {
	t.Helper()
	b := &broker{t: t, dir: t.TempDir(), port: -1}
	b.start()
	t.Cleanup(b.stop)
	return b
}

// start (re)starts the server on b's folder and port.
func (b *broker) start() {
	b.t.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: b.port, JetStream: true,
		StoreDir: filepath.Join(b.dir, "js"), NoLog: true, NoSigs: true}
	srv, err := server.NewServer(opts)
	if err != nil {
		b.t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		b.t.Fatal("nats-server did not start")
	}
	b.srv = srv
	b.port = srv.Addr().(*net.TCPAddr).Port
}

// stop shuts the server down (no-op when stopped).
func (b *broker) stop() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
		b.srv = nil
	}
}

func (b *broker) url() string { return "nats://127.0.0.1:" + strconv.Itoa(b.port) }

// connect returns a JetStream client of b that reconnects for ever.
func connect(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// createStream creates the tests' stream with duplicate window dup.
func createStream(t testing.TB, js jetstream.JetStream, dup time.Duration) jetstream.Stream {
	t.Helper()
	st, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name: testStream, Subjects: []string{testPrefix + ".>"}, Storage: jetstream.FileStorage, Duplicates: dup,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// newSink returns a sink on js under testPrefix.
func newSink(t testing.TB, js jetstream.JetStream) *natssink.Sink {
	t.Helper()
	s, err := natssink.New(js, testPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// streamed is one message of the stream, decoded.
type streamed struct {
	seq      uint64
	subject  string
	msgID    string
	hdrType  string
	store    string // from the subject
	typ      string // from the subject
	ID       string `json:"id"`
	Type     string `json:"type"`
	Bookmark string `json:"bookmark"`
	DocID    string `json:"docId"`
	N        *int   `json:"n"`
	Run      string `json:"run"`
	DO       struct {
		ID string `json:"id"`
	} `json:"do"`
}

// readStream reads every message of the stream with an ordered consumer,
// in stream order.
func readStream(t testing.TB, js jetstream.JetStream) []streamed {
	t.Helper()
	ctx := context.Background()
	st, err := js.Stream(ctx, testStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := int(info.State.Msgs)
	if want == 0 {
		return nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []streamed
	for tries := 0; len(out) < want && tries < 100; tries++ {
		batch, err := cons.Fetch(want-len(out), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			var s streamed
			if err := json.Unmarshal(m.Data(), &s); err != nil {
				t.Fatalf("message %d: %v: %s", meta.Sequence.Stream, err, m.Data())
			}
			s.seq, s.subject = meta.Sequence.Stream, m.Subject()
			s.msgID, s.hdrType = m.Headers().Get(jetstream.MsgIDHeader), m.Headers().Get(natssink.HeaderType)
			s.store, s.typ, err = natssink.ParseSubject(testPrefix, m.Subject())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) != want {
		t.Fatalf("read %d of %d messages", len(out), want)
	}
	return out
}

// checkStream checks that msgs hold each id once, headers and subject agree
// with the JSON, and each store's changes and custom events are in order
// (bookmarks increasing, custom "n" increasing). It returns the messages by id.
func checkStream(t testing.TB, msgs []streamed) map[string]streamed {
	t.Helper()
	byID := map[string]streamed{}
	lastBM := map[string]string{}
	lastN := map[string]int{}
	for _, m := range msgs {
		if prev, dup := byID[m.ID]; dup {
			t.Errorf("event %s at sequences %d and %d", m.ID, prev.seq, m.seq)
		}
		byID[m.ID] = m
		if m.msgID != m.ID || m.hdrType != m.Type || m.typ != m.Type || m.store != m.DO.ID {
			t.Errorf("message %d: subject %q, Nats-Msg-Id %q, type header %q; JSON id %q type %q store %q",
				m.seq, m.subject, m.msgID, m.hdrType, m.ID, m.Type, m.DO.ID)
		}
		switch {
		case m.Bookmark != "":
			if m.Bookmark <= lastBM[m.store] {
				t.Errorf("store %s: change %s after %s", m.store, m.Bookmark, lastBM[m.store])
			}
			lastBM[m.store] = m.Bookmark
		case m.N != nil:
			if l, ok := lastN[m.store]; ok && *m.N <= l {
				t.Errorf("store %s: custom event %d after %d", m.store, *m.N, l)
			}
			lastN[m.store] = *m.N
		}
	}
	return byID
}

// discardLogger drops logs (tests that provoke failures on purpose).
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func docID(i int) string { return fmt.Sprintf("d%04d", i) }

// jetstreamSubjects asks stream info for the message counts of the
// subjects matching filter.
func jetstreamSubjects(filter string) jetstream.StreamInfoOpt {
	return jetstream.WithSubjectFilter(filter)
}
