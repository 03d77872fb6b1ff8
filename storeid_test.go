package events_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dotdo/events"
)

func TestValidateStoreID(t *testing.T) {
	for _, id := range []string{"a", "room-1", "a.b", "user@x.com", "a_b", "日本", strings.Repeat("é", 256), strings.Repeat("a", 256), "~"} {
		if err := events.ValidateStoreID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", ".a", "a.", "a/b", `a\b`, "a\x00b", "a\nb", "a\x7fb", "\xff", strings.Repeat("a", 257), strings.Repeat("é", 257)} {
		if err := events.ValidateStoreID(id); !errors.Is(err, events.ErrInvalidStoreID) {
			t.Errorf("%q: %v", id, err)
		}
	}
}
