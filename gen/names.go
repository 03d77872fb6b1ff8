package gen

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxCollectionLen is the longest collection name (cdc.MaxCollectionLen).
const maxCollectionLen = 128

// validateCollectionName applies the rules of cdc.ValidateCollection (1-128
// ASCII letters, digits, '_' and '-', starting with a letter or '_')
// without importing the runtime, whose SQLite driver would make the
// generator slow to build under go run.
func validateCollectionName(name string) error {
	if name == "" || len(name) > maxCollectionLen {
		return fmt.Errorf("invalid collection name %q: it must be 1-%d characters", name, maxCollectionLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if i == 0 && !letter {
			return fmt.Errorf("invalid collection name %q: it must start with a letter or '_'", name)
		}
		if !letter && (c < '0' || c > '9') && c != '-' {
			return fmt.Errorf("invalid collection name %q: it may hold only ASCII letters, digits, '_' and '-'", name)
		}
	}
	return nil
}

// defaultCollectionName is the snake_case plural of a type name:
// AuditLog → audit_logs, Category → categories, Status → statuses.
func defaultCollectionName(typeName string) string {
	words := splitWords(typeName)
	if len(words) == 0 {
		return ""
	}
	words[len(words)-1] = plural(words[len(words)-1])
	return strings.Join(words, "_")
}

// splitWords splits a Go identifier into lower-case words at case changes
// and underscores: HTTPRequest → http, request; UserID → user, id.
func splitWords(name string) []string {
	runes := []rune(name)
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range runes {
		if r == '_' {
			flush()
			continue
		}
		if unicode.IsUpper(r) && i > 0 {
			prev := runes[i-1]
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// irregular plurals of words likely to name a type.
var irregular = map[string]string{
	"person": "people",
	"child":  "children",
	"man":    "men",
	"woman":  "women",
	"mouse":  "mice",
}

// plural returns the English plural of a lower-case word, by the common
// rules: -s/-x/-z/-ch/-sh take -es, consonant+y becomes -ies, anything else
// takes -s.
func plural(w string) string {
	if p, ok := irregular[w]; ok {
		return p
	}
	switch {
	case strings.HasSuffix(w, "s"), strings.HasSuffix(w, "x"), strings.HasSuffix(w, "z"),
		strings.HasSuffix(w, "ch"), strings.HasSuffix(w, "sh"):
		return w + "es"
	case strings.HasSuffix(w, "y") && len(w) > 1 && !strings.ContainsRune("aeiou", rune(w[len(w)-2])):
		return w[:len(w)-1] + "ies"
	}
	return w + "s"
}

// exported reports whether a Go identifier is exported.
func exported(name string) bool {
	r, _ := utf8.DecodeRuneInString(name)
	return unicode.IsUpper(r)
}

// upperFirst returns name with its first letter upper-cased.
func upperFirst(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToUpper(r)) + name[n:]
}

// lowerFirst returns name with its leading word lower-cased, as Go code
// spells an unexported name: User → user, HTTPRequest → httpRequest,
// URL → url.
func lowerFirst(name string) string {
	runes := []rune(name)
	n := 0
	for n < len(runes) && unicode.IsUpper(runes[n]) {
		n++
	}
	if n > 1 && n < len(runes) && unicode.IsLower(runes[n]) {
		n-- // the last capital starts the next word: HTTPRequest
	}
	for i := range max(n, 1) {
		if i < len(runes) {
			runes[i] = unicode.ToLower(runes[i])
		}
	}
	return string(runes)
}
