package emitter

import (
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		attempt    int
		retryAfter time.Duration
		jitter     time.Duration
		want       time.Duration
	}{
		{1, 0, 0, time.Second},
		{2, 0, 0, 2 * time.Second},
		{6, 0, 0, 32 * time.Second},
		{7, 0, 0, 60 * time.Second},
		{1000, 0, 0, 60 * time.Second},
		{3, 0, 500 * time.Millisecond, 4500 * time.Millisecond},
		{3, 0, 5 * time.Second, 5*time.Second - time.Nanosecond}, // jitter clamped below 1s
		{3, 0, -time.Second, 4 * time.Second},
		{3, 7 * time.Second, time.Second / 2, 7 * time.Second}, // Retry-After wins, exactly
		{3, 48 * time.Hour, 0, maxRetryAfter},
	} {
		if got := retryDelay(tc.attempt, tc.retryAfter, tc.jitter); got != tc.want {
			t.Errorf("retryDelay(%d, %s, %s) = %s, want %s", tc.attempt, tc.retryAfter, tc.jitter, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 7 ":                           7 * time.Second,
		"0":                             0,
		"-3":                            0,
		"abc":                           0,
		"99999999999":                   maxRetryAfter,
		"Sun, 01 Mar 2026 12:00:30 GMT": 30 * time.Second,
		"Sun, 01 Mar 2026 11:00:00 GMT": 0, // in the past
	} {
		if got := parseRetryAfter(h, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", h, got, want)
		}
	}
}

func TestTransientStatus(t *testing.T) {
	for code, want := range map[int]bool{408: true, 429: true, 500: true, 502: true, 503: true, 400: false, 401: false, 403: false, 404: false, 413: false, 422: false} {
		if got := transientStatus(code); got != want {
			t.Errorf("transientStatus(%d) = %v", code, got)
		}
	}
}
