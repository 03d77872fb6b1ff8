package query

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/changelog"
)

// TestCollectionLake: Lake's fields are checked as Source's options and
// named as Lake's; a good one is where the glob starts.
func TestCollectionLake(t *testing.T) {
	for _, c := range []struct {
		lake   Lake
		option string // the option an error names; "" for none
		base   string // how the glob starts otherwise
	}{
		{Lake{Bucket: "my-lake"}, "", "'r2://my-lake/[e_][ve][em][np]t[sy]/"},
		{Lake{Root: "/data/lake/"}, "", "'/data/lake/[e_][ve][em][np]t[sy]/"},
		{Lake{Root: "./lake"}, "", "'./lake/[e_][ve][em][np]t[sy]/"},
		{Lake{Root: "s3://bucket.one/some/prefix/"}, "", "'s3://bucket.one/some/prefix/[e_][ve][em][np]t[sy]/"},
		{Lake{Root: "/x'y"}, "", "'/x''y/[e_][ve][em][np]t[sy]/"},
		{Lake{Root: "/"}, "", "'/[e_][ve][em][np]t[sy]/"},
		{Lake{}, "Lake.Bucket", ""},
		{Lake{Bucket: "my-lake", Root: "/x"}, "Lake.Root", ""},
		{Lake{Bucket: "My_Lake"}, "Lake.Bucket", ""},
		{Lake{Bucket: "a..b"}, "Lake.Bucket", ""},
		{Lake{Bucket: "192.168.0.1"}, "Lake.Bucket", ""},
		{Lake{Root: "http://example.com/x"}, "Lake.Root", ""},
		{Lake{Root: "md:db"}, "Lake.Root", ""},
		{Lake{Root: "/data/*"}, "Lake.Root", ""},
		{Lake{Root: `C:\lake`}, "Lake.Root", ""},
		{Lake{Root: "s3://bucket/a//b"}, "Lake.Root", ""},
		{Lake{Root: "/x\ny"}, "Lake.Root", ""},
		{Lake{Root: "/" + strings.Repeat("a", 1000)}, "Lake.Root", ""},
		{Lake{Root: "/l", DOID: "a\x00"}, "Lake.DOID", ""},
	} {
		got, err := historySQL(c.lake, "users", "", "u1")
		switch {
		case c.option != "" && !isOption(err, c.option):
			t.Errorf("%+v: %v; want an error naming %s", c.lake, err, c.option)
		case c.option == "" && (err != nil || !strings.Contains(got, "read_json("+c.base)):
			t.Errorf("%+v: %v; want a glob starting %s in\n%s", c.lake, err, c.base, got)
		}
	}
}

// TestUTCTimestamp: UTC whatever the zone, rounded the safe way, years a
// TIMESTAMP holds.
func TestUTCTimestamp(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	t0 := time.Date(2024, 1, 1, 9, 0, 0, 123456789, tokyo)
	if got, err := utcTimestamp("at", t0, false); err != nil || got != "TIMESTAMP '2024-01-01 00:00:00.123456'" {
		t.Errorf("down: %s, %v", got, err)
	}
	if got, err := utcTimestamp("at", t0, true); err != nil || got != "TIMESTAMP '2024-01-01 00:00:00.123457'" {
		t.Errorf("up: %s, %v", got, err)
	}
	if got, err := utcTimestamp("at", t0.Truncate(time.Microsecond), true); err != nil || got != "TIMESTAMP '2024-01-01 00:00:00.123456'" {
		t.Errorf("up, exact: %s, %v", got, err)
	}
	if _, err := utcTimestamp("at", time.Time{}, false); err != nil {
		t.Errorf("zero time: %v", err)
	}
	if _, err := utcTimestamp("at", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false); !isOption(err, "at") {
		t.Errorf("year 10000: %v", err)
	}
}

// TestCollectionSQL: the values of each builder become literals, files are
// pruned by store and hour, and bad parameters are errors naming them.
func TestCollectionSQL(t *testing.T) {
	l := Lake{Root: "/lake", DOID: "store-1"}
	q, err := historySQL(l, "users", `1 AS "one"`, "u'1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`read_json('/lake/[e_][ve][em][np]t[sy]/*/*/*/*/*.jsonl'`,
		`starts_with(parse_filename(filename), 'store-1_')`,
		`"do".id = 'store-1'`,
		`collection = 'users'`,
		`"docId" = 'u''1'`,
		`, 1 AS "one" FROM`,
		`ORDER BY "_ts", "_bookmark"`,
	} {
		if !strings.Contains(q, want) {
			t.Errorf("History SQL lacks %s:\n%s", want, q)
		}
	}
	if q, err := stateAtBookmarkSQL(l, "users", "", changelog.BookmarkFromSeq(42)); err != nil ||
		!strings.Contains(q, `bookmark <= '00000000000000000042'`) || strings.Contains(q, ", FROM") {
		t.Errorf("StateAtBookmark: %v\n%s", err, q)
	}
	// StateAt reads the hours up to at; a range within a day reads that day.
	at := time.Date(2025, 1, 1, 0, 30, 0, 0, time.UTC)
	if q, err := stateAtSQL(l, "users", "", at); err != nil ||
		!strings.Contains(q, `BETWEEN '1970/01/01/00' AND '2025/01/01/00'`) || !strings.Contains(q, `ts <= TIMESTAMP '2025-01-01 00:30:00.000000'`) {
		t.Errorf("StateAt: %v\n%s", err, q)
	}
	if q, err := changesSQL(l, "users", "", at, at.Add(2*time.Hour)); err != nil ||
		!strings.Contains(q, `read_json('/lake/[e_][ve][em][np]t[sy]/[20]0[20][50]/0[10]/0[10]/*/*.jsonl'`) || !strings.Contains(q, `ts < TIMESTAMP '2025-01-01 02:30:00.000000'`) {
		t.Errorf("Changes: %v\n%s", err, q)
	}

	now := time.Now()
	for _, c := range []struct {
		option string
		err    error // also matched, when set
		build  func() (string, error)
	}{
		{"collection", changelog.ErrInvalidCollection, func() (string, error) { return historySQL(l, "bad name", "", "u1") }},
		{"docID", changelog.ErrInvalidID, func() (string, error) { return historySQL(l, "users", "", "") }},
		{"docID", changelog.ErrInvalidID, func() (string, error) { return historySQL(l, "users", "", "a\nb") }},
		{"at", nil, func() (string, error) {
			return stateAtSQL(l, "users", "", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
		}},
		{"Lake.DOID", nil, func() (string, error) {
			return stateAtBookmarkSQL(Lake{Root: "/l"}, "users", "", changelog.BookmarkFromSeq(1))
		}},
		{"bookmark", nil, func() (string, error) { return stateAtBookmarkSQL(l, "users", "", "") }},
		{"bookmark", changelog.ErrInvalidBookmark, func() (string, error) { return stateAtBookmarkSQL(l, "users", "", "12") }},
		{"end", nil, func() (string, error) { return changesSQL(l, "users", "", now, now.Add(-time.Hour)) }},
		{"start", nil, func() (string, error) {
			return changesSQL(l, "users", "", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), now)
		}},
	} {
		q, err := c.build()
		if !isOption(err, c.option) || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("%s: %v (%q); want an error naming it", c.option, err, q)
		}
	}
}
