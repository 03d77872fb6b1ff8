package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/dotdo/events/runtime/emitter"
	"github.com/dotdo/events/runtime/fleet"
	"github.com/dotdo/events/runtime/lake"
)

// run serves cfg.Tenants tenants, sends cfg.Requests requests, flushes and
// prints what the sinks received.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.Tenants < 1 || cfg.Requests < 0 || cfg.MaxOpen < 1 {
		return fmt.Errorf("need at least one tenant and one open store")
	}
	in := &ingest{perTenant: map[string]int{}}
	ingestURL, stopIngest, err := serve(in)
	if err != nil {
		return err
	}
	defer stopIngest()
	lakeDir := filepath.Join(cfg.Dir, "lake")
	bucket := lake.Dir(lakeDir)
	f, err := fleet.Open(ctx, fleet.Options{
		Dir:     filepath.Join(cfg.Dir, "stores"),
		Class:   "Tenant",
		MaxOpen: cfg.MaxOpen,
		Emitter: emitter.Options{Endpoint: ingestURL, Bucket: bucket, FlushInterval: 100 * time.Millisecond},
	})
	if err != nil {
		return err
	}
	defer f.Close(context.WithoutCancel(ctx))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go f.Run(runCtx)

	apiURL, stopAPI, err := serve(service(f))
	if err != nil {
		return err
	}
	defer stopAPI()
	fmt.Fprintf(out, "service: %s (stores in %s, lake in %s)\n", apiURL, filepath.Join(cfg.Dir, "stores"), lakeDir)

	// Requests: notes written, read and deleted across the tenants.
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range cfg.Requests {
		tenant := fmt.Sprintf("tenant-%02d", i%cfg.Tenants)
		url := fmt.Sprintf("%s/t/%s/notes/n%d", apiURL, tenant, (i/cfg.Tenants)%3)
		method, body := http.MethodPut, fmt.Sprintf(`{"text":"note %d"}`, i)
		switch (i / cfg.Tenants) % 5 {
		case 3:
			method, body = http.MethodGet, ""
		case 4:
			method, body = http.MethodDelete, ""
		}
		if err := call(ctx, client, method, url, body); err != nil {
			return err
		}
	}
	if err := call(ctx, client, http.MethodPut, apiURL+"/t/..%2Fescape/notes/x", `{"text":"x"}`); err == nil {
		return fmt.Errorf("an invalid tenant id was accepted")
	} else {
		fmt.Fprintf(out, "invalid tenant refused: %v\n", err)
	}
	if err := f.Flush(ctx); err != nil {
		return err
	}
	st := f.Stats()
	fmt.Fprintf(out, "fleet: %d stores open (max %d), %d opens, %d evictions\n", st.Open, cfg.MaxOpen, st.Opens, st.Evictions)
	for _, s := range st.Sinks {
		fmt.Fprintf(out, "sink %s: %d events delivered in %d requests, %d pending\n", s.Name, s.Delivered, s.Requests, s.Pending)
	}
	ids, err := f.IDs(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "tenants with a store: %d\n", len(ids))

	// The lake, read back one tenant at a time (many tenants share objects).
	in.mu.Lock()
	fmt.Fprintf(out, "ingest server received %d events in %d requests\n", in.events, in.requests)
	in.mu.Unlock()
	for _, id := range ids[:min(3, len(ids))] {
		n := 0
		for _, err := range lake.Events(ctx, bucket, lake.Selection{Store: id}) {
			if err != nil {
				return err
			}
			n++
		}
		in.mu.Lock()
		fmt.Fprintf(out, "%s: %d events in the lake, %d at the ingest\n", id, n, in.perTenant[id])
		in.mu.Unlock()
	}
	return nil
}

// call sends one request and checks it succeeded.
func call(ctx context.Context, c *http.Client, method, url, body string) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// serve serves h on a loopback port until stop is called.
func serve(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// ingest is a minimal ingest endpoint: it counts the events it receives
// (the real one is runtime/ingest, `events serve`).
type ingest struct {
	mu        sync.Mutex
	events    int
	requests  int
	perTenant map[string]int
}

func (in *ingest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var batch struct {
		Events []struct {
			DO struct {
				ID string `json:"id"`
			} `json:"do"`
		} `json:"events"`
	}
	if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
		http.Error(w, "bad batch", http.StatusBadRequest)
		return
	}
	in.mu.Lock()
	in.requests++
	in.events += len(batch.Events)
	for _, ev := range batch.Events {
		in.perTenant[ev.DO.ID]++
	}
	in.mu.Unlock()
	fmt.Fprintf(w, `{"accepted":%d}`, len(batch.Events))
}
