package ingest

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Key is a bearer key limited to some stores, so that one tenant cannot
// write as another (the lake feeds snapshot.RestoreTo).
type Key struct {
	// Secret is the bearer key itself.
	Secret string
	// StorePrefixes, when set, limit the key to events whose "do"."id"
	// starts with one of them.
	StorePrefixes []string
	// Classes, when set, limit the key to events whose "do"."class" is one
	// of them.
	Classes []string
}

// scope is what a key may write; nil allows everything.
type scope struct {
	prefixes []string
	classes  []string
}

// check says why an event of store and class is outside the scope, or "".
func (sc *scope) check(store, class string) string {
	if sc == nil {
		return ""
	}
	if len(sc.prefixes) > 0 {
		ok := false
		for _, p := range sc.prefixes {
			if strings.HasPrefix(store, p) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Sprintf("the key may not write events of store %q", clip(store))
		}
	}
	if len(sc.classes) > 0 && !slices.Contains(sc.classes, class) {
		return fmt.Sprintf("the key may not write events of class %q", clip(class))
	}
	return ""
}

// keyEntry is an accepted key: its digest, compared in constant time, and
// its scope.
type keyEntry struct {
	sum   [sha256.Size]byte
	scope *scope
	label int // index, names the key's rate limiter
}

// keyring holds the accepted keys.
type keyring struct {
	keys []keyEntry
}

func newKeyring(plain []string, scoped []Key) (*keyring, error) {
	kr := &keyring{}
	seen := make(map[string]bool)
	add := func(secret string, sc *scope) error {
		if secret == "" || strings.ContainsAny(secret, " \t\r\n") {
			return fmt.Errorf("%w: a key is empty or contains whitespace", ErrInvalidOptions)
		}
		if seen[secret] {
			return fmt.Errorf("%w: a key is listed twice", ErrInvalidOptions)
		}
		seen[secret] = true
		kr.keys = append(kr.keys, keyEntry{sum: sha256.Sum256([]byte(secret)), scope: sc, label: len(kr.keys)})
		return nil
	}
	for _, k := range plain {
		if err := add(k, nil); err != nil {
			return nil, err
		}
	}
	for _, k := range scoped {
		var sc *scope
		if len(k.StorePrefixes) > 0 || len(k.Classes) > 0 {
			for _, p := range k.StorePrefixes {
				if p == "" {
					return nil, fmt.Errorf("%w: a key's store prefix is empty", ErrInvalidOptions)
				}
			}
			sc = &scope{prefixes: slices.Clone(k.StorePrefixes), classes: slices.Clone(k.Classes)}
		}
		if err := add(k.Secret, sc); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

// open reports whether no key is needed.
func (kr *keyring) open() bool { return len(kr.keys) == 0 }

// match returns the key of an Authorization header, comparing its digest
// with every key's in constant time (the time depends only on the number
// of keys).
func (kr *keyring) match(header string) (*keyEntry, bool) {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(header, "bearer ")
	}
	if !ok || token == "" {
		return nil, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	found := -1
	for i := range kr.keys {
		if subtle.ConstantTimeCompare(sum[:], kr.keys[i].sum[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil, false
	}
	return &kr.keys[found], true
}

// limiter is a token bucket per key: rate requests a second, bursts of
// burst.
type limiter struct {
	rate  float64
	burst float64
	mu    sync.Mutex
	state map[int]*bucketState
}

type bucketState struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{rate: rate, burst: math.Max(1, rate), state: make(map[int]*bucketState)}
}

// allow takes a token of key's bucket at now; when there is none it says
// how long until there is.
func (l *limiter) allow(key int, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.state[key]
	if !ok {
		st = &bucketState{tokens: l.burst, last: now}
		l.state[key] = st
	}
	if d := now.Sub(st.last).Seconds(); d > 0 {
		st.tokens = math.Min(l.burst, st.tokens+d*l.rate)
		st.last = now
	}
	if st.tokens >= 1 {
		st.tokens--
		return true, 0
	}
	wait := time.Duration((1 - st.tokens) / l.rate * float64(time.Second))
	return false, wait
}
