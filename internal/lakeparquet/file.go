package lakeparquet

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// RowGroupRows is the most rows of one row group: small enough that a query
// of one store (rows sorted by do_id) skips most of a file by the row
// groups' statistics, large enough to compress well.
const RowGroupRows = 16 << 10

// Compare orders rows as files hold them: by do_id (absent first), ts,
// bookmark, then Key.
func Compare(a, b *Row) int {
	if c := cmpPtr(a.DOID, b.DOID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.TS, b.TS); c != 0 {
		return c
	}
	if c := cmpPtr(a.Bookmark, b.Bookmark); c != 0 {
		return c
	}
	return cmp.Compare(a.Key(), b.Key())
}

func cmpPtr(a, b *string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

// rowKey is Key as a comparable value, built without allocating: the store
// and id, or for an event without an id its src and line.
type rowKey struct {
	store, id, src string
	line           int64
	hasID          bool
}

// key returns r's rowKey; ok is false when the row has no key (Key "").
func (r *Row) key() (k rowKey, ok bool) {
	if r.ID != nil {
		k.id, k.hasID = *r.ID, true
		if r.DOID != nil {
			k.store = *r.DOID
		}
		return k, true
	}
	if r.Src != nil && r.Line != nil {
		return rowKey{src: *r.Src, line: *r.Line}, true
	}
	return k, false
}

// Dedupe sorts rows (Compare) and drops every row whose Key an earlier row
// has, so each event is in the result once.
func Dedupe(rows []Row) []Row {
	seen := make(map[rowKey]struct{}, len(rows))
	out := rows[:0]
	for i := range rows {
		if k, ok := rows[i].key(); ok {
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
		}
		out = append(out, rows[i])
	}
	clear(rows[len(out):])
	sortRows(out)
	return out
}

// sortRows sorts rows (Compare) through an index, so comparisons do not
// copy rows, then moves each row once into place.
func sortRows(rows []Row) {
	idx := make([]int32, len(rows))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return Compare(&rows[a], &rows[b]) })
	// rows[i] must become the row at idx[i]: follow each cycle of the
	// permutation, marking placed entries with -1.
	for i := range idx {
		if idx[i] < 0 || int(idx[i]) == i {
			continue
		}
		tmp := rows[i]
		j := i
		for {
			k := int(idx[j])
			idx[j] = -1
			if k == i {
				rows[j] = tmp
				break
			}
			rows[j] = rows[k]
			j = k
		}
	}
}

// Write writes rows (already in Compare order) as one Parquet file to w:
// zstd, row groups of RowGroupRows, SchemaVersion in the metadata.
func Write(w io.Writer, rows []Row) error {
	pw := parquet.NewGenericWriter[Row](w,
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.MaxRowsPerRowGroup(RowGroupRows),
		parquet.KeyValueMetadata(MetaSchemaVersion, SchemaVersion),
		parquet.CreatedBy("github.com/dotdo/events", SchemaVersion, ""),
	)
	for len(rows) > 0 {
		n := min(len(rows), RowGroupRows)
		if _, err := pw.Write(rows[:n]); err != nil {
			return fmt.Errorf("lakeparquet: write: %w", err)
		}
		if err := pw.Flush(); err != nil {
			return fmt.Errorf("lakeparquet: write: %w", err)
		}
		rows = rows[n:]
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("lakeparquet: write: %w", err)
	}
	return nil
}

// Empty returns a Parquet file of no rows with the schema.
func Empty() []byte {
	var b bytes.Buffer
	if err := Write(&b, nil); err != nil {
		panic(err) // writing nothing to memory cannot fail
	}
	return b.Bytes()
}

// Read returns the rows of a Parquet file in data, calling keep (when not
// nil) with each row group's do_id bounds to skip the groups it refuses.
// A file that is not one of ours (no SchemaVersion) is an error matching
// ErrCorrupt.
func Read(data []byte, keep func(min, max string, hasNull bool) bool) ([]Row, error) {
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if v, ok := f.Lookup(MetaSchemaVersion); !ok || v != SchemaVersion {
		return nil, fmt.Errorf("%w: schema version %q, want %q", ErrCorrupt, v, SchemaVersion)
	}
	var out []Row
	doCol := -1
	if leaf, ok := f.Schema().Lookup("do_id"); ok {
		doCol = leaf.ColumnIndex
	}
	for _, rg := range f.RowGroups() {
		if keep != nil && doCol >= 0 {
			if mn, mx, hasNull, ok := bounds(rg, doCol); ok && !keep(mn, mx, hasNull) {
				continue
			}
		}
		r := parquet.NewGenericRowGroupReader[Row](rg)
		buf := make([]Row, rg.NumRows())
		n, err := r.Read(buf)
		if err != nil && err != io.EOF {
			r.Close()
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		r.Close()
		if int64(n) != rg.NumRows() {
			return nil, fmt.Errorf("%w: row group of %d rows gave %d", ErrCorrupt, rg.NumRows(), n)
		}
		out = append(out, buf[:n]...)
	}
	return out, nil
}

// bounds returns the do_id bounds of a row group from its column chunk
// statistics; ok is false when they are missing.
func bounds(rg parquet.RowGroup, col int) (mn, mx string, hasNull, ok bool) {
	chunk := rg.ColumnChunks()[col]
	idx, err := chunk.ColumnIndex()
	if err != nil || idx == nil || idx.NumPages() == 0 {
		return "", "", false, false
	}
	first := true
	for p := 0; p < idx.NumPages(); p++ {
		if idx.NullCount(p) > 0 {
			hasNull = true
		}
		if idx.NullPage(p) {
			continue
		}
		lo, hi := idx.MinValue(p).String(), idx.MaxValue(p).String()
		if first || lo < mn {
			mn = lo
		}
		if first || hi > mx {
			mx = hi
		}
		first = false
	}
	return mn, mx, hasNull, true
}
