package natssink_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/emitter/natssink"
)

// awkward are strings NATS would split or refuse as subject tokens, and
// strings that look like escapes.
var awkward = []string{
	"", "plain", "a.b", ".", "..", "*", ">", "a*b", "a>b", "%", "%2E", "%%", "%2e", "% ", " ",
	"a b", "\t", "\r\n", "\x00", "\x7f", "ü", "\xff", "\uFFFD", "a..b", "$JS.API", "_INBOX.x",
	strings.Repeat(".", 300), strings.Repeat("ü", 100),
}

// FuzzSubject: Token is reversible through ParseSubject, makes one valid
// literal token of printable ASCII, and ParseSubject accepts only subjects
// the sink writes (re-encoding what it parses gives the subject back).
func FuzzSubject(f *testing.F) {
	for i, s := range awkward {
		f.Add(s, awkward[(i+1)%len(awkward)], testPrefix+"."+s)
	}
	f.Add("s", "collection.insert", "ev.test.s.collection%2Einsert")
	f.Fuzz(func(t *testing.T, store, typ, raw string) {
		subj := testPrefix + "." + natssink.Token(store) + "." + natssink.Token(typ)
		if !server.IsValidPublishSubject(subj) {
			t.Fatalf("invalid subject %q", subj)
		}
		for i := 0; i < len(subj); i++ {
			if c := subj[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("subject %q holds byte %#x", subj, c)
			}
		}
		if n := strings.Count(subj, "."); n != strings.Count(testPrefix, ".")+2 {
			t.Fatalf("subject %q has %d dots", subj, n)
		}
		s, ty, err := natssink.ParseSubject(testPrefix, subj)
		if err != nil || s != store || ty != typ {
			t.Fatalf("ParseSubject(%q) = %q, %q, %v; want %q, %q", subj, s, ty, err, store, typ)
		}
		if s, ty, err := natssink.ParseSubject(testPrefix, raw); err == nil {
			if back := testPrefix + "." + natssink.Token(s) + "." + natssink.Token(ty); back != raw {
				t.Fatalf("ParseSubject(%q) = %q, %q: re-encoded %q", raw, s, ty, back)
			}
		} else if !errors.Is(err, natssink.ErrBadSubject) {
			t.Fatalf("ParseSubject(%q): %v does not match ErrBadSubject", raw, err)
		}
	})
}

// TestParseSubjectErrors: subjects the sink does not write are matchable
// errors.
func TestParseSubjectErrors(t *testing.T) {
	for _, subj := range []string{"", "ev", "ev.test", "ev.test.", "ev.test.a", "ev.test.a.b.c", "ev.testx.a.b",
		"other.a.b", "ev.test..b", "ev.test.a.", "ev.test.%2e.b", "ev.test.%41.b", "ev.test.%4.b", "ev.test.a b.c", "ev.test.ü.c"} {
		if s, ty, err := natssink.ParseSubject(testPrefix, subj); !errors.Is(err, natssink.ErrBadSubject) {
			t.Errorf("ParseSubject(%q) = %q, %q, %v; want ErrBadSubject", subj, s, ty, err)
		}
	}
	if _, _, err := natssink.ParseSubject("", "a.b.c"); !errors.Is(err, natssink.ErrBadSubject) {
		t.Errorf("empty prefix: %v", err)
	}
	if s, ty, err := natssink.ParseSubject(testPrefix, "ev.test.acme%2Eeu.user%2Esignup"); err != nil || s != "acme.eu" || ty != "user.signup" {
		t.Errorf("documented example: %q, %q, %v", s, ty, err)
	}
}

// TestServerTakesEverySubject: events of every awkward store id and type
// are stored by a real server under the subject the sink made, and a
// consumer gets the store id and type back from the subject.
func TestServerTakesEverySubject(t *testing.T) {
	ctx := context.Background()
	b := startBroker(t)
	js := connect(t, b.url())
	createStream(t, js, 2*time.Minute)
	sink := newSink(t, js)
	var batch emitter.Batch
	var types []string // the awkward strings a header can hold: types come in both
	for _, typ := range awkward {
		if typ != "" && strings.TrimSpace(typ) == typ && !strings.ContainsAny(typ, "\x00\t\r\n\x7f") {
			types = append(types, typ)
		}
	}
	for i, store := range awkward {
		for j, typ := range types {
			if (i+j)%3 != 0 && j != 0 && i != 0 {
				continue
			}
			id := fmt.Sprintf("id-%d-%d", i, j)
			batch.Events = append(batch.Events, emitter.BatchEvent{Store: store, ID: id, Type: typ,
				JSON: fmt.Appendf(nil, `{"id":%q,"type":"x","do":{"id":"x"}}`, id)})
		}
	}
	batch.ID = "b1"
	if err := sink.Send(ctx, &batch); err != nil {
		t.Fatal(err)
	}
	msgs := readStream(t, js)
	if len(msgs) != len(batch.Events) {
		t.Fatalf("%d messages, %d sent", len(msgs), len(batch.Events))
	}
	for i, m := range msgs {
		want := batch.Events[i]
		if m.ID != want.ID || m.msgID != want.ID || m.store != want.Store || m.typ != want.Type {
			t.Errorf("message %d: id %q store %q type %q; sent %q %q %q", m.seq, m.ID, m.store, m.typ, want.ID, want.Store, want.Type)
		}
	}
	// A filter on one store's token reads only that store.
	st, err := js.Stream(ctx, testStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstreamSubjects(testPrefix+"."+natssink.Token("a.b")+".>"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	want := 0
	for _, ev := range batch.Events {
		if ev.Store == "a.b" {
			want++
		}
	}
	if n != want || want == 0 {
		t.Errorf("filter on store a.b counts %d messages, want %d", n, want)
	}
}
