package gen

import (
	"go/ast"
	"go/token"
	"strings"
)

// directivePrefix starts every directive of this generator.
const directivePrefix = "//events:"

// annotation is an //events:collection directive on a type declaration.
type annotation struct {
	spec *ast.TypeSpec
	pos  token.Pos // of the directive
	name string    // the explicit collection name; "" for the default
}

// annotations finds the //events:collection directives of a file. Each must
// be in the doc comment of a type declaration; misplaced, malformed and
// unknown //events: directives are reported.
func (b *builder) annotations(file *ast.File) []annotation {
	used := map[*ast.Comment]bool{}
	var out []annotation
	for _, decl := range file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil && !gd.Lparen.IsValid() {
				doc = gd.Doc
			}
			if doc == nil {
				continue
			}
			var found *annotation
			for _, c := range doc.List {
				if !strings.HasPrefix(c.Text, directivePrefix) {
					continue
				}
				used[c] = true
				a, ok := b.parseDirective(c)
				if !ok {
					continue
				}
				if found != nil {
					b.errorf(c.Slash, "%s has two //events:collection directives", ts.Name.Name)
					continue
				}
				a.spec = ts
				found = &a
			}
			if found != nil {
				out = append(out, *found)
			}
		}
	}
	for _, cg := range file.Comments {
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, directivePrefix) && !used[c] {
				if _, ok := b.parseDirective(c); ok {
					b.errorf(c.Slash, "//events:collection must be in the doc comment of a struct type declaration")
				}
			}
			if spaced(c.Text) {
				b.errorf(c.Slash, "%q is not a directive: write //events:collection, without a space after // (as for //go:generate)", c.Text)
			}
		}
	}
	return out
}

// parseDirective parses "//events:collection [name]".
func (b *builder) parseDirective(c *ast.Comment) (annotation, bool) {
	words := strings.Fields(strings.TrimPrefix(c.Text, "//"))
	switch {
	case words[0] != "events:collection":
		b.errorf(c.Slash, "unknown directive //%s (want //events:collection [name])", words[0])
		return annotation{}, false
	case len(words) > 2:
		b.errorf(c.Slash, "//events:collection takes at most one name, got %d words", len(words)-1)
		return annotation{}, false
	}
	a := annotation{pos: c.Slash}
	if len(words) == 2 {
		a.name = words[1]
	}
	return a, true
}

// spaced reports whether a comment looks like an //events:collection
// directive written with spaces after the slashes, which Go's directive
// syntax (and so this generator) does not take for one.
func spaced(text string) bool {
	rest, ok := strings.CutPrefix(text, "//")
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return false
	}
	words := strings.Fields(rest)
	return len(words) > 0 && words[0] == "events:collection"
}
