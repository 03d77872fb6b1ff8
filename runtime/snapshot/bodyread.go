package snapshot

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/cdc"
)

// header is what a body says about itself.
type header struct {
	id          string
	timestamp   time.Time
	bookmark    cdc.Bookmark
	collections []string // in the order of "collections"
	totalDocs   int
	upstream    bool // converted from an upstream body (convertUpstream)
}

// visitor receives a body's rows in order; readBody calls begin and end
// around each collection's rows. Any method may be nil.
type visitor struct {
	begin func(collection string) error
	row   func(id string, doc []byte) error
	end   func(collection string) error
}

// readBody reads and checks the whole body in f (from the start), feeding
// v, then (when verify is set) checks its checksum. Every problem is an
// error matching ErrCorrupt, or ErrVersion for a layout it does not read;
// errors of v come back as they are.
func readBody(f *os.File, v visitor, verify bool) (header, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return header{}, err
	}
	p := &bodyParser{dec: json.NewDecoder(bufio.NewReaderSize(f, 256<<10)), v: v}
	h, sum, err := p.parse()
	if err != nil {
		return header{}, err
	}
	if verify {
		if err := checkSum(f, sum); err != nil {
			return header{}, err
		}
	}
	return h, nil
}

// checkSum checks that f ends with the trailer holding sum and that sum is
// the SHA-256 of everything before it.
func checkSum(f *os.File, sum string) error {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if size < int64(trailerLen) {
		return syntaxf("%d bytes is too short for a snapshot", size)
	}
	trailer := make([]byte, trailerLen)
	if _, err := f.ReadAt(trailer, size-int64(trailerLen)); err != nil {
		return err
	}
	if want := `,"sha256":"` + sum + `"}`; string(trailer) != want {
		return syntaxf(`the body does not end with ,"sha256":"<digest>"}`)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, size-int64(trailerLen))); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return syntaxf("checksum mismatch: the body hashes to %s, it says %s", got, sum)
	}
	return nil
}

// bodyParser reads a body with a streaming decoder: one row in memory at a
// time.
type bodyParser struct {
	dec *json.Decoder
	v   visitor
	row json.RawMessage // the current row, reused
	doc []byte          // the current document, reused
}

func (p *bodyParser) parse() (h header, sum string, err error) {
	if err := p.delim('{', "the body"); err != nil {
		return h, "", err
	}
	seen := map[string]bool{}
	var (
		dataColls []string
		docs      int
	)
	for p.dec.More() {
		name, err := p.key()
		if err != nil {
			return h, "", err
		}
		if seen[name] {
			return h, "", syntaxf("member %q appears twice", name)
		}
		seen[name] = true
		switch name {
		case "version":
			var raw json.RawMessage
			if err := p.decode(&raw, name); err != nil {
				return h, "", err
			}
			if string(raw) != "1" {
				return h, "", fmt.Errorf("%w: version %s, this package reads %d", ErrVersion, raw, layoutVersion)
			}
		case "doId":
			if err := p.decode(&h.id, name); err != nil {
				return h, "", err
			}
			if err := validateID(h.id); err != nil {
				return h, "", syntaxf("doId: %v", err)
			}
		case "timestamp":
			var s string
			if err := p.decode(&s, name); err != nil {
				return h, "", err
			}
			if h.timestamp, err = wire.ParseTime(s); err != nil {
				return h, "", syntaxf("timestamp %q is not a time", s)
			}
		case "bookmark":
			var s string
			if err := p.decode(&s, name); err != nil {
				return h, "", err
			}
			if h.bookmark, err = cdc.ParseBookmark(s); err != nil {
				return h, "", syntaxf("bookmark: %v", err)
			}
		case "collections":
			if err := p.decode(&h.collections, name); err != nil {
				return h, "", err
			}
		case "totalDocs":
			if err := p.decode(&h.totalDocs, name); err != nil {
				return h, "", err
			}
		case "sha256":
			if err := p.decode(&sum, name); err != nil {
				return h, "", err
			}
			if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size || hex.EncodeToString(b) != sum {
				return h, "", syntaxf("sha256 %q is not %d lower-case hex digits", sum, 2*sha256.Size)
			}
		case "data":
			if dataColls, docs, err = p.data(); err != nil {
				return h, "", err
			}
		default:
			// Members a later version 1 writer may add: skipped.
			var skip json.RawMessage
			if err := p.decode(&skip, name); err != nil {
				return h, "", err
			}
		}
	}
	if err := p.delim('}', "the body"); err != nil {
		return h, "", err
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return h, "", syntaxf("data after the end of the body")
	}
	if !seen["version"] {
		return h, "", fmt.Errorf("%w: the body has no version (not a snapshot of this package's layout)", ErrVersion)
	}
	for _, m := range []string{"doId", "timestamp", "bookmark", "collections", "data", "totalDocs", "sha256"} {
		if !seen[m] {
			return h, "", syntaxf("the body has no %q", m)
		}
	}
	if err := checkCollections(h.collections, dataColls); err != nil {
		return h, "", err
	}
	if docs != h.totalDocs {
		return h, "", syntaxf("totalDocs is %d but data holds %d documents", h.totalDocs, docs)
	}
	return h, sum, nil
}

// checkCollections checks that "collections" lists exactly the collections
// of "data", each once.
func checkCollections(listed, data []string) error {
	a, b := slices.Clone(listed), slices.Clone(data)
	slices.Sort(a)
	slices.Sort(b)
	if len(slices.Compact(slices.Clone(a))) != len(a) {
		return syntaxf("collections lists a name twice")
	}
	if !slices.Equal(a, b) {
		return syntaxf("collections %q does not match the collections in data %q", listed, data)
	}
	return nil
}

// data reads the "data" object, returning its collection names in order
// and its number of documents.
func (p *bodyParser) data() ([]string, int, error) {
	if err := p.delim('{', "data"); err != nil {
		return nil, 0, err
	}
	var (
		colls []string
		seen  = map[string]bool{}
		docs  int
	)
	for p.dec.More() {
		coll, err := p.key()
		if err != nil {
			return nil, 0, err
		}
		if err := cdc.ValidateCollection(coll); err != nil {
			return nil, 0, syntaxf("data: %v", err)
		}
		if seen[coll] {
			return nil, 0, syntaxf("data: collection %s appears twice", coll)
		}
		seen[coll] = true
		colls = append(colls, coll)
		n, err := p.rows(coll)
		if err != nil {
			return nil, 0, err
		}
		docs += n
	}
	if err := p.delim('}', "data"); err != nil {
		return nil, 0, err
	}
	return colls, docs, nil
}

// rows reads one collection's array of rows.
func (p *bodyParser) rows(coll string) (int, error) {
	if err := p.delim('[', "collection "+coll); err != nil {
		return 0, err
	}
	if p.v.begin != nil {
		if err := p.v.begin(coll); err != nil {
			return 0, err
		}
	}
	var (
		n    int
		last string
	)
	for p.dec.More() {
		p.row = p.row[:0]
		if err := p.dec.Decode(&p.row); err != nil {
			return 0, syntaxf("collection %s, row %d: %v", coll, n, err)
		}
		if len(p.row) == 0 || p.row[0] != '{' {
			return 0, syntaxf("collection %s, row %d is not an object", coll, n)
		}
		id, doc, err := parseRow(p.row, p.doc)
		p.doc = doc
		if err != nil {
			return 0, syntaxf("collection %s, row %d: %v", coll, n, err)
		}
		if err := cdc.ValidateID(id); err != nil {
			return 0, syntaxf("collection %s, row %d: %v", coll, n, err)
		}
		if n > 0 && id <= last {
			return 0, syntaxf("collection %s: row %s after %s: rows must be in id order without repeats", coll, quote(id), quote(last))
		}
		last = id
		n++
		if p.v.row != nil {
			if err := p.v.row(id, doc); err != nil {
				return 0, err
			}
		}
	}
	if err := p.delim(']', "collection "+coll); err != nil {
		return 0, err
	}
	if p.v.end != nil {
		if err := p.v.end(coll); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// key reads an object member's name.
func (p *bodyParser) key() (string, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return "", syntaxf("%v", cut(err))
	}
	s, ok := tok.(string)
	if !ok {
		return "", syntaxf("expected a member name, found %v", tok)
	}
	return s, nil
}

// delim reads the delimiter d.
func (p *bodyParser) delim(d json.Delim, where string) error {
	tok, err := p.dec.Token()
	if err != nil {
		return syntaxf("%s: %v", where, cut(err))
	}
	if tok != d {
		return syntaxf("%s: expected %q, found %v", where, d, tok)
	}
	return nil
}

// decode reads member name's value into dst.
func (p *bodyParser) decode(dst any, name string) error {
	if err := p.dec.Decode(dst); err != nil {
		return syntaxf("%s: %v", name, cut(err))
	}
	return nil
}

// cut names the end of input for what it is: the body was cut short.
func cut(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the body ends too soon (cut short?)")
	}
	return err
}
