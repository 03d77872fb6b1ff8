package users_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotdo/events/gen"
)

// TestGeneratedIsFresh checks that the committed events_gen.go is what the
// generator makes of users.go now (CI also runs go generate and diffs).
func TestGeneratedIsFresh(t *testing.T) {
	files, err := gen.Generate(context.Background(), gen.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || filepath.Base(files[0].Path) != gen.DefaultOutput {
		t.Fatalf("generated %v", files)
	}
	committed, err := os.ReadFile(gen.DefaultOutput)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files[0].Content, committed) {
		t.Fatal("events_gen.go is stale: run go generate ./examples/users")
	}
}

// build runs go build on a package made of one file, src, that lives (only
// in an overlay) under testdata/, and returns the compiler's output.
func build(t *testing.T, src string) (string, error) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	file := filepath.Join(tmp, "use.go")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, err := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(wd, "testdata", "use", "use.go"): file}})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-overlay="+overlayFile, "./testdata/use")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestWrongTypedFilterDoesNotCompile proves that the generated fields take
// arguments of the field's type: UserWhere.Active.Eq("yes") is a compile
// error, as are predicates a field's type does not have.
func TestWrongTypedFilterDoesNotCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	const header = `package use

import (
	"time"

	"github.com/dotdo/events/examples/users"
	"github.com/dotdo/events/runtime/cdc"
)

var _ = time.Time{}
`
	good := header + `
var Filters = []cdc.Filter{
	users.UserWhere.Active.Eq(true),
	users.UserWhere.Age.Gt(3),
	users.UserWhere.Role.In(users.RoleAdmin),
	users.UserWhere.Joined.Lt(time.Now()),
	users.UserWhere.Address.City.HasPrefix("O"),
}
`
	if out, err := build(t, good); err != nil {
		t.Fatalf("the well-typed control does not build: %v\n%s", err, out)
	}
	bad := header + `
var Filters = []cdc.Filter{
	users.UserWhere.Active.Eq("yes"),
	users.UserWhere.Age.Gt("3"),
	users.UserWhere.Role.In("admin", 3),
	users.UserWhere.Joined.Lt("2024-01-01"),
	users.UserWhere.Active.Gt(true),
	users.UserWhere.Age.Contains(3),
}
`
	out, err := build(t, bad)
	if err == nil {
		t.Fatalf("wrong-typed filters compiled:\n%s", out)
	}
	for _, want := range []string{
		`cannot use "yes" (untyped string constant) as bool value in argument to users.UserWhere.Active.Eq`,
		`cannot use "3" (untyped string constant) as int value in argument to users.UserWhere.Age.Gt`,
		`cannot use 3 (untyped int constant) as users.Role value`,
		`cannot use "2024-01-01" (untyped string constant) as`,
		`users.UserWhere.Active.Gt undefined`,
		`users.UserWhere.Age.Contains undefined`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("go build output lacks %q:\n%s", want, out)
		}
	}
}
