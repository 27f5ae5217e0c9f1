package app

import (
	"bytes"
	"os"
	"testing"
)

// TestDiffColor: auto colours only a terminal, never a pipe, a buffer or a
// file, and NO_COLOR wins over auto.
func TestDiffColor(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases := []struct {
		name, color string
		w           any
		noColor     string
		want        bool
	}{
		{"always", "always", &bytes.Buffer{}, "", true},
		{"never", "never", &bytes.Buffer{}, "", false},
		{"auto buffer", "auto", &bytes.Buffer{}, "", false},
		{"auto file", "auto", f, "", false},
		{"always beats NO_COLOR", "always", &bytes.Buffer{}, "1", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", c.noColor)
			o := &diffOptions{color: c.color}
			var got bool
			switch w := c.w.(type) {
			case *bytes.Buffer:
				got = o.useColor(w)
			case *os.File:
				got = o.useColor(w)
			}
			if got != c.want {
				t.Errorf("useColor = %v, want %v", got, c.want)
			}
		})
	}
}
