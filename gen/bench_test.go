package gen

import (
	"context"
	"fmt"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchPackage writes a package with n annotated types (ten fields each,
// of every kind, one nested struct) inside the module, removed afterwards.
func benchPackage(tb testing.TB, n int) string {
	tb.Helper()
	parent, err := filepath.Abs("testdata")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		tb.Fatal(err)
	}
	dir, err := os.MkdirTemp(parent, "bench-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	var b strings.Builder
	b.WriteString("package bench\n\nimport (\n\t\"encoding/json\"\n\t\"time\"\n)\n\n// Level is an enum.\ntype Level int\n\n// Place is nested.\ntype Place struct {\n\tCity string `json:\"city\"`\n\tLat  float64 `json:\"lat\"`\n}\n")
	for i := range n {
		fmt.Fprintf(&b, `
// Type%[1]d is annotated.
//
//events:collection
type Type%[1]d struct {
	Name    string            `+"`json:\"name\" events:\"index\"`"+`
	Count   int64             `+"`json:\"count\"`"+`
	Active  bool              `+"`json:\"active\"`"+`
	Level   Level             `+"`json:\"level\"`"+`
	At      time.Time         `+"`json:\"at\"`"+`
	Tags    []string          `+"`json:\"tags,omitempty\"`"+`
	Attrs   map[string]string `+"`json:\"attrs,omitempty\"`"+`
	Raw     json.RawMessage   `+"`json:\"raw,omitempty\"`"+`
	Owner   *string           `+"`json:\"owner,omitempty\"`"+`
	Place   Place             `+"`json:\"place\"`"+`
}
`, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "types.go"), []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// BenchmarkGenerate50 generates for a package of 50 annotated types, the
// whole of eventsgen's work but writing (go/packages loading, model,
// rendering), and reports the phases separately.
func BenchmarkGenerate50(b *testing.B) {
	dir := benchPackage(b, 50)
	ctx := context.Background()
	cfg := &Config{Dir: dir}
	var loadD, buildD, renderD time.Duration
	var size int
	for b.Loop() {
		start := time.Now()
		fset := token.NewFileSet()
		pkgs, err := load(ctx, cfg, fset)
		if err != nil {
			b.Fatal(err)
		}
		loaded := time.Now()
		m, diags := packageModel(pkgs[0], fset, cfg)
		if len(diags) > 0 || m == nil || len(m.collections) != 50 {
			b.Fatalf("%v", diags)
		}
		built := time.Now()
		out, err := render(m)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
		loadD += loaded.Sub(start)
		buildD += built.Sub(loaded)
		renderD += time.Since(built)
	}
	n := float64(b.N)
	b.ReportMetric(float64(loadD.Milliseconds())/n, "load-ms/op")
	b.ReportMetric(float64(buildD.Microseconds())/1000/n, "model-ms/op")
	b.ReportMetric(float64(renderD.Microseconds())/1000/n, "render-ms/op")
	b.ReportMetric(float64(size), "bytes")
}
