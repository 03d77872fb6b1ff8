package natssink

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadSubject is matched by ParseSubject's errors: the subject is not one
// the sink writes under the prefix.
var ErrBadSubject = errors.New("natssink: not a sink subject")

// escape is the escape character: "%XX" (two upper-case hex digits) stands
// for byte 0xXX, and a token of "%" alone for the empty string.
const escape = '%'

// plain reports whether byte c stands for itself in a token: printable
// ASCII other than '.', '*', '>' and the escape character.
func plain(c byte) bool {
	return c > ' ' && c < 0x7f && c != '.' && c != '*' && c != '>' && c != escape
}

const hexUpper = "0123456789ABCDEF"

// Token returns s as one NATS subject token: bytes other than printable
// ASCII, and '.', '*', '>' and '%', become "%XX" (upper-case hex); the
// empty string becomes "%". Distinct strings give distinct tokens, and
// every token is a valid literal subject token. Use it to build a filter
// subject for one store, e.g. prefix + "." + natssink.Token(storeID) + ".>".
func Token(s string) string {
	if s == "" {
		return string(escape)
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !plain(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	return string(appendToken(make([]byte, 0, len(s)+2*n), s))
}

// appendToken appends Token(s) to dst.
func appendToken(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, escape)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plain(c) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, escape, hexUpper[c>>4], hexUpper[c&0xF])
	}
	return dst
}

// unToken reverses Token. It accepts only what Token produces, so a
// subject parses only if the sink could have written it.
func unToken(t string) (string, bool) {
	if t == string(escape) {
		return "", true
	}
	if t == "" {
		return "", false
	}
	if strings.IndexByte(t, escape) < 0 {
		for i := 0; i < len(t); i++ {
			if !plain(t[i]) {
				return "", false
			}
		}
		return t, true
	}
	b := make([]byte, 0, len(t))
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c != escape {
			if !plain(c) {
				return "", false
			}
			b = append(b, c)
			continue
		}
		if i+2 >= len(t) {
			return "", false
		}
		hi, lo := strings.IndexByte(hexUpper, t[i+1]), strings.IndexByte(hexUpper, t[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		d := byte(hi<<4 | lo)
		if plain(d) {
			return "", false // Token writes it as itself
		}
		b = append(b, d)
		i += 2
	}
	return string(b), true
}

// ParseSubject returns the store id and event type of a subject the sink
// wrote under prefix ("{prefix}.{Token(store)}.{Token(type)}"). Errors
// match ErrBadSubject.
func ParseSubject(prefix, subject string) (store, typ string, err error) {
	rest, ok := strings.CutPrefix(subject, prefix)
	if !ok || prefix == "" || len(rest) == 0 || rest[0] != '.' {
		return "", "", fmt.Errorf("%w: %q is not under %q", ErrBadSubject, subject, prefix)
	}
	st, ty, ok := strings.Cut(rest[1:], ".")
	if !ok {
		return "", "", fmt.Errorf("%w: %q has no store and type tokens", ErrBadSubject, subject)
	}
	store, ok1 := unToken(st)
	typ, ok2 := unToken(ty)
	if !ok1 || !ok2 {
		return "", "", fmt.Errorf("%w: %q has a token the sink does not write", ErrBadSubject, subject)
	}
	return store, typ, nil
}

// validPrefix checks a subject prefix: dot-separated tokens of printable
// ASCII without wildcards.
func validPrefix(p string) error {
	if p == "" {
		return errors.New("empty subject prefix")
	}
	for t := range strings.SplitSeq(p, ".") {
		if t == "" {
			return fmt.Errorf("subject prefix %q has an empty token", p)
		}
		if t == "*" || t == ">" {
			return fmt.Errorf("subject prefix %q has a wildcard", p)
		}
		for i := 0; i < len(t); i++ {
			if c := t[i]; c <= ' ' || c >= 0x7f || c == '*' || c == '>' {
				return fmt.Errorf("subject prefix %q holds %q", p, c)
			}
		}
	}
	return nil
}
