package gen

import (
	"cmp"
	"fmt"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
)

// Diagnostic is one problem found in the input, at a position in a source file.
type Diagnostic struct {
	// Pos is where the problem is. Filename is relative to Config.Dir when
	// the file lies inside it, absolute otherwise, and empty when the
	// problem has no position.
	Pos token.Position
	// Msg says what is wrong.
	Msg string
}

// format formats the diagnostic as file:line:col: message ("eventsgen:
// message" without a position), as compilers and vet do.
func (d Diagnostic) format() string {
	if d.Pos.Filename == "" {
		return "eventsgen: " + d.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.Pos.Filename, max(d.Pos.Line, 1), max(d.Pos.Column, 1), d.Msg)
}

// relativeTo returns name relative to dir when that does not climb out of
// dir, name unchanged otherwise.
func relativeTo(dir, name string) string {
	if dir == "" || !filepath.IsAbs(name) {
		return name
	}
	rel, err := filepath.Rel(dir, name)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return name
	}
	return rel
}

// Errors is every problem found in a run of the generator, sorted by
// position. A run that finds any writes nothing.
type Errors []Diagnostic

// Error lists the problems, one per line, as file:line:col: message.
func (e Errors) Error() string {
	var b strings.Builder
	for i, d := range e {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.format())
	}
	return b.String()
}

// newErrors sorts ds, drops exact duplicates and makes file names relative
// to dir.
func newErrors(ds []Diagnostic, dir string) Errors {
	ds = sortDiagnostics(ds)
	for i := range ds {
		ds[i].Pos.Filename = relativeTo(dir, ds[i].Pos.Filename)
	}
	return Errors(ds)
}

// sortDiagnostics sorts by file, line, column and message, and drops exact
// duplicates.
func sortDiagnostics(ds []Diagnostic) []Diagnostic {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.Filename, b.Pos.Filename),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	return slices.CompactFunc(ds, func(a, b Diagnostic) bool { return a == b })
}

// reporter collects diagnostics against a file set.
type reporter struct {
	fset  *token.FileSet
	diags []Diagnostic
}

// errorf records a problem at pos.
func (r *reporter) errorf(pos token.Pos, format string, args ...any) {
	r.diags = append(r.diags, Diagnostic{Pos: r.fset.Position(pos), Msg: fmt.Sprintf(format, args...)})
}
