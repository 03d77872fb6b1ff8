package query

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dotdo/events"
	"github.com/dotdo/events/internal/wire"
)

// TestDOIDEveryWriter: Build{DOID} finds a store's events whichever writer
// named the object (this module's percent-encoded name, upstream's raw
// {id}_{ms}.jsonl, a '_' object holding many stores' events), returns no
// other store's, and opens no file whose name proves it holds none.
func TestDOIDEveryWriter(t *testing.T) {
	root := t.TempDir()
	ts := time.Date(2024, 1, 15, 14, 10, 0, 0, time.UTC)
	custom := func(id string) events.Event {
		return events.Custom{Type: "user.action", TS: ts, ID: id}
	}
	writeBatch(t, root, events.Identity{ID: "room_1"}, 1, custom("own-1"))    // room%5F1_...
	writeBatch(t, root, events.Identity{ID: "room"}, 1, custom("other-1"))    // room_...
	writeBatch(t, root, events.Identity{ID: "room_10"}, 1, custom("other-2")) // room%5F10_...
	line := func(store, id string) string {
		return fmt.Sprintf(`{"type":"user.action","ts":%q,"do":{"id":%q},"id":%q}`, wire.FormatTime(ts), store, id)
	}
	hour := filepath.Join(root, "events", "2024", "01", "15", "14")
	files := map[string]string{
		fmt.Sprintf("room_1_%d.jsonl", ts.UnixMilli()):         line("room_1", "upstream-1") + "\n",
		"_w-abc_1_00000000000000000001_0123456789abcdef.jsonl": line("room", "other-3") + "\n" + line("room_1", "multi-1") + "\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(hour, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := openDuckDB(t, "")
	for _, dr := range []*DateRange{nil, {Start: ts.Add(-time.Hour), End: ts.Add(time.Hour)}} {
		q, err := Build(Options{Root: root, DOID: "room_1", DateRange: dr})
		if err != nil {
			t.Fatal(err)
		}
		got := ids(mustQuery(t, db, q))
		slices.Sort(got)
		if want := []string{"multi-1", "own-1", "upstream-1"}; !slices.Equal(got, want) {
			t.Errorf("range %v: ids %q, want %q", dr, got, want)
		}
		plan, _ := mustQuery(t, db, "EXPLAIN ANALYZE "+q)[0]["explain_value"].(string)
		m := jsonFilesRead(plan)
		if m == nil {
			t.Fatalf("no file count in the plan:\n%s", plan)
		}
		want := 3
		if dr == nil {
			want++ // the lake's empty placeholder object, a '_' name
		}
		if n, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", "")); n != want {
			t.Errorf("range %v: DuckDB read %d files, want %d of 5", dr, n, want)
		}
	}
}
