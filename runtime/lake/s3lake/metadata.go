package s3lake

import (
	"encoding/base64"
	"fmt"
	"mime"
	"slices"
	"strings"

	"github.com/dotdo/events/internal/lakeformat"
	"github.com/dotdo/events/runtime/lake"
)

// keyCaseKey is the metadata entry that records the case of metadata names
// with upper-case letters, which S3 lowercases.
const keyCaseKey = "lake-key-case"

// knownKeys maps the lowercased upstream metadata names back to their case.
var knownKeys = map[string]string{
	"doid":       lakeformat.MetaDOID,
	"doname":     lakeformat.MetaDOName,
	"docolo":     lakeformat.MetaDOColo,
	"eventcount": lakeformat.MetaEventCount,
}

// encodeMetadata returns the metadata to send: values RFC 2047 encoded where
// needed, and the case of unknown mixed-case names recorded in keyCaseKey.
func encodeMetadata(m map[string]string) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m)+1)
	var cased []string
	for k, v := range m {
		lower := strings.ToLower(k)
		if lower == keyCaseKey {
			return nil, fmt.Errorf("%w: metadata key %q is reserved by s3lake", lake.ErrInvalidOptions, k)
		}
		if defaultName(lower) != k {
			cased = append(cased, k)
		}
		out[lower] = encodeValue(v)
	}
	if len(cased) > 0 {
		slices.Sort(cased)
		out[keyCaseKey] = strings.Join(cased, ",")
	}
	return out, nil
}

// decodeMetadata undoes encodeMetadata on what S3 returns (lower-case names).
func decodeMetadata(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	names := make(map[string]string)
	if cased, ok := m[keyCaseKey]; ok {
		for name := range strings.SplitSeq(cased, ",") {
			names[strings.ToLower(name)] = name
		}
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k == keyCaseKey {
			continue
		}
		name, ok := names[k]
		if !ok {
			name = defaultName(k)
		}
		out[name] = decodeValue(v)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// defaultName is the name Get returns for the lower-case name lower when
// the object records no case for it.
func defaultName(lower string) string {
	if name, ok := knownKeys[lower]; ok {
		return name
	}
	return lower
}

// encodeValue returns v as an RFC 2047 encoded word when sending it as is
// would change it: bytes outside printable ASCII, white space at either end
// (the SDK trims it) or "=?" (which would be decoded).
func encodeValue(v string) string {
	plain := !strings.Contains(v, "=?") && strings.TrimSpace(v) == v
	for i := 0; plain && i < len(v); i++ {
		plain = v[i] >= 0x20 && v[i] <= 0x7e
	}
	if plain {
		return v
	}
	return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(v)) + "?="
}

// decodeValue decodes RFC 2047 encoded words; anything else is returned as is.
func decodeValue(v string) string {
	if !strings.HasPrefix(v, "=?") || !strings.HasSuffix(v, "?=") {
		return v
	}
	dec := new(mime.WordDecoder)
	s, err := dec.DecodeHeader(v)
	if err != nil {
		return v
	}
	return s
}
