package emitter

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/dotdo/events"
)

// Call runs fn and emits an rpc.call event for it: method, durationMs (wall
// time of fn, in milliseconds), success (fn returned nil) and error (its
// message). It returns fn's error unchanged; a panic in fn is recorded as a
// failed call and then continues. A failure to emit is logged, never
// returned: the call's own result matters more.
func (e *Emitter) Call(ctx context.Context, method string, fn func(context.Context) error) (err error) {
	start := time.Now()
	finished := false
	defer func() {
		ev := events.RPCCall{Method: method, DurationMs: millis(time.Since(start)), Success: finished && err == nil}
		switch {
		case !finished:
			ev.Error = "panic"
		case err != nil:
			ev.Error = err.Error()
		}
		e.emitLogged(ev)
	}()
	err = fn(ctx)
	finished = true
	return err
}

// Middleware wraps next so that every request emits an rpc.call event:
// method is the route pattern that matched (http.Request.Pattern, set by
// ServeMux since Go 1.22; wrap the mux or the handlers it routes to), else
// "METHOD /path"; success is a status below 500; error is the status text
// of a failure. Prefer patterns: raw paths make one method per URL.
func (e *Emitter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		completed := false
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			if !completed {
				status = http.StatusInternalServerError
			}
			method := r.Pattern
			if method == "" {
				method = r.Method + " " + r.URL.Path
			}
			ev := events.RPCCall{Method: method, DurationMs: millis(time.Since(start)), Success: status < 500}
			if !ev.Success {
				ev.Error = http.StatusText(status)
				if ev.Error == "" {
					ev.Error = "status " + strconv.Itoa(status)
				}
			}
			e.emitLogged(ev)
		}()
		next.ServeHTTP(rec, r)
		completed = true
	})
}

// emitLogged emits ev and logs a failure instead of returning it.
func (e *Emitter) emitLogged(ev events.RPCCall) {
	if err := e.Emit(ev); err != nil {
		e.log.Warn("emitter: rpc.call not emitted", "method", ev.Method, "error", err.Error())
	}
}

// millis converts d to fractional milliseconds.
func millis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader implements http.ResponseWriter.
func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer
// (Flush, Hijack, deadlines).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
