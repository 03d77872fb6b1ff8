package emitter_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/emitter"
)

// sizeLimited is a loopback ingest that refuses bodies over max bytes with
// 413 (max 0: no limit) and records the size of every body it accepts.
type sizeLimited struct {
	*ingest
	max   int
	mu    sync.Mutex
	sizes []int
}

func newSizeLimited(t *testing.T, max int) (*sizeLimited, *httptest.Server) {
	sl := &sizeLimited{ingest: newIngest(t), max: max}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if sl.max > 0 && len(body) > sl.max {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		sl.mu.Lock()
		sl.sizes = append(sl.sizes, len(body))
		sl.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		sl.ingest.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return sl, srv
}

func (sl *sizeLimited) bodySizes() []int {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return append([]int(nil), sl.sizes...)
}

func padded(n, size int) events.Custom {
	return events.Custom{Type: "user.action", Fields: map[string]any{"n": n, "pad": strings.Repeat("x", size)}}
}

// TestSplitOn413: a batch the ingest refuses as too large is sent again in
// halves until it fits, not set aside; a single event over the ingest's
// limit is dead-lettered alone; every other event arrives once, in order.
func TestSplitOn413(t *testing.T) {
	ctx := context.Background()
	sl, srv := newSizeLimited(t, 4000)
	em, err := emitter.New(openStore(t), emitter.Options{Endpoint: srv.URL, BatchSize: 100, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)
	var want []int
	for n := range 60 {
		size := 150
		if n == 30 {
			size = 6000 // over the ingest's limit on its own
		} else {
			want = append(want, n)
		}
		mustEmit(t, em, padded(n, size))
	}
	if err := em.Flush(ctx); err != nil && !strings.Contains(err.Error(), "Too Large") {
		t.Fatal(err)
	}
	if got := customNs(sl.events(), "user.action"); !equalInts(got, want) {
		t.Fatalf("delivered %v", got)
	}
	for _, n := range sl.bodySizes() {
		if n > 4000 {
			t.Fatalf("accepted a body of %d bytes", n)
		}
	}
	dead, err := em.DeadLetters(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Events != 1 || dead[0].Status != 413 || !bytes.Contains(dead[0].Body, []byte(`"n":30`)) {
		t.Fatalf("dead letters %+v", dead)
	}
	if st := em.Stats().HTTP; st.Delivered != 59 || st.DeadLettered != 1 || st.Attempt != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestMaxBatchBytes: no batch body exceeds Options.MaxBatchBytes (an event
// larger than the cap goes alone), and every event arrives once, in order.
func TestMaxBatchBytes(t *testing.T) {
	ctx := context.Background()
	sl, srv := newSizeLimited(t, 0)
	em, err := emitter.New(openStore(t), emitter.Options{Endpoint: srv.URL, BatchSize: 100, MaxBatchBytes: 3000,
		Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)
	var want []int
	for n := range 80 {
		size := 100
		if n == 40 {
			size = 5000
		}
		want = append(want, n)
		mustEmit(t, em, padded(n, size))
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := customNs(sl.events(), "user.action"); !equalInts(got, want) {
		t.Fatalf("delivered %v", got)
	}
	big, sizes := 0, sl.bodySizes()
	for _, n := range sizes {
		if n > 3000 {
			big++
		}
	}
	if big != 1 || len(sizes) < 80*150/3000 {
		t.Fatalf("body sizes %v", sizes)
	}
	if _, err := emitter.New(openStore(t), emitter.Options{Endpoint: srv.URL, MaxBatchBytes: -1}); err == nil {
		t.Fatal("negative MaxBatchBytes accepted")
	}
}

// TestMaxBatchBytesChanges: the byte cap holds for changes read from the
// change log too, and a 413 splits them; every change arrives once, in
// bookmark order.
func TestMaxBatchBytesChanges(t *testing.T) {
	ctx := context.Background()
	sl, srv := newSizeLimited(t, 6000)
	store := openStore(t)
	users := newUsers(t, store)
	em, err := emitter.New(store, emitter.Options{Endpoint: srv.URL, CDC: true, BatchSize: 100, MaxBatchBytes: 9000,
		Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close(ctx)
	for i := range 40 {
		if err := users.Put(ctx, fmt.Sprintf("u%02d", i), user{Name: strings.Repeat("n", 300)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := em.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, ev := range sl.events() {
		if c, ok := ev.(events.CollectionChange); ok {
			docs = append(docs, c.DocID)
		}
	}
	if len(docs) != 40 || docs[0] != "u00" || docs[39] != "u39" {
		t.Fatalf("changes delivered: %v", docs)
	}
	for i := 1; i < len(docs); i++ {
		if docs[i] <= docs[i-1] {
			t.Fatalf("out of order: %v", docs)
		}
	}
	sizes := sl.bodySizes()
	for _, n := range sizes {
		if n > 6000 {
			t.Fatalf("body sizes %v", sizes)
		}
	}
	if len(sizes) < 40*350/6000 {
		t.Fatalf("body sizes %v", sizes)
	}
}
