package wire_test

import (
	"encoding/json"
	"testing"

	"github.com/dotdo/events/internal/wire"
)

// FuzzAppendString checks the hand-written string encoder against encoding/json.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "nl\n\t\r", "\x00\x1f", "ü🙂", "\xff\xfe", "\u2028\u2029", "<html>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := wire.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("%q encoded as invalid JSON %s: %v", s, enc, err)
		}
		std, _ := json.Marshal(s)
		var want string
		_ = json.Unmarshal(std, &want)
		if back != want {
			t.Fatalf("%q: decoded %q, encoding/json gives %q", s, back, want)
		}
	})
}
