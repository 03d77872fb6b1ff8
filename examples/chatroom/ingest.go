package main

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/dotdo/events"
)

// ingestServer is a loopback stand-in for the events.do ingest endpoint: it
// decodes every batch and counts what it received.
type ingestServer struct {
	URL     string
	srv     *http.Server
	events  atomic.Int64
	batches atomic.Int64
}

// startIngest starts the server on a free loopback port.
func startIngest() (*ingestServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &ingestServer{URL: "http://" + ln.Addr().String() + "/ingest"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ingest", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer demo-key" {
			http.Error(w, "unauthorised", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		batch, err := events.DecodeBatch(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.events.Add(int64(len(batch.Events)))
		s.batches.Add(1)
		w.WriteHeader(http.StatusAccepted)
	})
	s.srv = &http.Server{Handler: mux}
	go s.srv.Serve(ln) //nolint:errcheck // Serve returns when Close is called
	return s, nil
}

// Events is the number of events received.
func (s *ingestServer) Events() int64 { return s.events.Load() }

// Batches is the number of batches received.
func (s *ingestServer) Batches() int64 { return s.batches.Load() }

// Close stops the server.
func (s *ingestServer) Close() error { return s.srv.Close() }
