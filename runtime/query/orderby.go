package query

import (
	"slices"
	"strings"
)

// orderColumns maps each name OrderBy accepts to the expression it sorts by.
// The names are the upstream ones (ts, type, id, do_id, collection, colo)
// plus the other event fields a query can sort on; every expression reads a
// pinned column, so it exists whatever the files hold.
var orderColumns = map[string]string{
	"ts":         "ts",
	"type":       "type",
	"id":         "id",
	"do_id":      `"do".id`,
	"do_name":    `"do".name`,
	"do_class":   `"do".class`,
	"colo":       `"do".colo`,
	"do_colo":    `"do".colo`,
	"do_worker":  `"do".worker`,
	"collection": "collection",
	"docId":      "docId",
	"bookmark":   "bookmark",
	"method":     "method",
	"namespace":  "namespace",
	"durationMs": `"durationMs"`,
	"success":    "success",
	"error":      "error",
	"reason":     "reason",
	"code":       "code",
	"event":      "event",
	"userId":     `"userId"`,
	"sessionId":  `"sessionId"`,

	"anonymousId":     `"anonymousId"`,
	"connectionCount": `"connectionCount"`,
}

// OrderColumns returns the column names OrderBy accepts, sorted.
func OrderColumns() []string {
	names := make([]string, 0, len(orderColumns))
	for n := range orderColumns {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// defaultOrder is Build's order when OrderBy is empty (upstream: ts DESC).
const defaultOrder = "ts DESC"

// tieBreak follows every order so that equal keys, and so Limit, give the
// same rows on every run.
const tieBreak = `ts, "do".id, bookmark, id`

// orderClause checks an OrderBy value ("<column>" or "<column> ASC|DESC",
// the direction in any case) and returns the ORDER BY expression list.
func orderClause(orderBy string) (string, error) {
	if orderBy == "" {
		orderBy = defaultOrder
	}
	if reason := checkValue(orderBy); reason != "" {
		return "", invalid("OrderBy", "%s", reason)
	}
	col, dir, hasDir := strings.Cut(orderBy, " ")
	expr, ok := orderColumns[col]
	if !ok {
		return "", invalid("OrderBy", "column %q is not one of %s", col, strings.Join(OrderColumns(), ", "))
	}
	switch {
	case !hasDir:
		dir = "ASC"
	case strings.EqualFold(dir, "ASC"):
		dir = "ASC"
	case strings.EqualFold(dir, "DESC"):
		dir = "DESC"
	default:
		return "", invalid("OrderBy", "%q: expected \"<column>\" or \"<column> ASC|DESC\"", orderBy)
	}
	return expr + " " + dir + " NULLS LAST, " + tieBreak, nil
}
