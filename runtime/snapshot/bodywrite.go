package snapshot

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"strconv"
	"time"

	"github.com/dotdo/events/internal/wire"
	"github.com/dotdo/events/runtime/cdc"
)

// layoutVersion is the layout version of the snapshots this package writes and
// the only one it reads.
const layoutVersion = 1

// trailerLen is the length of the end of a body: `,"sha256":"<64 hex>"}`.
const trailerLen = len(`,"sha256":""}`) + sha256.Size*2

// bodyWriter streams a snapshot body to w, hashing what it writes.
type bodyWriter struct {
	w    *bufio.Writer
	hash hash.Hash
	buf  []byte // scratch for one row
	docs int    // rows written
	rows int    // rows of the current collection
}

func newBodyWriter(w io.Writer) *bodyWriter {
	h := sha256.New()
	return &bodyWriter{w: bufio.NewWriterSize(io.MultiWriter(w, h), 256<<10), hash: h}
}

// header writes everything up to the opening of "data".
func (b *bodyWriter) header(id string, ts time.Time, bm cdc.Bookmark, collections []string) error {
	p := b.buf[:0]
	p = append(p, `{"version":`...)
	p = strconv.AppendInt(p, layoutVersion, 10)
	p = append(p, `,"doId":`...)
	p = wire.AppendString(p, id)
	p = append(p, `,"timestamp":`...)
	p = wire.AppendString(p, wire.FormatTime(ts))
	p = append(p, `,"bookmark":`...)
	p = wire.AppendString(p, string(bm))
	p = append(p, `,"collections":[`...)
	for i, c := range collections {
		if i > 0 {
			p = append(p, ',')
		}
		p = wire.AppendString(p, c)
	}
	p = append(p, `],"data":{`...)
	b.buf = p
	_, err := b.w.Write(p)
	return err
}

// collection opens the array of collection name; i is its position.
func (b *bodyWriter) collection(i int, name string) error {
	p := b.buf[:0]
	if i > 0 {
		p = append(p, ',')
	}
	p = wire.AppendString(p, name)
	p = append(p, `:[`...)
	b.buf = p
	b.rows = 0
	_, err := b.w.Write(p)
	return err
}

// row writes one document of the open collection.
func (b *bodyWriter) row(id string, doc []byte) error {
	p := b.buf[:0]
	if b.rows > 0 {
		p = append(p, ',')
	}
	p, err := appendRow(p, id, doc)
	b.buf = p
	if err != nil {
		return err
	}
	b.rows++
	b.docs++
	_, err = b.w.Write(p)
	return err
}

// endCollection closes the open collection's array.
func (b *bodyWriter) endCollection() error { return b.w.WriteByte(']') }

// finish closes "data", writes totalDocs and the checksum trailer, and
// flushes.
func (b *bodyWriter) finish() error {
	p := append(b.buf[:0], `},"totalDocs":`...)
	p = strconv.AppendInt(p, int64(b.docs), 10)
	if _, err := b.w.Write(p); err != nil {
		return err
	}
	if err := b.w.Flush(); err != nil {
		return err
	}
	// Everything before the trailer is hashed; the trailer goes to the
	// file only (through the same writer, after taking the sum).
	sum := hex.EncodeToString(b.hash.Sum(nil))
	p = append(p[:0], `,"sha256":"`...)
	p = append(p, sum...)
	p = append(p, `"}`...)
	if _, err := b.w.Write(p); err != nil {
		return err
	}
	return b.w.Flush()
}
