package lakeparquet

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// TestRoundTrip: lines become rows, a file of them reads back the same, and
// each row's JSON means the line it came from.
func TestRoundTrip(t *testing.T) {
	lines := []string{
		`{"type":"collection.insert","ts":"2024-01-15T14:40:00.000Z","do":{"id":"b","class":"C"},"id":"e1","collection":"users","docId":"u1","doc":{"a":1},"bookmark":"00000000000000000001"}`,
		`{"type":"rpc.call","ts":"2024-01-15T14:40:01.000Z","do":{"id":"a"},"id":"e2","method":"m","durationMs":12.5,"success":false,"error":"x"}`,
		`{"type":"track","ts":"2024-01-15T14:40:02.000Z","do":{"id":"a","zz":1},"event":"e"}`,
		`{"type":"track","ts":"2024-01-15T14:40:02.123456Z","do":{"id":"a"},"id":null}`,
		`{"type":"t","ts":"2024-01-15T14:40:03.000Z","do":{"id":"a"},"method":5,"id":"e5"}`,
	}
	var rows []Row
	for i, l := range lines {
		r, err := FromLine([]byte(l), "2024/01/15/14/x.jsonl", i+1)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		rows = append(rows, r)
	}
	wantOdd := []bool{false, false, true, true, true}
	for i, r := range rows {
		if r.Odd != wantOdd[i] {
			t.Errorf("line %d: odd = %v, want %v", i+1, r.Odd, wantOdd[i])
		}
		var got, want any
		if err := json.Unmarshal(r.AppendJSON(nil), &got); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, r.AppendJSON(nil))
		}
		json.Unmarshal([]byte(lines[i]), &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("line %d: JSON %s, want %s", i+1, r.AppendJSON(nil), lines[i])
		}
	}
	if rows[2].Key() != "~2024/01/15/14/x.jsonl#3" {
		t.Errorf("key of an event without id = %q", rows[2].Key())
	}
	rows = Dedupe(append(rows, rows[0]))
	if len(rows) != len(lines) {
		t.Fatalf("Dedupe kept %d rows, want %d", len(rows), len(lines))
	}
	var buf bytes.Buffer
	if err := Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	back, err := Read(buf.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rows) {
		t.Errorf("read back %+v\nwant %+v", back, rows)
	}
	if *back[0].DOID != "a" {
		t.Errorf("rows not sorted by do_id: first %q", *back[0].DOID)
	}
	skipped, err := Read(buf.Bytes(), func(mn, mx string, _ bool) bool { return mn <= "zzz" && "zzz" <= mx })
	if err != nil || len(skipped) != 0 {
		t.Errorf("row groups without the store: %d rows, %v", len(skipped), err)
	}
	if _, err := Read([]byte("PAR1 nope"), nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("garbage: %v", err)
	}
	for _, bad := range []string{`{"ts":"2024-01-15T14:40:00.000Z"}`, `{"type":"t"}`, `{"type":1,"ts":"2024-01-15T14:40:00.000Z"}`, `{"type":"t","ts":"x"}`, `[1]`, `{"type":"t",`, `{"type":"t","ts":"2024-01-15T14:40:00.000Z","id":5}`} {
		if _, err := FromLine([]byte(bad), "", 1); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if len(Empty()) == 0 {
		t.Error("empty file")
	}
}
