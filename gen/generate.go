package gen

import (
	"cmp"
	"context"
	"fmt"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// File is a generated file.
type File struct {
	// Path is the file's absolute path.
	Path string
	// Content is the whole file.
	Content []byte
}

// Generate loads the packages cfg names and renders the generated file of
// each; it writes nothing (cmd/eventsgen writes the files). Problems in the
// input come back as Errors (all of them, sorted by position); other
// failures (the go command, options) as plain errors.
func Generate(ctx context.Context, cfg Config) ([]File, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	pkgs, err := load(ctx, &cfg, fset)
	if err != nil {
		return nil, err
	}
	if len(pkgs) == 0 {
		return nil, Errors{{Msg: fmt.Sprintf("no Go packages match %s", strings.Join(cfg.patterns(), " "))}}
	}
	var diags []Diagnostic
	var models []*pkgModel
	for _, pkg := range pkgs {
		m, ds := packageModel(pkg, fset, &cfg)
		diags = append(diags, ds...)
		if m != nil {
			models = append(models, m)
		}
	}
	if len(models) == 0 && len(diags) == 0 {
		diags = append(diags, Diagnostic{Msg: fmt.Sprintf("no type in the packages matching %s is annotated with //events:collection", strings.Join(cfg.patterns(), " "))})
	}
	if len(diags) > 0 {
		return nil, newErrors(diags, cfg.Dir)
	}
	files := make([]File, 0, len(models))
	for _, m := range models {
		content, err := render(m)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: m.output, Content: content})
	}
	slices.SortFunc(files, func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	return files, nil
}

// packageModel builds the model of one loaded package: nil without
// annotated types (a problem unless cfg has a wildcard pattern).
func packageModel(pkg *packages.Package, fset *token.FileSet, cfg *Config) (*pkgModel, []Diagnostic) {
	var diags []Diagnostic
	for _, e := range pkg.Errors {
		// Type errors only matter inside annotated types (buildPackage
		// reports those): code that uses the names about to be generated
		// does not type-check before they are.
		if e.Kind == packages.TypeError {
			continue
		}
		diags = append(diags, packageDiagnostic(e))
	}
	if len(diags) > 0 {
		return nil, diags
	}
	output, d := outputPath(pkg.GoFiles, pkg.Dir, cfg.output())
	if d != nil {
		return nil, []Diagnostic{*d}
	}
	m, diags := buildPackage(pkg, fset, output)
	if m == nil && len(diags) == 0 && !cfg.wildcard() {
		pos := goGenerateLine(pkg.Syntax)
		d := Diagnostic{Pos: fset.Position(pos), Msg: fmt.Sprintf("no type in package %s is annotated with //events:collection", pkg.Name)}
		if !pos.IsValid() && len(pkg.GoFiles) > 0 {
			d.Pos = token.Position{Filename: pkg.GoFiles[0], Line: 1, Column: 1}
		}
		diags = append(diags, d)
	}
	return m, diags
}

// outputPath is where a package's generated file goes. An existing file of
// that name that the generator did not write is a problem: it is never
// overwritten.
func outputPath(goFiles []string, dir, name string) (string, *Diagnostic) {
	if dir == "" && len(goFiles) > 0 {
		dir = filepath.Dir(goFiles[0])
	}
	path := filepath.Join(dir, name)
	src, err := os.ReadFile(path)
	if err == nil && !isGenerated(src) {
		return "", &Diagnostic{
			Pos: token.Position{Filename: path, Line: 1, Column: 1},
			Msg: fmt.Sprintf("%s was not written by eventsgen: not overwriting it (choose another name with -o)", name),
		}
	}
	return path, nil
}
