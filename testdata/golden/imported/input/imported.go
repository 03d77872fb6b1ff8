// Package imported uses types of other packages.
package imported

import (
	"net/url"
	"time"

	"github.com/dotdo/events/testdata/golden/imported/other"
)

// Job uses imported types.
//
//events:collection
type Job struct {
	Level   other.Level            `json:"level"`
	Role    other.Role             `json:"role"`
	Roles   []other.Role           `json:"roles"`
	ByRole  map[string]other.Level `json:"by_role"`
	At      other.Point            `json:"at"`
	Path    []other.Point          `json:"path"`
	Wrapper other.Wrapper          `json:"wrapper"`
	Every   time.Duration          `json:"every"`
	Started *time.Time             `json:"started,omitempty"`
	Link    url.URL                `json:"link"`
}
