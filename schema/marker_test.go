package schema

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartsWithMarker: the shortcut isNetdepFile takes never says yes where
// decoding the first document would say no, and takes the common layouts.
func TestStartsWithMarker(t *testing.T) {
	tests := []struct {
		data string
		want bool // the shortcut applies
	}{
		{"netdep: v1\nnamespace: shop\n", true},
		{"# Code owners: shop\n\n---\nnetdep: v1\n", true},
		{"  # indented comment\r\nnetdep: v1\r\n", true},
		{"--- \nnetdep : v1\n", true},
		{"netdep:\tv1\n", true},
		{"netdep:\n  nested: true\n", true},
		{"netdep: v1\nnamespace: [unclosed\n", true}, // a syntax error: still ours
		{"netdep: v1\n- a list after a mapping\n", true},
		{"netdep: v1", true},
		{"netdep:v1\n", false},      // one plain scalar
		{"netdepx: v1\n", false},    // another key
		{" netdep: v1\n", false},    // indented: left to the decoder
		{"--- netdep: v1\n", false}, // on the document-start line
		{"---# not a comment\nnetdep: v1\n", false},
		{"--- # a comment\nnetdep: v1\n", true},
		{"%YAML 1.2\n---\nnetdep: v1\n", false},
		{"kind: Deployment\nnetdep: v1\n", false},
		{"- netdep: v1\n", false},
		{"\"netdep\": v1\n", false},
		{"...\nnetdep: v1\n", false},
		{"", false},
		{"# only a comment\n", false},
		{"apiVersion: v1\nkind: ConfigMap\n", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.data), func(t *testing.T) {
			got := startsWithMarker([]byte(tt.data))
			if got != tt.want {
				t.Errorf("startsWithMarker = %v, want %v", got, tt.want)
			}
			if got && !firstDocClaimsNetdep([]byte(tt.data)) {
				t.Errorf("shortcut says netdep file, decoding says not")
			}
		})
	}
}

// TestStartsWithMarkerAgrees checks the implication over every example and
// catalogue file and over lines shuffled in front of a marker.
func TestStartsWithMarkerAgrees(t *testing.T) {
	prefixes := []string{"", "# c\n", "---\n", "\n", "  \n", "--- # doc\n", "\t# tab\n", "---\n---\n", "#\n---\n\n"}
	markers := []string{"netdep: v1", "netdep : v1", "netdep:", "netdep:  # c", "netdep: v1 # c", "netdep: [v1", "netdep: 'v1"}
	rests := []string{"", "\nnamespace: shop", "\n  bad: indent", "\n- x", "\n---\nkind: X", "\n\tnamespace: tab"}
	for _, p := range prefixes {
		for _, m := range markers {
			for _, r := range rests {
				data := []byte(p + m + r + "\n")
				if startsWithMarker(data) && !firstDocClaimsNetdep(data) {
					t.Errorf("%q: shortcut says netdep file, decoding says not", data)
				}
				if !strings.HasPrefix(strings.TrimLeft(p, "\n"), " ") && !startsWithMarker(data) {
					t.Errorf("%q: shortcut not taken", data)
				}
			}
		}
	}
}

// TestStartsWithMarkerRepoFiles checks the implication on every YAML file of
// the examples and test data, netdep files or not.
func TestStartsWithMarkerRepoFiles(t *testing.T) {
	n := 0
	for _, root := range []string{"../examples", "../tests/testdata", "testdata"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isYAML(p) {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			data = bytes.TrimPrefix(data, utf8BOM)
			if startsWithMarker(data) {
				n++
				if !firstDocClaimsNetdep(data) {
					t.Errorf("%s: shortcut says netdep file, decoding says not", p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatal("no file took the shortcut")
	}
}
