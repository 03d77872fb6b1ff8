package emitter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryDelay is the wait before attempt+1 after attempt consecutive
// failures: the server's Retry-After when it gave one (capped at
// maxRetryAfter), else baseRetryDelay doubling per failure up to
// maxRetryDelay, plus jitter (clamped to [0, maxJitter)) so many stores do
// not retry in step.
func retryDelay(attempt int, retryAfter, jitter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, maxRetryAfter)
	}
	d := maxRetryDelay
	if attempt <= 6 {
		d = min(baseRetryDelay<<max(attempt-1, 0), maxRetryDelay)
	}
	return d + min(max(jitter, 0), maxJitter-time.Nanosecond)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (relative to now). It returns 0 when absent, malformed or in the past.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// transientStatus reports whether an HTTP status means "try again later":
// 408, 429 and 5xx (and anything else that is neither success nor 4xx).
// Other 4xx reject the batch for good.
func transientStatus(code int) bool {
	if code == http.StatusRequestTimeout || code == http.StatusTooManyRequests {
		return true
	}
	return code < 400 || code >= 500
}
