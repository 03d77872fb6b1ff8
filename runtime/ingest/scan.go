package ingest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/wire"
)

// Limits of one event, well below what DuckDB's read_json (16 MiB objects
// by default) and SQLite's JSON functions (depth 1000) handle, so an event
// the ingest accepts never makes a query over the lake fail.
const (
	// MaxEventBytes is the largest event, in bytes of its JSON object.
	MaxEventBytes = 1 << 20
	// MaxDepth is the deepest nesting of objects and arrays in an event,
	// the event object itself counting 1.
	MaxDepth = 64
	// maxIDLen is the longest event id, in bytes.
	maxIDLen = 256
	// maxErrors is the most event errors one response lists.
	maxErrors = 100
)

// Reasons of a rejection: the "reason" label of the rejects metric.
const (
	reasonSyntax   = "syntax"
	reasonTooMany  = "too_many_events"
	reasonTooLarge = "too_large"
	reasonType     = "type"
	reasonTS       = "ts"
	reasonID       = "id"
	reasonDO       = "do"
	reasonScope    = "scope"
	reasonEvent    = "event_size"
	reasonDepth    = "depth"
)

// eventError is what is wrong with one event, or with the batch (Index -1).
type eventError struct {
	Index  int    `json:"index"`
	Error  string `json:"error"`
	reason string
}

// span is one valid event of a batch, as found by the scanner.
type span struct {
	raw    []byte    // the event's JSON object, as it is in the body
	ts     time.Time // its own time, UTC, milliseconds
	hasID  bool      // it has a string "id"
	spaced bool      // whitespace outside strings: compact it before writing
}

// batchScan is the result of scanning a batch body.
type batchScan struct {
	batchID string
	events  []span
	errs    []eventError // semantic errors of single events; the batch is refused
	status  int          // the refusal's status when errs is set or fatal
	fatal   *eventError  // a syntax error or limit that stopped the scan
}

// scanner validates a batch body in one pass without building values: it
// checks the JSON grammar (strings are valid UTF-8 without control
// characters; escapes and numbers are well formed), the limits, and reads
// only what the ingest needs of each event: type, ts, id, do.id, do.class.
type scanner struct {
	data   []byte
	pos    int
	spaced bool // whitespace was skipped since the flag was last cleared
	minTS  time.Time
	maxTS  time.Time
	scope  *scope
	// lastStore is the last valid "do"."id" seen.
	lastStore []byte
}

// errSyntax is a grammar error at a byte offset.
type errSyntax struct {
	off int
	msg string
}

func (e *errSyntax) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

// limitError is a depth or size limit an event exceeds.
type limitError struct {
	reason string
	msg    string
}

func (e *limitError) Error() string { return e.msg }

func (s *scanner) fail(msg string) error { return &errSyntax{off: s.pos, msg: msg} }

// scanBatch scans a whole body: {"events":[...],"batchId":"..."}; other
// members are checked and ignored. The events are appended to spans[:0].
func (s *scanner) scanBatch(maxEvents int, spans []span) *batchScan {
	res := &batchScan{events: spans[:0]}
	fatal := func(index int, status int, reason string, err error) *batchScan {
		res.fatal = &eventError{Index: index, Error: err.Error(), reason: reason}
		res.status = status
		return res
	}
	s.ws()
	if !s.next('{') {
		return fatal(-1, http.StatusBadRequest, reasonSyntax, s.fail("the batch is not a JSON object"))
	}
	sawEvents, sawBatchID := false, false
	s.ws()
	if s.next('}') {
		return fatal(-1, http.StatusBadRequest, reasonSyntax, fmt.Errorf("the batch has no \"events\""))
	}
	for {
		s.ws()
		k0, k1, esc, err := s.str()
		if err != nil {
			return fatal(-1, http.StatusBadRequest, reasonSyntax, err)
		}
		key := keyString(s.data[k0:k1], esc)
		s.ws()
		if !s.next(':') {
			return fatal(-1, http.StatusBadRequest, reasonSyntax, s.fail("expected ':'"))
		}
		s.ws()
		switch key {
		case "events":
			if sawEvents {
				return fatal(-1, http.StatusBadRequest, reasonSyntax, fmt.Errorf("the batch has \"events\" twice"))
			}
			sawEvents = true
			if r := s.scanEvents(res, maxEvents); r != nil {
				return r
			}
		case "batchId":
			if sawBatchID {
				return fatal(-1, http.StatusBadRequest, reasonSyntax, fmt.Errorf("the batch has \"batchId\" twice"))
			}
			sawBatchID = true
			if s.peek() == 'n' {
				if err := s.value(1, 0); err != nil {
					return fatal(-1, http.StatusBadRequest, reasonSyntax, err)
				}
				break
			}
			v0, v1, esc, err := s.str()
			if err != nil {
				return fatal(-1, http.StatusBadRequest, reasonSyntax, fmt.Errorf("batchId: %w", err))
			}
			res.batchID = keyString(s.data[v0:v1], esc)
		default:
			if err := s.value(1, MaxDepth); err != nil {
				return fatal(-1, http.StatusBadRequest, reasonSyntax, err)
			}
		}
		s.ws()
		if s.next(',') {
			continue
		}
		if s.next('}') {
			break
		}
		return fatal(-1, http.StatusBadRequest, reasonSyntax, s.fail("expected ',' or '}'"))
	}
	s.ws()
	if s.pos != len(s.data) {
		return fatal(-1, http.StatusBadRequest, reasonSyntax, s.fail("data after the batch object"))
	}
	if !sawEvents {
		return fatal(-1, http.StatusBadRequest, reasonSyntax, fmt.Errorf("the batch has no \"events\""))
	}
	if len(res.errs) > 0 {
		res.status = http.StatusForbidden
		for _, e := range res.errs {
			if e.reason != reasonScope {
				res.status = http.StatusBadRequest
				break
			}
		}
	}
	return res
}

// scanEvents scans the events array into res; it returns res when the scan
// must stop.
func (s *scanner) scanEvents(res *batchScan, maxEvents int) *batchScan {
	if !s.next('[') {
		res.fatal = &eventError{Index: -1, Error: s.fail("\"events\" is not an array").Error(), reason: reasonSyntax}
		res.status = http.StatusBadRequest
		return res
	}
	s.ws()
	if s.next(']') {
		return nil
	}
	for i := 0; ; i++ {
		if i == maxEvents {
			res.fatal = &eventError{Index: i, Error: fmt.Sprintf("more than %d events", maxEvents), reason: reasonTooMany}
			res.status = http.StatusRequestEntityTooLarge
			return res
		}
		s.ws()
		start := s.pos
		s.spaced = false
		sp, reason, msg, err := s.event()
		if err != nil {
			if le, ok := err.(*limitError); ok {
				reason = le.reason
			}
			res.fatal = &eventError{Index: i, Error: fmt.Sprintf("event %d: %v", i, err), reason: reason}
			res.status = http.StatusBadRequest
			return res
		}
		if reason != "" {
			if len(res.errs) < maxErrors {
				res.errs = append(res.errs, eventError{Index: i, Error: fmt.Sprintf("event %d: %s", i, msg), reason: reason})
			}
		} else {
			sp.raw = s.data[start:s.pos]
			if len(sp.raw) > MaxEventBytes {
				if len(res.errs) < maxErrors {
					res.errs = append(res.errs, eventError{Index: i, Error: fmt.Sprintf("event %d: %d bytes, more than %d", i, len(sp.raw), MaxEventBytes), reason: reasonEvent})
				}
			} else {
				sp.spaced = s.spaced
				res.events = append(res.events, sp)
			}
		}
		s.ws()
		if s.next(',') {
			continue
		}
		if s.next(']') {
			return nil
		}
		res.fatal = &eventError{Index: i, Error: fmt.Sprintf("event %d: %v", i, s.fail("expected ',' or ']'")), reason: reasonSyntax}
		res.status = http.StatusBadRequest
		return res
	}
}

// event scans one event object. err is a syntax or limit error (the scan
// stops); otherwise a non-empty reason says the event is invalid and msg
// why (the scan goes on).
func (s *scanner) event() (sp span, reason, msg string, err error) {
	if !s.next('{') {
		return sp, reasonSyntax, "", s.fail("the event is not a JSON object")
	}
	var sawType, sawTS, sawDO bool
	var typ, store, class []byte
	bad := func(r, m string) {
		if reason == "" {
			reason, msg = r, m
		}
	}
	s.ws()
	if !s.next('}') {
		for {
			s.ws()
			k0, k1, esc, err := s.str()
			if err != nil {
				return sp, reasonSyntax, "", err
			}
			key := unescape(s.data[k0:k1], esc)
			s.ws()
			if !s.next(':') {
				return sp, reasonSyntax, "", s.fail("expected ':'")
			}
			s.ws()
			isType, isTS, isID := string(key) == "type", string(key) == "ts", string(key) == "id"
			switch {
			case isType || isTS || isID:
				name := "id"
				if isType {
					name = "type"
				} else if isTS {
					name = "ts"
				}
				dup := isType && sawType || isTS && sawTS || isID && sp.hasID
				if s.peek() != '"' {
					if err := s.value(2, MaxDepth); err != nil {
						return sp, reasonSyntax, "", err
					}
					bad(reasonFor(name), fmt.Sprintf("%q must be a string", name))
					break
				}
				v0, v1, vesc, err := s.str()
				if err != nil {
					return sp, reasonSyntax, "", err
				}
				v := unescape(s.data[v0:v1], vesc)
				if dup {
					bad(reasonFor(name), fmt.Sprintf("%q appears twice", name))
				}
				switch {
				case isType:
					sawType, typ = true, v
				case isTS:
					sawTS = true
					t, ok := parseTS(v)
					if !ok {
						bad(reasonTS, fmt.Sprintf("ts %q is not an RFC 3339 time", clip(string(v))))
						break
					}
					sp.ts = t
				default:
					sp.hasID = true
					if len(v) == 0 || len(v) > maxIDLen || hasControl(v) {
						bad(reasonID, fmt.Sprintf("id must be 1-%d bytes without control characters", maxIDLen))
					}
				}
			case string(key) == "do":
				if sawDO {
					bad(reasonDO, "\"do\" appears twice")
				}
				sawDO = true
				if s.peek() != '{' {
					if err := s.value(2, MaxDepth); err != nil {
						return sp, reasonSyntax, "", err
					}
					bad(reasonDO, "\"do\" must be an object")
					break
				}
				st, cl, m, err := s.identity()
				if err != nil {
					return sp, reasonSyntax, "", err
				}
				if m != "" {
					bad(reasonDO, m)
				}
				store, class = st, cl
			default:
				if err := s.value(2, MaxDepth); err != nil {
					return sp, reasonSyntax, "", err
				}
			}
			s.ws()
			if s.next(',') {
				continue
			}
			if s.next('}') {
				break
			}
			return sp, reasonSyntax, "", s.fail("expected ',' or '}'")
		}
	}
	if reason != "" {
		return sp, reason, msg, nil
	}
	switch {
	case !sawType:
		bad(reasonType, "no \"type\"")
	case !wire.ValidType(typ):
		bad(reasonType, fmt.Sprintf("type %q must be 1-%d characters of [a-zA-Z0-9._-]", clip(string(typ)), wire.MaxTypeLen))
	case !sawTS:
		bad(reasonTS, "no \"ts\"")
	case sp.ts.Before(s.minTS):
		bad(reasonTS, fmt.Sprintf("ts %s is before %s, the oldest accepted", sp.ts.Format(wire.TimeLayout), s.minTS.Format(wire.TimeLayout)))
	case sp.ts.After(s.maxTS):
		bad(reasonTS, fmt.Sprintf("ts %s is after %s, the latest accepted", sp.ts.Format(wire.TimeLayout), s.maxTS.Format(wire.TimeLayout)))
	default:
		if s.scope != nil {
			if msg := s.scope.check(string(store), string(class)); msg != "" {
				bad(reasonScope, msg)
			}
		}
	}
	return sp, reason, msg, nil
}

// identity scans a "do" object, reading its id and class.
func (s *scanner) identity() (store, class []byte, msg string, err error) {
	s.next('{')
	s.ws()
	if s.next('}') {
		return nil, nil, "", nil
	}
	for {
		s.ws()
		k0, k1, esc, err := s.str()
		if err != nil {
			return nil, nil, "", err
		}
		key := unescape(s.data[k0:k1], esc)
		s.ws()
		if !s.next(':') {
			return nil, nil, "", s.fail("expected ':'")
		}
		s.ws()
		isID, isClass := string(key) == "id", string(key) == "class"
		if (isID || isClass) && s.peek() == '"' {
			v0, v1, vesc, err := s.str()
			if err != nil {
				return nil, nil, "", err
			}
			v := unescape(s.data[v0:v1], vesc)
			if isID {
				if !s.knownStore(v) && !plainStoreID(v) {
					if err := events.ValidateStoreID(string(v)); err != nil {
						if msg == "" {
							msg = "do.id: " + err.Error()
						}
					} else {
						s.lastStore = v
					}
				}
				store = v
			} else {
				class = v
			}
		} else {
			if isID || isClass {
				if v := s.peek(); v != 'n' && msg == "" {
					msg = fmt.Sprintf("do.%s must be a string", key)
				}
			}
			if err := s.value(3, MaxDepth); err != nil {
				return nil, nil, "", err
			}
		}
		s.ws()
		if s.next(',') {
			continue
		}
		if s.next('}') {
			return store, class, msg, nil
		}
		return nil, nil, "", s.fail("expected ',' or '}'")
	}
}

// knownStore reports whether v is the store id validated last: the events
// of a batch are mostly of one store.
func (s *scanner) knownStore(v []byte) bool {
	return s.lastStore != nil && string(v) == string(s.lastStore)
}

// plainStoreID reports whether v is a valid store id (as
// events.ValidateStoreID) of printable ASCII only: the common case, checked
// without allocating.
func plainStoreID(v []byte) bool {
	if len(v) == 0 || len(v) > 256 || v[0] == '.' || v[len(v)-1] == '.' {
		return false
	}
	for _, c := range v {
		if c < 0x20 || c >= 0x7f || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}

func reasonFor(name string) string {
	switch name {
	case "type":
		return reasonType
	case "ts":
		return reasonTS
	}
	return reasonID
}

// value checks one JSON value at nesting depth (the value's own depth when
// it is an object or array). max 0 means no limit.
func (s *scanner) value(depth, max int) error {
	switch c := s.peek(); {
	case c == '"':
		_, _, _, err := s.str()
		return err
	case c == '{':
		if max > 0 && depth > max {
			return &limitError{reason: reasonDepth, msg: fmt.Sprintf("nested deeper than %d", max)}
		}
		s.pos++
		s.ws()
		if s.next('}') {
			return nil
		}
		for {
			s.ws()
			if _, _, _, err := s.str(); err != nil {
				return err
			}
			s.ws()
			if !s.next(':') {
				return s.fail("expected ':'")
			}
			s.ws()
			if err := s.value(depth+1, max); err != nil {
				return err
			}
			s.ws()
			if s.next(',') {
				continue
			}
			if s.next('}') {
				return nil
			}
			return s.fail("expected ',' or '}'")
		}
	case c == '[':
		if max > 0 && depth > max {
			return &limitError{reason: reasonDepth, msg: fmt.Sprintf("nested deeper than %d", max)}
		}
		s.pos++
		s.ws()
		if s.next(']') {
			return nil
		}
		for {
			s.ws()
			if err := s.value(depth+1, max); err != nil {
				return err
			}
			s.ws()
			if s.next(',') {
				continue
			}
			if s.next(']') {
				return nil
			}
			return s.fail("expected ',' or ']'")
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	default:
		return s.fail("expected a JSON value")
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// number checks a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	d := s.data
	p := s.pos
	if p < len(d) && d[p] == '-' {
		p++
	}
	switch {
	case p < len(d) && d[p] == '0':
		p++
	case p < len(d) && d[p] >= '1' && d[p] <= '9':
		for p < len(d) && d[p] >= '0' && d[p] <= '9' {
			p++
		}
	default:
		s.pos = p
		return s.fail("invalid number")
	}
	if p < len(d) && d[p] == '.' {
		p++
		q := p
		for p < len(d) && d[p] >= '0' && d[p] <= '9' {
			p++
		}
		if p == q {
			s.pos = p
			return s.fail("invalid number")
		}
	}
	if p < len(d) && (d[p] == 'e' || d[p] == 'E') {
		p++
		if p < len(d) && (d[p] == '+' || d[p] == '-') {
			p++
		}
		q := p
		for p < len(d) && d[p] >= '0' && d[p] <= '9' {
			p++
		}
		if p == q {
			s.pos = p
			return s.fail("invalid number")
		}
	}
	s.pos = p
	return nil
}

// Masks for testing eight bytes of a string at once.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plain marks the bytes a string may hold as they are: printable ASCII but
// '"' and '\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str checks a string at pos and returns the bounds of its content and
// whether it holds escapes.
func (s *scanner) str() (start, end int, esc bool, err error) {
	d := s.data
	if s.pos >= len(d) || d[s.pos] != '"' {
		return 0, 0, false, s.fail("expected a string")
	}
	p := s.pos + 1
	start = p
	for {
		// Eight bytes at a time while none needs a look ('"', '\\', a
		// control character or non-ASCII), then byte by byte.
		for p+8 <= len(d) {
			w := binary.LittleEndian.Uint64(d[p:])
			if (w-lsb*0x20)&^w&msb|((w^(lsb*'"'))-lsb)&^(w^(lsb*'"'))&msb|((w^(lsb*'\\'))-lsb)&^(w^(lsb*'\\'))&msb|w&msb != 0 {
				break
			}
			p += 8
		}
		for p < len(d) && plain[d[p]] {
			p++
		}
		if p >= len(d) {
			s.pos = p
			return 0, 0, false, s.fail("unterminated string")
		}
		switch c := d[p]; {
		case c == '"':
			s.pos = p + 1
			return start, p, esc, nil
		case c == '\\':
			esc = true
			if p+1 >= len(d) {
				s.pos = p
				return 0, 0, false, s.fail("unterminated string")
			}
			switch d[p+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p += 2
			case 'u':
				if p+6 > len(d) || !isHex(d[p+2]) || !isHex(d[p+3]) || !isHex(d[p+4]) || !isHex(d[p+5]) {
					s.pos = p
					return 0, 0, false, s.fail("invalid \\u escape")
				}
				p += 6
			default:
				s.pos = p
				return 0, 0, false, s.fail("invalid escape")
			}
		case c < 0x20:
			s.pos = p
			return 0, 0, false, s.fail("control character in a string")
		default:
			r, n := utf8.DecodeRune(d[p:])
			if r == utf8.RuneError && n <= 1 {
				s.pos = p
				return 0, 0, false, s.fail("invalid UTF-8 in a string")
			}
			p += n
		}
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// ws skips JSON whitespace, noting that it did.
func (s *scanner) ws() {
	d := s.data
	p := s.pos
	for p < len(d) && (d[p] == ' ' || d[p] == '\n' || d[p] == '\t' || d[p] == '\r') {
		p++
	}
	if p != s.pos {
		s.spaced = true
		s.pos = p
	}
}

func (s *scanner) next(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *scanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// unescape returns a scanned string's bytes, decoded when it holds
// escapes.
func unescape(b []byte, esc bool) []byte {
	if !esc {
		return b
	}
	return []byte(keyString(b, true))
}

// keyString returns a scanned string's value, decoding escapes (rare: the
// slow path uses encoding/json on the already validated string).
func keyString(b []byte, esc bool) string {
	if !esc {
		return string(b)
	}
	quoted := make([]byte, 0, len(b)+2)
	quoted = append(append(append(quoted, '"'), b...), '"')
	var v string
	if err := json.Unmarshal(quoted, &v); err != nil {
		return string(b) // cannot happen: the scanner validated it
	}
	return v
}

// parseTS parses a "ts": RFC 3339, UTC, truncated to milliseconds (as the
// events package does). The wire form, 2006-01-02T15:04:05.000Z, takes a
// fast path.
func parseTS(v []byte) (time.Time, bool) {
	if len(v) == 24 && v[4] == '-' && v[7] == '-' && v[10] == 'T' && v[13] == ':' && v[16] == ':' && v[19] == '.' && v[23] == 'Z' {
		y, ok1 := digits(v[0:4])
		mo, ok2 := digits(v[5:7])
		d, ok3 := digits(v[8:10])
		h, ok4 := digits(v[11:13])
		mi, ok5 := digits(v[14:16])
		se, ok6 := digits(v[17:19])
		ms, ok7 := digits(v[20:23])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && se <= 59 {
			t := time.Date(y, time.Month(mo), d, h, mi, se, ms*1e6, time.UTC)
			if t.Day() == d { // not Feb 30
				return t, true
			}
		}
		return time.Time{}, false
	}
	t, err := wire.ParseTime(string(v))
	return t, err == nil
}

// digits parses a run of ASCII digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func hasControl(v []byte) bool {
	for i := 0; i < len(v); {
		c := v[i]
		if c < 0x80 {
			if c < 0x20 || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(v[i:])
		if r >= 0x80 && r < 0xa0 {
			return true
		}
		i += n
	}
	return false
}

// clip shortens v for an error message.
func clip(v string) string {
	const max = 64
	if len(v) <= max {
		return v
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}
