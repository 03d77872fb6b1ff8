package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

var update = flag.Bool("update", false, "rewrite the expected files of testdata/golden")

// goldenCase is a directory of testdata/golden: input/ is a package,
// expected/ holds events_gen.go (success) or stderr (problems).
type goldenCase struct {
	name     string
	input    string // absolute
	expected string // absolute
}

// goldenCases lists the cases, and the module root.
func goldenCases(t *testing.T) ([]goldenCase, string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		cases = append(cases, goldenCase{name: e.Name(), input: filepath.Join(dir, "input"), expected: filepath.Join(dir, "expected")})
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	return cases, filepath.Dir(filepath.Dir(root))
}

// loadGolden loads every case's input package with one go command run.
func loadGolden(t *testing.T, cases []goldenCase, module string) (map[string]*packages.Package, *token.FileSet) {
	t.Helper()
	patterns := make([]string, len(cases))
	for i, c := range cases {
		patterns[i] = c.input
	}
	fset := token.NewFileSet()
	pkgs, err := load(context.Background(), &Config{Dir: module, Patterns: patterns}, fset)
	if err != nil {
		t.Fatal(err)
	}
	byDir := map[string]*packages.Package{}
	for _, p := range pkgs {
		dir := p.Dir
		if dir == "" && len(p.GoFiles) > 0 {
			dir = filepath.Dir(p.GoFiles[0])
		}
		byDir[dir] = p
	}
	return byDir, fset
}

// TestGolden runs the generator on each case and compares its whole output
// (the generated file, or the problems as eventsgen prints them) with the
// expected file. go test ./gen -update rewrites the expected files.
func TestGolden(t *testing.T) {
	cases, module := goldenCases(t)
	pkgs, fset := loadGolden(t, cases, module)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkg := pkgs[c.input]
			if pkg == nil {
				t.Fatalf("package %s not loaded", c.input)
			}
			name, got := goldenOutput(t, pkg, fset, c)
			if name == defaultOutput {
				// Rendering is deterministic.
				if _, again := goldenOutput(t, pkg, fset, c); !bytes.Equal(got, again) {
					t.Error("two renders differ")
				}
			}
			compareGolden(t, c, name, got)
		})
	}
}

// goldenOutput is what the generator produces for a case: the file name
// in expected/ and its content.
func goldenOutput(t *testing.T, pkg *packages.Package, fset *token.FileSet, c goldenCase) (string, []byte) {
	t.Helper()
	m, diags := packageModel(pkg, fset, &Config{Dir: c.input})
	if len(diags) > 0 {
		return "stderr", []byte(newErrors(diags, c.input).Error() + "\n")
	}
	if m == nil {
		t.Fatal("no model and no problems")
	}
	out, err := render(m)
	if err != nil {
		t.Fatal(err)
	}
	return defaultOutput, out
}

// compareGolden compares got with expected/name, or rewrites it with -update.
func compareGolden(t *testing.T, c goldenCase, name string, got []byte) {
	t.Helper()
	path := filepath.Join(c.expected, name)
	if *update {
		if err := os.MkdirAll(c.expected, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, other := range []string{"stderr", defaultOutput} {
			if other != name {
				if err := os.Remove(filepath.Join(c.expected, other)); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Fatal(err)
				}
			}
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %s, but expected/%s does not exist (run go test ./gen -update):\n%s", name, name, got)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from expected/%s (run go test ./gen -update to accept):\n%s", name, name, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines that differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// TestGoldenCompiles builds every success case's input with its expected
// output in place (through an overlay: nothing is written into the tree),
// all in one go build.
func TestGoldenCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	cases, module := goldenCases(t)
	replace := map[string]string{}
	var dirs []string
	for _, c := range cases {
		want := filepath.Join(c.expected, defaultOutput)
		if _, err := os.Stat(want); err != nil {
			continue
		}
		replace[filepath.Join(c.input, defaultOutput)] = want
		dirs = append(dirs, c.input)
	}
	overlay, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(t.TempDir(), "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"build", "-overlay=" + overlayFile}, dirs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = module
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the golden outputs: %v\n%s", err, out)
	}
}

// TestGoldenRuntime runs, for each case with a runtime/ folder, the test
// files there inside the case's input package, with the expected
// events_gen.go, through an overlay (nothing is written into the tree), all
// in one go test: the generated code works on a real store (and, for kinds,
// on real DuckDB).
func TestGoldenRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	cases, module := goldenCases(t)
	replace := map[string]string{}
	var dirs []string
	for _, c := range cases {
		runtimeDir := filepath.Join(filepath.Dir(c.input), "runtime")
		tests, err := filepath.Glob(filepath.Join(runtimeDir, "*_test.go"))
		if err != nil || len(tests) == 0 {
			continue
		}
		replace[filepath.Join(c.input, defaultOutput)] = filepath.Join(c.expected, defaultOutput)
		for _, f := range tests {
			replace[filepath.Join(c.input, filepath.Base(f))] = f
		}
		dirs = append(dirs, c.input)
	}
	if len(dirs) < 2 {
		t.Fatalf("runtime tests in %d cases, want kinds and anyjson", len(dirs))
	}
	overlay, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(t.TempDir(), "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"test", "-count=1", "-overlay=" + overlayFile}, dirs...)...)
	cmd.Dir = module
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test of the runtime cases: %v\n%s", err, out)
	}
}

// TestGoldenMisuse builds each case that has a misuse/ folder with its
// expected output and misuse/misuse.go added to the input package (through
// an overlay): the build must fail with every line of misuse/errors in its
// output. It proves what the generated types refuse, e.g. that
// UserWhere.Active.Eq("yes") does not compile.
func TestGoldenMisuse(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	cases, module := goldenCases(t)
	for _, c := range cases {
		misuse := filepath.Join(filepath.Dir(c.input), "misuse")
		if _, err := os.Stat(misuse); err != nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(misuse, "errors"))
			if err != nil {
				t.Fatal(err)
			}
			overlay, err := json.Marshal(map[string]any{"Replace": map[string]string{
				filepath.Join(c.input, defaultOutput): filepath.Join(c.expected, defaultOutput),
				filepath.Join(c.input, "misuse.go"):   filepath.Join(misuse, "misuse.go"),
			}})
			if err != nil {
				t.Fatal(err)
			}
			overlayFile := filepath.Join(t.TempDir(), "overlay.json")
			if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("go", "build", "-gcflags=-e", "-overlay="+overlayFile, c.input)
			cmd.Dir = module
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("misuse.go compiled:\n%s", out)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
				if !strings.Contains(string(out), line) {
					t.Errorf("go build output lacks %q:\n%s", line, out)
				}
			}
		})
	}
}

// TestExamplesFresh: the committed generated files of examples/ are what
// the generator makes of them now (CI also runs go generate and diffs).
func TestExamplesFresh(t *testing.T) {
	_, module := goldenCases(t)
	files, err := Generate(context.Background(), Config{Dir: module, Patterns: []string{"./examples/..."}})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("generated %d files for examples/..., want one per example", len(files))
	}
	for _, f := range files {
		committed, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Content, committed) {
			t.Errorf("%s is stale: run go generate ./examples/...\n%s", f.Path, lineDiff(string(committed), string(f.Content)))
		}
	}
}
