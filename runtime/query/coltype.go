package query

import (
	"fmt"
	"strconv"
	"strings"
)

// scalarTypes are the DuckDB type names a Column.Type may use, each mapped
// to its canonical spelling. A closed list, rather than whatever DuckDB's
// parser takes, so that a type checked here is one DuckDB accepts.
var scalarTypes = map[string]string{
	"BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
	"TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INTEGER": "INTEGER", "INT": "INTEGER",
	"BIGINT": "BIGINT", "HUGEINT": "HUGEINT",
	"UTINYINT": "UTINYINT", "USMALLINT": "USMALLINT", "UINTEGER": "UINTEGER",
	"UBIGINT": "UBIGINT", "UHUGEINT": "UHUGEINT",
	"FLOAT": "FLOAT", "REAL": "FLOAT", "DOUBLE": "DOUBLE",
	"VARCHAR": "VARCHAR", "TEXT": "VARCHAR", "STRING": "VARCHAR",
	"JSON": "JSON", "UUID": "UUID", "BLOB": "BLOB",
	"DATE": "DATE", "TIME": "TIME", "INTERVAL": "INTERVAL",
	"TIMESTAMP": "TIMESTAMP", "TIMESTAMPTZ": "TIMESTAMPTZ",
}

// canonicalType parses a Column.Type and returns it in canonical form:
//
//	type   = scalar | DECIMAL(p, s) | STRUCT(member, ...) | MAP(type, type) | type[]
//	member = name type        (name an identifier or a "quoted" name)
//
// Names are case-insensitive; struct member names are written quoted.
func canonicalType(t string) (string, error) {
	p := &typeParser{s: t}
	out, err := p.parse(0)
	if err != nil {
		return "", err
	}
	if p.skipSpace(); p.i != len(p.s) {
		return "", fmt.Errorf("unexpected %q at offset %d", p.s[p.i:], p.i)
	}
	return out, nil
}

// maxTypeDepth bounds nesting, so a hostile type cannot exhaust the stack.
const maxTypeDepth = 16

// typeParser is a recursive-descent parser over s.
type typeParser struct {
	s string
	i int
}

func (p *typeParser) skipSpace() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// word reads an identifier: letters, digits and '_', not starting with a digit.
func (p *typeParser) word() string {
	p.skipSpace()
	j := p.i
	for j < len(p.s) {
		c := p.s[j]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || j > p.i && c >= '0' && c <= '9' {
			j++
			continue
		}
		break
	}
	w := p.s[p.i:j]
	p.i = j
	return w
}

// expect consumes c or fails.
func (p *typeParser) expect(c byte) error {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != c {
		return fmt.Errorf("expected %q at offset %d", c, p.i)
	}
	p.i++
	return nil
}

// peek reports whether the next non-space byte is c.
func (p *typeParser) peek(c byte) bool {
	p.skipSpace()
	return p.i < len(p.s) && p.s[p.i] == c
}

func (p *typeParser) parse(depth int) (string, error) {
	if depth > maxTypeDepth {
		return "", fmt.Errorf("nested deeper than %d", maxTypeDepth)
	}
	name := strings.ToUpper(p.word())
	var out string
	switch name {
	case "":
		return "", fmt.Errorf("expected a type name at offset %d", p.i)
	case "DECIMAL", "NUMERIC":
		if err := p.expect('('); err != nil {
			return "", err
		}
		width, err := p.number()
		if err != nil {
			return "", err
		}
		scale := 0
		if p.peek(',') {
			p.i++
			if scale, err = p.number(); err != nil {
				return "", err
			}
		}
		if err := p.expect(')'); err != nil {
			return "", err
		}
		if width < 1 || width > 38 || scale > width {
			return "", fmt.Errorf("DECIMAL(%d, %d): width must be 1-38 and scale at most width", width, scale)
		}
		out = fmt.Sprintf("DECIMAL(%d, %d)", width, scale)
	case "STRUCT":
		members, err := p.structMembers(depth)
		if err != nil {
			return "", err
		}
		out = "STRUCT(" + members + ")"
	case "MAP":
		if err := p.expect('('); err != nil {
			return "", err
		}
		k, err := p.parse(depth + 1)
		if err != nil {
			return "", err
		}
		if err := p.expect(','); err != nil {
			return "", err
		}
		v, err := p.parse(depth + 1)
		if err != nil {
			return "", err
		}
		if err := p.expect(')'); err != nil {
			return "", err
		}
		out = "MAP(" + k + ", " + v + ")"
	default:
		canon, ok := scalarTypes[name]
		if !ok {
			return "", fmt.Errorf("unknown type %q", name)
		}
		out = canon
	}
	for p.peek('[') {
		p.i++
		if err := p.expect(']'); err != nil {
			return "", err
		}
		if depth++; depth > maxTypeDepth {
			return "", fmt.Errorf("nested deeper than %d", maxTypeDepth)
		}
		out += "[]"
	}
	return out, nil
}

// structMembers parses "(name type, ...)" and returns the inside, names quoted.
func (p *typeParser) structMembers(depth int) (string, error) {
	if err := p.expect('('); err != nil {
		return "", err
	}
	seen := map[string]bool{}
	var parts []string
	for {
		name, err := p.memberName()
		if err != nil {
			return "", err
		}
		key := strings.ToLower(name)
		if seen[key] {
			return "", fmt.Errorf("struct member %q is listed twice (names are compared ignoring case)", name)
		}
		seen[key] = true
		typ, err := p.parse(depth + 1)
		if err != nil {
			return "", err
		}
		parts = append(parts, identifier(name)+" "+typ)
		if p.peek(',') {
			p.i++
			continue
		}
		if err := p.expect(')'); err != nil {
			return "", err
		}
		return strings.Join(parts, ", "), nil
	}
}

// memberName reads an identifier or a "quoted" name ("" for a quote).
func (p *typeParser) memberName() (string, error) {
	if !p.peek('"') {
		if w := p.word(); w != "" {
			return w, nil
		}
		return "", fmt.Errorf("expected a struct member name at offset %d", p.i)
	}
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		if c != '"' {
			b.WriteByte(c)
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '"' {
			b.WriteByte('"')
			p.i++
			continue
		}
		name := b.String()
		if name == "" {
			return "", fmt.Errorf("empty struct member name")
		}
		if reason := checkValue(name); reason != "" {
			return "", fmt.Errorf("struct member name %q: %s", name, reason)
		}
		return name, nil
	}
	return "", fmt.Errorf("unterminated quoted name")
}

// number reads a non-negative decimal integer of at most 3 digits.
func (p *typeParser) number() (int, error) {
	p.skipSpace()
	j := p.i
	for j < len(p.s) && j-p.i < 3 && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(p.s[p.i:j])
	if err != nil {
		return 0, fmt.Errorf("expected a number at offset %d", p.i)
	}
	p.i = j
	return n, nil
}
