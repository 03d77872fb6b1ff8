package gen

import (
	"bytes"
	"slices"
	"strings"
)

// groupImports puts the standard library's imports of a gofmt'd file in a
// group of their own before the others, as goimports does (jennifer sorts
// all of them together). The result is still gofmt'd.
func groupImports(src []byte) []byte {
	start := bytes.Index(src, []byte("\nimport (\n"))
	if start < 0 {
		return src
	}
	start += len("\nimport (\n")
	end := bytes.Index(src[start:], []byte("\n)\n"))
	if end < 0 {
		return src
	}
	end += start
	var std, other []string
	for line := range strings.SplitSeq(string(src[start:end]), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if isStdImport(line) {
			std = append(std, line)
		} else {
			other = append(other, line)
		}
	}
	block := strings.Join(std, "\n")
	if len(std) > 0 && len(other) > 0 {
		block += "\n\n"
	}
	block += strings.Join(other, "\n")
	return slices.Concat(src[:start], []byte(block), src[end:])
}

// isStdImport reports whether an import line names a standard library
// package: no dot in the path's first element.
func isStdImport(line string) bool {
	q := strings.IndexByte(line, '"')
	if q < 0 {
		return false
	}
	path := strings.Trim(line[q:], `"`)
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
