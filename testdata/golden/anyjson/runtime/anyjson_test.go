package anyjson

// This test is not part of the golden input: gen's TestGoldenRuntime runs it
// with an overlay that puts it, and the expected events_gen.go, into
// ../input. It checks that fields of type any are stored as JSON, read back,
// and filtered by equality and null checks on a real store.

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dotdo/events/runtime/cdc"
)

func TestAnyFields(t *testing.T) {
	ctx := context.Background()
	store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := NewEventCollection(store)
	if err != nil {
		t.Fatal(err)
	}
	docs := []cdc.Entry[Event]{
		{ID: "str", Doc: Event{Kind: "a", Value: "hello", Attrs: map[string]any{"n": 1.0}, List: []any{"x", 2.0}, Payload: "p"}},
		{ID: "num", Doc: Event{Kind: "b", Value: 42.0, Attrs: map[string]any{"n": 2.0}, Meta: Meta{Source: "s", Extra: true}}},
		{ID: "obj", Doc: Event{Kind: "c", Value: map[string]any{"k": "v"}}},
		{ID: "nil", Doc: Event{Kind: "d"}},
	}
	if err := c.PutMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, "obj")
	if err != nil || !ok || got.Value.(map[string]any)["k"] != "v" {
		t.Fatalf("Get(obj) = %+v, %v, %v", got, ok, err)
	}
	for name, tc := range map[string]struct {
		filter cdc.Filter
		want   []string
	}{
		"string":          {EventWhere.Value.Eq("hello"), []string{"str"}},
		"number":          {EventWhere.Value.Eq(42.0), []string{"num"}},
		"object":          {EventWhere.Value.Eq(map[string]any{"k": "v"}), []string{"obj"}},
		"in":              {EventWhere.Value.In("hello", 42.0), []string{"num", "str"}},
		"ne":              {EventWhere.Value.Ne("hello"), []string{"nil", "num", "obj"}},
		"null":            {EventWhere.Value.IsNull(), []string{"nil"}},
		"not null":        {EventWhere.Value.NotNull(), []string{"num", "obj", "str"}},
		"map":             {EventWhere.Attrs.Eq(map[string]any{"n": 2.0}), []string{"num"}},
		"slice":           {EventWhere.List.Eq([]any{"x", 2.0}), []string{"str"}},
		"named interface": {EventWhere.Payload.Eq("p"), []string{"str"}},
		"nested":          {EventWhere.Meta.Extra.Eq(true), []string{"num"}},
		"nested null":     {EventWhere.Meta.Extra.IsNull(), []string{"nil", "obj", "str"}},
	} {
		entries, err := c.FindEntries(ctx, tc.filter, cdc.FindOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var ids []string
		for _, e := range entries {
			ids = append(ids, e.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s: %v, want %v", name, ids, tc.want)
		}
	}
}
