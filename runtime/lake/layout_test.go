package lake_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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
		if got := lake.HourPrefix(ts); got != want {
			t.Errorf("HourPrefix(%v) = %q, want %q", ts, got, want)
		}
	}
}

func TestEventKey(t *testing.T) {
	ts := time.Date(2024, 1, 15, 14, 40, 0, 0, time.UTC)
	got := lake.EventKey(ts, "store-1", ts.UnixMilli(), 7)
	want := "events/2024/01/15/14/store-1_1705329600000_00000000000000000007.jsonl"
	if got != want {
		t.Fatalf("EventKey = %q, want %q", got, want)
	}
	if err := lake.ValidateKey(got); err != nil {
		t.Fatal(err)
	}
	// Keys of one store and hour sort by sequence number.
	var keys []string
	for _, seq := range []uint64{0, 9, 10, 99, 1 << 40, ^uint64(0)} {
		keys = append(keys, lake.EventKey(ts, "s", ts.UnixMilli(), seq))
	}
	if !slices.IsSorted(keys) {
		t.Errorf("keys not sorted by seq: %q", keys)
	}
	// The id is sanitised.
	if got := lake.EventKey(ts, "a/../b_c", 1, 2); got != "events/2024/01/15/14/a%2F..%2Fb%5Fc_1_00000000000000000002.jsonl" {
		t.Errorf("EventKey with tricky id = %q", got)
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
		if got := lake.SanitizeID(id); got != want {
			t.Errorf("SanitizeID(%q) = %q, want %q", id, got, want)
		}
	}
}

// checkSegment checks the promises SanitizeID makes about one result.
func checkSegment(t *testing.T, id, seg string) {
	t.Helper()
	if len(seg) > lake.MaxIDSegment {
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
		seg := lake.SanitizeID(id)
		checkSegment(t, id, seg)
		if other, dup := seen[seg]; dup && other != id {
			t.Errorf("SanitizeID(%q) = SanitizeID(%q) = %q", id, other, seg)
		}
		seen[seg] = id
	}
	if seg := lake.SanitizeID(long); !strings.Contains(seg, "~") || len(seg) != lake.MaxIDSegment {
		t.Errorf("long id: %q", seg)
	}
	if seg := lake.SanitizeID(strings.Repeat("a", 128)); seg != strings.Repeat("a", 128) {
		t.Errorf("128-byte id shortened: %q", seg)
	}
}

func FuzzSanitizeID(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a_b", "%", "日本", "a/b", strings.Repeat("é", 80)} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		sa, sb := lake.SanitizeID(a), lake.SanitizeID(b)
		checkSegment(t, a, sa)
		if a != b && sa == sb {
			t.Errorf("SanitizeID(%q) = SanitizeID(%q) = %q", a, b, sa)
		}
		if utf8.ValidString(a) && a != "" {
			ts := time.Date(2024, 1, 15, 14, 0, 0, 0, time.UTC)
			if err := lake.ValidateKey(lake.EventKey(ts, a, ts.UnixMilli(), 1)); err != nil {
				t.Error(err)
			}
		}
	})
}
