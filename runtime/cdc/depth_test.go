package cdc_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
)

// nested returns a document {"n": 1, "deep": [[...]]} nested depth levels in
// all (the outer object counting 1).
func nested(depth int) json.RawMessage {
	inner := depth - 1
	return json.RawMessage(`{"n":1,"deep":` + strings.Repeat("[", inner) + strings.Repeat("]", inner) + `}`)
}

// TestNestingDepthBoundary: a document nested 1000 deep (SQLite's JSON
// limit) is kept and every read path reads it; 1001 is refused at Put,
// PutMany and AppendChange with ErrEncode, and nothing is written.
func TestNestingDepthBoundary(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	docs, err := cdc.NewCollection[json.RawMessage](s, "docs")
	must(t, err)
	n := cdc.NewOrderedField[int]("n")

	must(t, docs.Put(ctx, "ok", nested(1000)))
	if got, ok, err := docs.Get(ctx, "ok"); err != nil || !ok || len(got) != len(nested(1000)) {
		t.Fatalf("Get = %d bytes, %v, %v", len(got), ok, err)
	}
	if c, err := docs.Count(ctx, n.Eq(1)); err != nil || c != 1 {
		t.Fatalf("Count = %d, %v", c, err)
	}
	if found, err := docs.Find(ctx, n.Gt(0), cdc.FindOptions{OrderBy: []cdc.Order{n.Asc()}}); err != nil || len(found) != 1 {
		t.Fatalf("Find = %d, %v", len(found), err)
	}
	if ch, err := docs.Changes(ctx, "", 10); err != nil || len(ch) != 1 {
		t.Fatalf("Changes = %d, %v", len(ch), err)
	}
	// Brackets inside strings are text, not nesting.
	must(t, docs.Put(ctx, "text", json.RawMessage(`{"n":2,"s":"`+strings.Repeat("[{", 2000)+`\"]"}`)))

	before := changeCount(t, s)
	if err := docs.Put(ctx, "deep", nested(1001)); !errors.Is(err, cdc.ErrEncode) {
		t.Fatalf("Put 1001 deep = %v, want ErrEncode", err)
	}
	err = docs.PutMany(ctx, []cdc.Entry[json.RawMessage]{{ID: "a", Doc: nested(2)}, {ID: "deep", Doc: nested(1500)}})
	if !errors.Is(err, cdc.ErrEncode) {
		t.Fatalf("PutMany = %v, want ErrEncode", err)
	}
	err = s.Update(ctx, func(tx *cdc.Tx) error {
		_, err := cdcx.Tx(tx).AppendChange(ctx, cdc.RawChange{Op: cdc.OpInsert, Collection: "ext", DocID: "x", Doc: nested(1001)})
		return err
	})
	if !errors.Is(err, cdc.ErrEncode) {
		t.Fatalf("AppendChange = %v, want ErrEncode", err)
	}
	if got := changeCount(t, s); got != before {
		t.Fatalf("%d change rows after refused writes, want %d", got, before)
	}
	if c, err := docs.Count(ctx, nil); err != nil || c != 2 {
		t.Fatalf("Count = %d, %v; want the 2 accepted documents", c, err)
	}
}
