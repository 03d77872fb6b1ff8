package lakeformat_test

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/lake"
)

func TestHourPrefix(t *testing.T) {
	cases := map[string]time.Time{
		"events/2024/01/15/14/": time.Date(2024, 1, 15, 14, 40, 0, 0, time.UTC),
		"events/2024/12/31/23/": time.Date(2024, 12, 31, 23, 59, 59, 999e6, time.UTC),
		"events/2025/01/01/00/": time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		// Other zones count in UTC: 05:10 at +05:30 is 23:40 the day before.
		"events/2023/12/31/23/": time.Date(2024, 1, 1, 5, 10, 0, 0, time.FixedZone("IST", 5*3600+1800)),
	}
	for want, ts := range cases {
		if got := lakeformat.HourPrefix(ts); got != want {
			t.Errorf("HourPrefix(%v) = %q, want %q", ts, got, want)
		}
	}
}

func TestStoreKey(t *testing.T) {
	ts := time.Date(2024, 1, 15, 14, 40, 0, 0, time.UTC)
	got := lakeformat.StoreKey(ts, "store-1", ts.UnixMilli(), 7, "0123456789abcdef")
	want := "events/2024/01/15/14/store-1_1705329600000_00000000000000000007_0123456789abcdef.jsonl"
	if got != want {
		t.Fatalf("StoreKey = %q, want %q", got, want)
	}
	if err := lake.ValidateKey(got); err != nil {
		t.Fatal(err)
	}
	// Keys of one store and hour sort by sequence number.
	var keys []string
	for _, seq := range []uint64{0, 9, 10, 99, 1 << 40, ^uint64(0)} {
		keys = append(keys, lakeformat.StoreKey(ts, "s", ts.UnixMilli(), seq, "ffffffffffffffff"))
	}
	if !slices.IsSorted(keys) {
		t.Errorf("keys not sorted by seq: %q", keys)
	}
	// The id is sanitised.
	if got := lakeformat.StoreKey(ts, "a/../b_c", 1, 2, "s"); got != "events/2024/01/15/14/a%2F..%2Fb%5Fc_1_00000000000000000002_s.jsonl" {
		t.Errorf("StoreKey with tricky id = %q", got)
	}
	// The longest id gives a name far below the 255-byte limit.
	long := strings.Repeat("日", 256)
	if name := path.Base(lakeformat.StoreKey(ts, long, ts.UnixMilli(), ^uint64(0), lakeformat.Sum(nil))); len(name) > 200 {
		t.Errorf("name of a 256-character id is %d bytes", len(name))
	}
	if got := lakeformat.WriterKey(ts, "w-1", 5, 6, "ab"); got != "events/2024/01/15/14/_w-w-1_5_00000000000000000006_ab.jsonl" {
		t.Errorf("WriterKey = %q", got)
	}
	for w, ok := range map[string]bool{"w-1": true, "ABC-09": true, "": false, "a_b": false, "a/b": false, strings.Repeat("a", 65): false} {
		if lakeformat.ValidWriterID(w) != ok {
			t.Errorf("ValidWriterID(%q) = %v", w, !ok)
		}
	}
}

func TestMayHold(t *testing.T) {
	cases := []struct {
		name, id string
		want     bool
	}{
		{"room-1_1_00000000000000000001_ab.jsonl", "room-1", true},
		{"room-1_1_00000000000000000001.jsonl", "room-1", true},
		{"room%5F1_1_00000000000000000001_ab.jsonl", "room_1", true}, // this module's name
		{"room_1_1705329600000.jsonl", "room_1", true},               // upstream's raw name
		{"_w-abc_1_00000000000000000001_ab.jsonl", "room_1", true},   // many stores
		{"_compact_01J0000000000000000000000.parquet", "x", true},
		{"room-2_1_00000000000000000001_ab.jsonl", "room-1", false},
		{"room-10_1_00000000000000000001_ab.jsonl", "room-1", false},
		{"room%5F1_1_1_ab.jsonl", "room", false},
		{"room_1_1705329600000.jsonl", "room", true}, // a raw name cannot prove absence of "room"
	}
	for _, c := range cases {
		if got := lakeformat.MayHold(c.name, c.id); got != c.want {
			t.Errorf("MayHold(%q, %q) = %v", c.name, c.id, got)
		}
	}
}

func TestParse(t *testing.T) {
	h := time.Date(2024, 1, 15, 14, 0, 0, 0, time.UTC)
	for key, want := range map[string]bool{
		"events/2024/01/15/14/a_1.jsonl":          true,
		"events/2024/01/15/14/_compact_x.parquet": true,
		"events/2024/01/15/_compact_x.parquet":    true,
		"events/2024/01/15/14/a_1.json":           false,
		"events/2024/01/15/14/.lake-tmp-1":        false,
		"events/2024/1/15/14/a_1.jsonl":           false,
		"events/2024/01/15/14/x/a_1.jsonl":        false,
		"snapshots/2024/01/15/14/a_1.jsonl":       false,
		"events/2024/13/15/14/a_1.jsonl":          false,
	} {
		hour, _, day, ok := lakeformat.Parse(key)
		if ok != want {
			t.Errorf("Parse(%q) ok = %v", key, ok)
			continue
		}
		if ok && !day && !hour.Equal(h) || ok && day && !hour.Equal(h.Truncate(24*time.Hour)) {
			t.Errorf("Parse(%q) hour = %v day %v", key, hour, day)
		}
	}
}

func TestSanitizeIDExamples(t *testing.T) {
	cases := map[string]string{
		"":               "",
		"abc-XYZ.09":     "abc-XYZ.09",
		"a_b":            "a%5Fb",
		"a/b":            "a%2Fb",
		".":              "%2E",
		"..":             "%2E.",
		".env":           "%2Eenv",
		"a.":             "a.",
		"%":              "%25",
		"%25":            "%2525",
		"a b":            "a%20b",
		"日":              "%E6%97%A5",
		"a\\b":           "a%5Cb",
		"~":              "%7E",
		"\x00":           "%00",
		"\xff":           "%FF",
		"user@x.com":     "user%40x.com",
		"550e8400-e29b":  "550e8400-e29b",
		"ChatRoom:lobby": "ChatRoom%3Alobby",
	}
	for id, want := range cases {
		if got := lakeformat.SanitizeID(id); got != want {
			t.Errorf("SanitizeID(%q) = %q, want %q", id, got, want)
		}
	}
}

// checkSegment checks the promises SanitizeID makes about one result.
func checkSegment(t *testing.T, id, seg string) {
	t.Helper()
	if len(seg) > lakeformat.MaxIDSegment {
		t.Errorf("SanitizeID(%q) is %d bytes", id, len(seg))
	}
	if id == "" {
		return
	}
	if seg == "" || seg == "." || seg == ".." || seg[0] == '.' || strings.ContainsAny(seg, "_/\\") {
		t.Errorf("SanitizeID(%q) = %q is not a safe segment", id, seg)
	}
	if err := lake.ValidateKey(seg); err != nil {
		t.Errorf("SanitizeID(%q): %v", id, err)
	}
	for _, c := range []byte(seg) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-%~", c) >= 0) {
			t.Errorf("SanitizeID(%q) = %q has %q", id, seg, c)
		}
	}
	if !strings.Contains(seg, "~") {
		if dec, err := url.PathUnescape(seg); err != nil || dec != id {
			t.Errorf("PathUnescape(SanitizeID(%q)) = %q, %v", id, dec, err)
		}
	}
}

func TestSanitizeIDInjective(t *testing.T) {
	ids := []string{
		"a", "A", "a_b", "a%5Fb", "a-b", "a.b", "a/b", "a%2Fb", "a b", "a+b", "a%20b",
		".", "..", "...", "%2E", "%2E.", ".a", "a.", "_", "%", "%25", "%%", "~", "%7E",
		"日本", "%E6%97%A5%E6%9C%AC", "日", "ü", "u\u0308", "Ü", "\x00", "\xff", "\xc3",
		"a\\b", "a\nb", "a\tb", "a:b", "a*b", "a?b", "a[b]", "ChatRoom:1", "ChatRoom_1",
	}
	// Long ids, shortened with a digest: equal up to the cut, different after.
	long := strings.Repeat("x", 200)
	ids = append(ids, long, long+"y", long+"z", strings.Repeat("日", 100), strings.Repeat("日", 100)+"本",
		strings.Repeat("a", 128), strings.Repeat("a", 129), strings.Repeat("_", 42), strings.Repeat("_", 43), strings.Repeat("%", 64))
	for i := range 300 {
		ids = append(ids, fmt.Sprintf("store-%d", i), fmt.Sprintf("store_%d", i), fmt.Sprintf("store/%d", i))
	}
	seen := map[string]string{}
	for _, id := range ids {
		seg := lakeformat.SanitizeID(id)
		checkSegment(t, id, seg)
		if other, dup := seen[seg]; dup && other != id {
			t.Errorf("SanitizeID(%q) = SanitizeID(%q) = %q", id, other, seg)
		}
		seen[seg] = id
	}
	if seg := lakeformat.SanitizeID(long); !strings.Contains(seg, "~") || len(seg) != lakeformat.MaxIDSegment {
		t.Errorf("long id: %q", seg)
	}
	if seg := lakeformat.SanitizeID(strings.Repeat("a", 128)); seg != strings.Repeat("a", 128) {
		t.Errorf("128-byte id shortened: %q", seg)
	}
}

func FuzzSanitizeID(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a_b", "%", "日本", "a/b", strings.Repeat("é", 80)} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		sa, sb := lakeformat.SanitizeID(a), lakeformat.SanitizeID(b)
		checkSegment(t, a, sa)
		if a != b && sa == sb {
			t.Errorf("SanitizeID(%q) = SanitizeID(%q) = %q", a, b, sa)
		}
		if utf8.ValidString(a) && a != "" {
			ts := time.Date(2024, 1, 15, 14, 0, 0, 0, time.UTC)
			if err := lake.ValidateKey(lakeformat.StoreKey(ts, a, ts.UnixMilli(), 1, lakeformat.Sum(nil))); err != nil {
				t.Error(err)
			}
		}
	})
}
