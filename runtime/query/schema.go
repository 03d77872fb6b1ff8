package query

import (
	"fmt"
	"strings"
)

// Column is one top-level field of the events read from the lake, with the
// DuckDB type it is read as.
type Column struct {
	// Name is the JSON member's name, matched exactly (case-sensitively).
	Name string
	// Type is a DuckDB type from a closed grammar: a scalar type name
	// (BOOLEAN, the integer types, FLOAT, DOUBLE, VARCHAR, JSON, UUID, BLOB,
	// DATE, TIME, TIMESTAMP, TIMESTAMPTZ, INTERVAL), DECIMAL(p, s),
	// STRUCT(name type, ...) with plain or "quoted" member names,
	// MAP(type, type), or any of these followed by [] for a list; names in
	// any case, e.g. `STRUCT("name" VARCHAR, age BIGINT)[]`.
	Type string
}

// fileColumn is the column read_json fills with each row's file path
// (filename=true). DuckDB skips files by a filter on the file path only when
// the column has this default name, so it is kept, and a field of that name
// cannot be read (events that have one are read without it).
const fileColumn = "filename"

// internalPrefix starts the names of the columns Source's SQL uses inside
// (the object and line of an event without id, a compacted row's JSON).
const internalPrefix = "__events_"

// doType is the type of "do"; its members are the events.Identity fields.
const doType = "STRUCT(id VARCHAR, name VARCHAR, class VARCHAR, colo VARCHAR, worker VARCHAR)"

// eventColumns is the pinned schema of the event model (package events),
// in wire order. Pinning means every query binds whatever the files hold:
// a field that no file has reads as NULL instead of being a Binder error,
// and ids that look like dates or numbers stay the strings they are.
var eventColumns = []Column{
	{"type", "VARCHAR"},
	{"ts", "TIMESTAMPTZ"},
	{"do", doType},
	{"id", "VARCHAR"},
	// rpc.call
	{"method", "VARCHAR"},
	{"namespace", "VARCHAR"},
	{"durationMs", "DOUBLE"},
	{"success", "BOOLEAN"},
	{"error", "VARCHAR"},
	// collection.insert|update|delete
	{"collection", "VARCHAR"},
	{"docId", "VARCHAR"},
	{"doc", "JSON"},
	{"prev", "JSON"},
	{"bookmark", "VARCHAR"},
	// lifecycle and WebSocket
	{"reason", "VARCHAR"},
	{"connectionCount", "BIGINT"},
	{"code", "BIGINT"},
	// client
	{"event", "VARCHAR"},
	{"properties", "JSON"},
	{"traits", "JSON"},
	{"userId", "VARCHAR"},
	{"anonymousId", "VARCHAR"},
	{"sessionId", "VARCHAR"},
}

// fixedColumns are the event columns whose type Columns may not replace:
// the builders' filters, groups, tie-breaks and the ts conversion use them.
var fixedColumns = map[string]bool{
	"ts": true, "do": true, "type": true, "id": true, "collection": true, "docId": true,
	"method": true, "bookmark": true, "durationMs": true, "success": true,
}

// EventColumns returns the schema every query reads the lake with: the
// members of the event model (type, ts, do, id, then the fields of each kind
// of event in package events) with their DuckDB types. Ids, bookmarks and
// names are VARCHAR, "do" is a STRUCT of the identity's members, "doc",
// "prev", "properties" and "traits" are JSON. "ts" is read as TIMESTAMPTZ
// and every query exposes it as a UTC TIMESTAMP.
func EventColumns() []Column {
	return append([]Column(nil), eventColumns...)
}

// mergeColumns returns the event columns with extra ones added or, for a
// name equal to an event column, that column's type replaced. It checks
// every extra column; option names the option for errors ("Columns").
func mergeColumns(option string, extra []Column) ([]Column, error) {
	cols := EventColumns()
	index := make(map[string]int, len(cols)+len(extra))
	for i, c := range cols {
		index[strings.ToLower(c.Name)] = i
	}
	seen := make(map[string]bool, len(extra))
	for i, c := range extra {
		opt := fmt.Sprintf("%s[%d]", option, i)
		if err := checkColumn(opt, c); err != nil {
			return nil, err
		}
		typ, err := canonicalType(c.Type)
		if err != nil {
			return nil, invalid(opt+".Type", "%q: %v", c.Type, err)
		}
		c.Type = typ
		key := strings.ToLower(c.Name)
		if seen[key] {
			return nil, invalid(opt+".Name", "%q is listed twice (names are compared ignoring case)", c.Name)
		}
		seen[key] = true
		j, ok := index[key]
		switch {
		case !ok:
			index[key] = len(cols)
			cols = append(cols, c)
		case cols[j].Name != c.Name:
			return nil, invalid(opt+".Name", "%q differs only in case from the event field %q", c.Name, cols[j].Name)
		case fixedColumns[c.Name]:
			return nil, invalid(opt+".Name", "the type of %q cannot be changed: the queries depend on it", c.Name)
		default:
			cols[j].Type = c.Type
		}
	}
	return cols, nil
}

// checkColumn validates an extra column.
func checkColumn(option string, c Column) error {
	if err := required(option+".Name", c.Name); err != nil {
		return err
	}
	if strings.EqualFold(c.Name, fileColumn) {
		return invalid(option+".Name", "%q is reserved for the file path", c.Name)
	}
	if strings.HasPrefix(strings.ToLower(c.Name), internalPrefix) {
		return invalid(option+".Name", "%q starts with %q, reserved for the columns Source uses inside", c.Name, internalPrefix)
	}
	if err := required(option+".Type", c.Type); err != nil {
		return err
	}
	return nil
}

// columnsArg renders columns as read_json's columns={...} argument.
func columnsArg(cols []Column) string {
	var b strings.Builder
	b.WriteString("columns={")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(literal(c.Name))
		b.WriteString(": ")
		b.WriteString(literal(c.Type))
	}
	b.WriteString("}")
	return b.String()
}
