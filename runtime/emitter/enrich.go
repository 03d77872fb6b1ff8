package emitter

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxHeaderValue is the longest header value taken into the identity.
const maxHeaderValue = 128

// EnrichFromRequest learns where the store runs from an incoming request:
// the colo from the suffix of CF-Ray ("8a1b2c3d4e5f-SJC" gives "SJC"), the
// worker from cf-worker and the class from X-DO-Class. A missing, empty or
// unusable header (over 128 bytes, invalid UTF-8, control characters) keeps
// the value already known. Safe for concurrent use; later events carry it.
func (e *Emitter) EnrichFromRequest(r *http.Request) {
	if r == nil {
		return
	}
	var colo string
	if ray := r.Header.Get("CF-Ray"); ray != "" {
		if i := strings.LastIndexByte(ray, '-'); i >= 0 {
			colo = ray[i+1:]
		}
	}
	worker := r.Header.Get("cf-worker")
	class := r.Header.Get("X-DO-Class")
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := headerValue(colo); ok {
		e.identity.Colo = v
	}
	if v, ok := headerValue(worker); ok {
		e.identity.Worker = v
	}
	if v, ok := headerValue(class); ok {
		e.identity.Class = v
	}
}

// headerValue trims v and says whether it is usable.
func headerValue(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxHeaderValue || !utf8.ValidString(v) {
		return "", false
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return "", false
		}
	}
	return v, true
}
