package lake_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dotdo/events/runtime/lake"
)

func TestValidateKey(t *testing.T) {
	good := []string{"a", "a/b/c.jsonl", "events/2024/01/15/14/x_1_2.jsonl", ".hidden", "a/.b/c", "a..b", "...", "sp ace", "日本/語", "a%2F", strings.Repeat("k", lake.MaxKeyLen)}
	for _, k := range good {
		if err := lake.ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	reasons := map[string]string{
		"dot-dot":        `".." segment`,
		"absolute":       "starts with '/'",
		"backslash":      `'\'`,
		"nul":            "NUL",
		"newline":        "control character U+000A",
		"empty-segment":  "empty segment",
		"trailing-slash": "ends with '/'",
		"too-long":       "longer than 1024 bytes",
		"invalid-utf8":   "UTF-8",
		"empty":          "empty",
	}
	for name, k := range badKeys {
		err := lake.ValidateKey(k)
		if !errors.Is(err, lake.ErrInvalidKey) {
			t.Errorf("%s: ValidateKey(%q) = %v", name, k, err)
			continue
		}
		if want, ok := reasons[name]; ok && !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not say %q", name, err, want)
		}
	}
	if err := lake.ValidateKey(badKeys["too-long"]); len(err.Error()) > 200 {
		t.Errorf("error quotes the whole long key: %d bytes", len(err.Error()))
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "snapshots/do-1/", "events/2024/0"} {
		if err := lake.ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"/", "//", "/a/", "a//", "../", "a/../", "a\\/", "a\x00/", strings.Repeat("k", lake.MaxKeyLen) + "/"} {
		if err := lake.ValidatePrefix(p); !errors.Is(err, lake.ErrInvalidKey) {
			t.Errorf("ValidatePrefix(%q) = %v", p, err)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []lake.PutOptions{
		{},
		{ContentType: "application/x-ndjson"},
		{ContentType: "text/plain; charset=utf-8"},
		{Metadata: map[string]string{"doId": "ü", "a-b_C9": ""}},
		{Metadata: map[string]string{"x": strings.Repeat("v", lake.MaxMetadataSize-1)}},
	} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}
