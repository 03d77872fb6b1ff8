package lake

import "bytes"

// mayBeOf reports whether an event line may be one of store's: false only
// when it cannot be, because store's id appears nowhere in it as is and it
// has no escape ('\') that could spell it otherwise. Objects holding many
// stores' events (a fleet's, the ingest's) are mostly other stores' lines:
// they are skipped without being decoded.
func mayBeOf(line []byte, store string) bool {
	return bytes.Contains(line, []byte(store)) || bytes.IndexByte(line, '\\') >= 0
}
