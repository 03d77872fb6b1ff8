package snapshot

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRow: any JSON document survives appendRow then parseRow byte for
// byte (compacted), whatever its member names.
func FuzzRow(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"_id":"x"}`, `{"__id":1,"_value":2,"___value":[3]}`, `{"\u005fid":1}`,
		`{"\u005f\u005fid":1,"_\u0069d":2}`, `"str"`, `42`, `null`, `[1,{"_id":2}]`, `true`,
		`{"a":{"_id":1},"b":"_id\"","c":"\\"}`, `{"x_id":1,"_idx":2,"_":3,"id":4,"_i":5}`,
	} {
		f.Add("id-1", s)
	}
	f.Fuzz(func(t *testing.T, id, doc string) {
		if !json.Valid([]byte(doc)) {
			return
		}
		var c bytes.Buffer
		if err := json.Compact(&c, []byte(doc)); err != nil {
			return
		}
		row, err := appendRow(nil, id, c.Bytes())
		if err != nil {
			t.Fatalf("appendRow(%q): %v", c.Bytes(), err)
		}
		if !json.Valid(row) {
			t.Fatalf("row %s is not JSON", row)
		}
		gotID, got, err := parseRow(row, nil)
		if err != nil {
			t.Fatalf("parseRow(%s): %v", row, err)
		}
		// Invalid UTF-8 in the id comes back as U+FFFD, as encoding/json does.
		var wantID string
		if err := json.Unmarshal(appendQuoted(id), &wantID); err != nil {
			t.Fatal(err)
		}
		if gotID != wantID || !bytes.Equal(got, c.Bytes()) {
			t.Fatalf("round trip of %q %s: got %q %s (row %s)", id, c.Bytes(), gotID, got, row)
		}
	})
}

func appendQuoted(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// FuzzBody: readBody never panics, and whatever it accepts has the shape it
// promises.
func FuzzBody(f *testing.F) {
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"doId":"x","timestamp":"2024-01-15T12:34:56.789Z","bookmark":"","collections":["c"],"data":{"c":[{"_id":"a","v":1},{"_id":"b","_value":2}]},"totalDocs":2,"sha256":"00"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		path := filepath.Join(t.TempDir(), "b.json")
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		rows := 0
		h, err := readBody(file, visitor{row: func(id string, doc []byte) error {
			if !json.Valid(doc) {
				t.Fatalf("row %q: invalid document %s", id, doc)
			}
			rows++
			return nil
		}}, true)
		if err == nil && h.totalDocs != rows {
			t.Fatalf("accepted %d rows, totalDocs %d", rows, h.totalDocs)
		}
	})
}
