package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/dotdo/events/runtime/ingest"
	"github.com/dotdo/events/runtime/lake"
)

// ingestServer is a loopback ingest endpoint in place of events.do: the
// module's own ingest server (runtime/ingest) writing into a lake folder of
// its own, with a counter of what it accepted.
type ingestServer struct {
	URL     string
	srv     *http.Server
	events  atomic.Int64
	batches atomic.Int64
}

// startIngest starts the server on a free loopback port, writing to the
// lake folder dir.
func startIngest(dir string) (*ingestServer, error) {
	h, err := ingest.New(ingest.Options{Bucket: lake.Dir(dir), Keys: []string{"demo-key"}})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &ingestServer{URL: "http://" + ln.Addr().String() + "/ingest"}
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		var ok struct {
			Accepted int64 `json:"accepted"`
		}
		if rec.code == http.StatusOK && json.Unmarshal(rec.body.Bytes(), &ok) == nil {
			s.events.Add(ok.Accepted)
			s.batches.Add(1)
		}
	})
	s.srv = &http.Server{Handler: count, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // Serve returns when Close is called
	return s, nil
}

// recorder keeps the status and body of an answer while passing them on.
type recorder struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// Events is the number of events the server accepted.
func (s *ingestServer) Events() int64 { return s.events.Load() }

// Batches is the number of batches it accepted.
func (s *ingestServer) Batches() int64 { return s.batches.Load() }

// Close stops the server.
func (s *ingestServer) Close() error { return s.srv.Close() }
