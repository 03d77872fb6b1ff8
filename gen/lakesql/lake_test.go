package lakesql

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events/runtime/cdc"
)

func TestLakeBase(t *testing.T) {
	for _, c := range []struct {
		lake Lake
		want string // "" means an error
	}{
		{Lake{Bucket: "my-lake"}, "r2://my-lake"},
		{Lake{Root: "/data/lake/"}, "/data/lake"},
		{Lake{Root: "./lake"}, "./lake"},
		{Lake{Root: "lake"}, "lake"},
		{Lake{Root: "s3://bucket.one/some/prefix/"}, "s3://bucket.one/some/prefix"},
		{Lake{Root: "r2://b12"}, "r2://b12"},
		{Lake{}, ""},
		{Lake{Bucket: "my-lake", Root: "/x"}, ""},
		{Lake{Bucket: "My_Lake"}, ""},
		{Lake{Bucket: "ab"}, ""},
		{Lake{Bucket: "a..b"}, ""},
		{Lake{Bucket: "192.168.0.1"}, ""},
		{Lake{Bucket: "-ab"}, ""},
		{Lake{Root: "http://example.com/x"}, ""},
		{Lake{Root: "md:db"}, ""},
		{Lake{Root: "/data/*"}, ""},
		{Lake{Root: `C:\lake`}, ""},
		{Lake{Root: "s3://bucket/a//b"}, ""},
		{Lake{Root: "s3://bucket/../b"}, ""},
		{Lake{Root: "/x\ny"}, ""},
		{Lake{Root: "/" + strings.Repeat("a", 1000)}, ""},
		{Lake{Root: "/x'y"}, "/x'y"},
	} {
		got, err := c.lake.base()
		if c.want == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%+v: %q, %v; want an error", c.lake, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v; want %q", c.lake, got, err, c.want)
		}
	}
	if got, _ := (Lake{Root: "/"}).base(); got != "" {
		t.Errorf("root / = %q", got)
	}
}

func TestLiteralAndTimestamp(t *testing.T) {
	if got := literal(`it's "x" \ --`); got != `'it''s "x" \ --'` {
		t.Errorf("literal = %s", got)
	}
	tokyo := time.FixedZone("JST", 9*3600)
	got, err := timestamp("at", time.Date(2024, 1, 1, 9, 0, 0, 123456789, tokyo))
	if err != nil || got != "TIMESTAMP '2024-01-01 00:00:00.123456'" {
		t.Errorf("timestamp = %s, %v", got, err)
	}
	if _, err := timestamp("at", time.Time{}); err != nil {
		t.Errorf("zero time: %v", err)
	}
	if _, err := timestamp("at", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrInvalid) {
		t.Errorf("year 10000: %v", err)
	}
}

func TestBuilders(t *testing.T) {
	lake := Lake{Root: "/lake", DOID: "store-1"}
	sql, err := History(lake, "users", `1 AS "one"`, "u'1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`read_json('/lake/events/*/*/*/*/*.jsonl'`,
		`"collection" = 'users'`,
		`json_extract_string("do", '$.id') = 'store-1'`,
		`"docId" = 'u''1'`,
		`, 1 AS "one" FROM`,
		`ORDER BY "_ts", "_bookmark"`,
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("History SQL lacks %s:\n%s", want, sql)
		}
	}
	if sql, err := StateAtBookmark(lake, "users", "", cdc.BookmarkFromSeq(42)); err != nil ||
		!strings.Contains(sql, `"bookmark" <= '00000000000000000042'`) || strings.Contains(sql, ", FROM") {
		t.Errorf("StateAtBookmark: %v\n%s", err, sql)
	}
	for name, err := range map[string]error{
		"collection": func() error { _, err := History(lake, "bad name", "", "u1"); return err }(),
		"doc id":     func() error { _, err := History(lake, "users", "", ""); return err }(),
		"DOID":       func() error { _, err := StateAt(Lake{Root: "/l", DOID: "a\x00"}, "users", "", time.Now()); return err }(),
		"zero bm":    func() error { _, err := StateAtBookmark(lake, "users", "", ""); return err }(),
		"range":      func() error { _, err := Changes(lake, "users", "", time.Now(), time.Now().Add(-time.Hour)); return err }(),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
