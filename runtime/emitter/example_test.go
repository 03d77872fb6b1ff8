package emitter_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/lake"
)

// An emitter shipping collection changes and custom events to an ingest
// endpoint and a local lake folder.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "emitter-example")
	defer os.RemoveAll(dir)
	ingest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ingest.Close()

	store, err := cdc.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		panic(err)
	}
	defer store.Close()
	em, err := emitter.New(store, emitter.Options{
		Endpoint: ingest.URL,
		APIKey:   "secret",
		CDC:      true,
		Bucket:   lake.Dir(filepath.Join(dir, "lake")),
		Identity: events.Identity{ID: "room-42", Class: "ChatRoom"},
	})
	if err != nil {
		panic(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	go em.Run(runCtx) // delivers every FlushInterval and when a batch fills
	defer stop()

	type user struct {
		Name string `json:"name"`
	}
	users, _ := cdc.NewCollection[user](store, "users")
	_ = users.Put(ctx, "u1", user{Name: "Ann"}) // shipped as collection.insert
	_ = em.Emit(events.Custom{Type: "user.registered", Fields: map[string]any{"userId": "u1"}})

	if err := em.Close(ctx); err != nil { // delivers, persists the rest
		panic(err)
	}
	st := em.Stats()
	fmt.Println(st.HTTP.Delivered, st.Lake.Delivered)
	// Output: 2 2
}
