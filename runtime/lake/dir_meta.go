package lake

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// metaSuffix ends the name of every metadata sidecar file, metaDirSuffix
// the name of every folder of sidecars.
const (
	metaSuffix    = ".meta"
	metaDirSuffix = ".d"
)

// dirMeta is the content of a metadata sidecar file.
type dirMeta struct {
	// Size and ModTime (Unix nanoseconds) identify the object version the
	// sidecar describes.
	Size        int64             `json:"size"`
	ModTime     int64             `json:"modTime"`
	ContentType string            `json:"contentType,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

func encodeMeta(opts PutOptions, size int64, modTime time.Time) ([]byte, error) {
	return json.Marshal(dirMeta{
		Size:        size,
		ModTime:     modTime.UnixNano(),
		ContentType: opts.ContentType,
		Metadata:    opts.Metadata,
	})
}

// readMeta reads the sidecar at path; a missing or unreadable sidecar is
// nil, no error.
func readMeta(path string) (*dirMeta, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if notExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	var m dirMeta
	if err := json.Unmarshal(data, &m); err != nil {
		// Only damage from outside can cause this: serve the object without
		// its metadata rather than fail.
		return nil, nil
	}
	return &m, nil
}

// matches reports whether the sidecar describes the object fi.
func (m *dirMeta) matches(fi fs.FileInfo) bool {
	return m.Size == fi.Size() && m.ModTime == fi.ModTime().UnixNano()
}
