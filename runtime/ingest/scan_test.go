package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// valid reports whether the scanner accepts data as one JSON value.
func valid(data []byte) bool {
	s := scanner{data: data}
	s.ws()
	if err := s.value(1, 0); err != nil {
		return false
	}
	s.ws()
	return s.pos == len(data)
}

// TestScannerAgreesWithEncodingJSON checks the grammar against
// encoding/json on valid UTF-8 (which encoding/json does not check).
func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	inputs := append([]string(nil), scanSeeds...)
	// Each special byte at each offset of a long string, for the scanner's
	// eight-bytes-at-a-time path.
	for _, special := range []string{`"`, `\\n`, `\\u00e9`, `\\x`, "\x01", "\x1f", "\x7f", "é", "\u2028", "€"} {
		for k := range 20 {
			inputs = append(inputs, `"`+strings.Repeat("a", k)+special+strings.Repeat("b", 19-k)+`"`)
		}
	}
	for _, in := range inputs {
		if got, want := valid([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("%q: scanner %v, encoding/json %v", in, got, want)
		}
	}
}

var scanSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `01`, `1.`, `1.5e`, `1e+9`, `-`, `tru`, `true`, `null`, `nul`,
	`{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":[1,{"b":"c\u00e9\n"}]}`, `"\u12"`, `"\x"`, `"a"b`,
	` { "a" : [ 1 , 2 ] } `, `{"a":"é"}`, `[[[[]]]]`, `{1:2}`, `"` + "\x01" + `"`, `1 2`,
	`-1.25E-10`, `[-]`, `{"a":-01}`, `"\/\b\f\r\t\\\""`,
}

func FuzzScanner(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return
		}
		if got, want := valid(data), json.Valid(data); got != want {
			t.Errorf("%q: scanner %v, encoding/json %v", data, got, want)
		}
	})
}

// benchBody is a batch of n events of about 300 bytes each.
func benchBody(n int, ids bool) []byte {
	var b strings.Builder
	b.WriteString(`{"events":[`)
	ts := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		id := ""
		if ids {
			id = fmt.Sprintf(`"id":"tenant-%d-c-%d",`, i%50, i)
		}
		fmt.Fprintf(&b, `{"type":"collection.update","ts":%q,"do":{"id":"tenant-%d","class":"Tenant","colo":"AMS"},%s"collection":"users","docId":"u%d","doc":{"name":"Ann Example","email":"ann@example.com","age":%d,"tags":["a","b"],"active":true},"bookmark":"%020d"}`,
			ts.Add(time.Duration(i)*time.Millisecond).Format("2006-01-02T15:04:05.000Z"), i%50, id, i, i%90, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkScan measures the validation of a 1000-event batch: the goal
// is at most ~1 µs of CPU per event.
func BenchmarkScan(b *testing.B) {
	b.Run("upstream", func(b *testing.B) { benchScan(b, false) })
	b.Run("ids", func(b *testing.B) { benchScan(b, true) })
}

func benchScan(b *testing.B, ids bool) {
	body := benchBody(1000, ids)
	var spans []span
	b.SetBytes(int64(len(body)))
	c0 := cpu()
	for b.Loop() {
		s := scanner{data: body, maxTS: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}
		res := s.scanBatch(1000, spans)
		spans = res.events[:0]
		if res.fatal != nil || len(res.errs) > 0 || len(res.events) != 1000 {
			b.Fatalf("%+v %+v", res.fatal, res.errs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/event")
	b.ReportMetric(float64(cpu()-c0)/float64(b.N)/1000, "cpu-ns/event")
}

// cpu is the process's CPU time (user and system) so far, in ns: unlike
// wall time it does not grow when other processes share the cores.
func cpu() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkDecodeBatch is encoding/json's decode of the same batch, for
// comparison.
func BenchmarkDecodeBatch(b *testing.B) {
	body := benchBody(1000, false)
	b.SetBytes(int64(len(body)))
	c0 := cpu()
	for b.Loop() {
		var v struct {
			Events []map[string]any `json:"events"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/event")
	b.ReportMetric(float64(cpu()-c0)/float64(b.N)/1000, "cpu-ns/event")
}

// TestScannerRefusesInvalidUTF8 checks invalid UTF-8 at every offset of a
// long string is refused (encoding/json lets it through).
func TestScannerRefusesInvalidUTF8(t *testing.T) {
	for _, bad := range []string{"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80"} {
		for k := range 20 {
			in := `"` + strings.Repeat("a", k) + bad + strings.Repeat("b", 19-k) + `"`
			if valid([]byte(in)) {
				t.Errorf("%q accepted", in)
			}
		}
	}
}
