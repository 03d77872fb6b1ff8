package snapshot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/changelog"
)

// upstreamUnverified says what a restore cannot check in an upstream
// snapshot (RestoreResult.Unverified).
var upstreamUnverified = []string{
	"checksum: an upstream snapshot has no sha256, so a changed body that is still valid JSON cannot be detected",
	"bookmark: an upstream snapshot records no position in the change log (RestoreTo cannot start from it)",
}

// isUpstream reports whether the body in f has the shape of the upstream
// library's createSnapshot: top-level doId, timestamp, collections and
// data, and none of this package's version, bookmark and sha256 (a body
// with any of those is one of this package's and keeps every check). It
// reads tokens only, so memory stays bounded.
func isUpstream(f *os.File) (bool, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false, nil
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false, nil
		}
		name, _ := tok.(string)
		seen[name] = true
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				return false, nil
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				depth++
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
			if depth == 0 {
				break
			}
		}
	}
	for _, own := range []string{"version", "bookmark", "sha256"} {
		if seen[own] {
			return false, nil
		}
	}
	return seen["doId"] && seen["timestamp"] && seen["collections"] && seen["data"], nil
}

// upstreamBody is the body upstream's createSnapshot writes: each row is
// the document's members with its id under "_id" (no escapes, so every
// other member is the document's own).
type upstreamBody struct {
	DoID        string                       `json:"doId"`
	Timestamp   string                       `json:"timestamp"`
	Collections []string                     `json:"collections"`
	TotalDocs   *int                         `json:"totalDocs"`
	Data        map[string][]json.RawMessage `json:"data"`
}

// upstreamRow is one document of an upstream body.
type upstreamRow struct {
	id  string
	doc []byte
}

// convertUpstream checks the upstream body in f and writes it in this
// package's layout to a new temporary file (rows sorted by id, a checksum
// of the converted body), which the caller discards. The upstream body is
// read into memory once, to sort its rows. Problems match ErrCorrupt.
func convertUpstream(f *os.File) (*os.File, header, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, header{}, err
	}
	var body upstreamBody
	if err := json.NewDecoder(bufio.NewReader(f)).Decode(&body); err != nil {
		return nil, header{}, syntaxf("upstream snapshot: %v", cut(err))
	}
	if err := validateID(body.DoID); err != nil {
		return nil, header{}, syntaxf("upstream snapshot: doId: %v", err)
	}
	ts, err := wire.ParseTime(body.Timestamp)
	if err != nil {
		return nil, header{}, syntaxf("upstream snapshot: timestamp %q is not a time", body.Timestamp)
	}
	var data []string
	for c := range body.Data {
		data = append(data, c)
	}
	if err := checkCollections(body.Collections, data); err != nil {
		return nil, header{}, fmt.Errorf("upstream snapshot: %w", err)
	}
	rows := map[string][]upstreamRow{}
	total := 0
	for _, c := range body.Collections {
		if err := changelog.ValidateCollection(c); err != nil {
			return nil, header{}, syntaxf("upstream snapshot: %v", err)
		}
		for i, raw := range body.Data[c] {
			r, err := parseUpstreamRow(raw)
			if err != nil {
				return nil, header{}, syntaxf("upstream snapshot: collection %s, row %d: %v", c, i, err)
			}
			rows[c] = append(rows[c], r)
		}
		slices.SortFunc(rows[c], func(a, b upstreamRow) int { return strings.Compare(a.id, b.id) })
		for i := 1; i < len(rows[c]); i++ {
			if rows[c][i].id == rows[c][i-1].id {
				return nil, header{}, syntaxf("upstream snapshot: collection %s: id %s appears twice", c, quote(rows[c][i].id))
			}
		}
		total += len(rows[c])
	}
	if body.TotalDocs != nil && *body.TotalDocs != total {
		return nil, header{}, syntaxf("upstream snapshot: totalDocs is %d but data holds %d documents", *body.TotalDocs, total)
	}
	out, err := os.CreateTemp("", "snapshot-*.json")
	if err != nil {
		return nil, header{}, err
	}
	w := newBodyWriter(out)
	err = w.header(body.DoID, ts, "", body.Collections)
	for i, c := range body.Collections {
		if err == nil {
			err = w.collection(i, c)
		}
		for _, r := range rows[c] {
			if err == nil {
				err = w.row(r.id, r.doc)
			}
		}
		if err == nil {
			err = w.endCollection()
		}
	}
	if err == nil {
		err = w.finish()
	}
	if err != nil {
		discard(out)
		return nil, header{}, err
	}
	h, err := readBody(out, visitor{}, true)
	if err != nil {
		discard(out)
		return nil, header{}, err
	}
	return out, h, nil
}

// parseUpstreamRow splits an upstream row into its "_id" and the document
// of its other members, as they are.
func parseUpstreamRow(raw []byte) (upstreamRow, error) {
	raw = []byte(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || raw[0] != '{' {
		return upstreamRow{}, errors.New("not an object")
	}
	var r upstreamRow
	found := false
	doc := []byte{'{'}
	err := forEachMember(raw, func(rawName, value []byte) error {
		name, err := unquote(rawName)
		if err != nil {
			return err
		}
		if name == rowIDName {
			if found {
				return errors.New(`"_id" appears twice`)
			}
			found = true
			if err := json.Unmarshal(value, &r.id); err != nil {
				return fmt.Errorf(`"_id" is not a string`)
			}
			return nil
		}
		if len(doc) > 1 {
			doc = append(doc, ',')
		}
		doc = append(append(append(doc, rawName...), ':'), value...)
		return nil
	})
	if err != nil {
		return upstreamRow{}, err
	}
	if !found {
		return upstreamRow{}, errors.New(`no "_id"`)
	}
	if err := changelog.ValidateID(r.id); err != nil {
		return upstreamRow{}, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, append(doc, '}')); err != nil {
		return upstreamRow{}, err
	}
	r.doc = compact.Bytes()
	return r, nil
}
