package query

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxValueLen is the longest value, in characters (Unicode code points), of
// any string option.
const maxValueLen = 1000

// checkValue says what is wrong with a string option's value, or "" when it
// can be written as a literal. Empty values are checked by the caller, since
// for most options empty means "not set".
func checkValue(v string) string {
	if !utf8.ValidString(v) {
		return "not valid UTF-8"
	}
	if n := utf8.RuneCountInString(v); n > maxValueLen {
		return "longer than 1000 characters"
	}
	for _, r := range v {
		if r == 0 {
			return "contains a NUL character"
		}
		if unicode.IsControl(r) {
			return fmt.Sprintf("contains the control character %U", r)
		}
	}
	return ""
}

// literal quotes v as a SQL string literal, doubling its single quotes.
// DuckDB string literals have no other escapes ('\' is an ordinary
// character), so the value reaches DuckDB byte for byte. Callers check v
// with checkValue first.
func literal(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// identifier quotes name as a SQL identifier, doubling its double quotes.
func identifier(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// optional checks an optional string option: empty is fine (not set).
func optional(option, v string) error {
	if v == "" {
		return nil
	}
	if reason := checkValue(v); reason != "" {
		return invalid(option, "%s", reason)
	}
	return nil
}

// required checks a required string option.
func required(option, v string) error {
	if v == "" {
		return invalid(option, "is required")
	}
	return optional(option, v)
}
