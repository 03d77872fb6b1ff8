package gen

import "testing"

func TestConfigValidate(t *testing.T) {
	for out, ok := range map[string]bool{
		"": true, "events_gen.go": true, "x.go": true, "x_test.go": false, "x.txt": false, "a/b.go": false, "..": false, ".": false,
	} {
		c := Config{Output: out}
		if err := c.validate(); (err == nil) != ok {
			t.Errorf("Output %q: %v", out, err)
		}
	}
}

func TestErrorsFormat(t *testing.T) {
	d := Diagnostic{Msg: "m"}
	d.Pos.Filename, d.Pos.Line, d.Pos.Column = "/a/b/c.go", 3, 4
	for dir, want := range map[string]string{
		"":     "/a/b/c.go:3:4: m",
		"/a":   "b/c.go:3:4: m",
		"/a/b": "c.go:3:4: m",
		"/x":   "/a/b/c.go:3:4: m",
	} {
		if got := newErrors([]Diagnostic{d}, dir).Error(); got != want {
			t.Errorf("relative to %q: %q, want %q", dir, got, want)
		}
	}
	errs := newErrors([]Diagnostic{{Msg: "n"}, d, d}, "")
	if got := errs.Error(); got != "eventsgen: n\n/a/b/c.go:3:4: m" {
		t.Errorf("Error() = %q", got)
	}
}
