package gen

import (
	"strings"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
)

func TestDefaultCollectionName(t *testing.T) {
	for typ, want := range map[string]string{
		"User":         "users",
		"AuditLog":     "audit_logs",
		"Category":     "categories",
		"Status":       "statuses",
		"Address":      "addresses",
		"Box":          "boxes",
		"Match":        "matches",
		"Wish":         "wishes",
		"Key":          "keys",
		"Day":          "days",
		"Person":       "people",
		"HTTPRequest":  "http_requests",
		"UserID":       "user_ids",
		"OAuth2Token":  "o_auth2_tokens",
		"Version2":     "version2s",
		"snake_case":   "snake_cases",
		"session":      "sessions",
		"APIKey":       "api_keys",
		"XMLHTTPProxy": "xmlhttp_proxies",
	} {
		if got := defaultCollectionName(typ); got != want {
			t.Errorf("defaultCollectionName(%q) = %q, want %q", typ, got, want)
		}
	}
}

// TestValidateCollectionName checks the generator's copy of the rule
// against the runtime's.
func TestValidateCollectionName(t *testing.T) {
	for _, name := range []string{
		"users", "_x", "A-b_9", "a", strings.Repeat("a", 128), strings.Repeat("a", 129), "",
		"9lives", "-x", "bad.name", "café", "a b", "a/b", "Legacy-Items_v2", "_", "x\x00",
	} {
		got, want := validateCollectionName(name) == nil, cdc.ValidateCollection(name) == nil
		if got != want {
			t.Errorf("%q: generator says valid=%v, runtime says %v", name, got, want)
		}
	}
}

func TestValidJSONName(t *testing.T) {
	for name, want := range map[string]bool{
		"name": true, "a-b": true, "a.b": true, "x y": true, "émoji": true, "": false, `a"b`: false, `a\b`: false, "a'b": false, "a,b": false,
	} {
		if got := validJSONName(name); got != want {
			t.Errorf("validJSONName(%q) = %v", name, got)
		}
	}
}

func TestLowerFirst(t *testing.T) {
	for name, want := range map[string]string{
		"User": "user", "user": "user", "HTTPRequest": "httpRequest", "URL": "url", "ID": "id",
		"OAuth2Token": "oAuth2Token", "XMLHTTPProxy": "xmlhttpProxy", "A": "a", "_x": "_x", "Über": "über",
	} {
		if got := lowerFirst(name); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", name, got, want)
		}
	}
}
