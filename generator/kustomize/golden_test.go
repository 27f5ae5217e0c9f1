package kustomize

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netdep/netdep/tests/golden"
)

// update rewrites golden files and directories under testdata/ instead of
// comparing with them (tests/golden's one flag).
var update = golden.Update

// checkGoldenTree compares tree with the directory testdata/<name>, file by
// file, extra and missing files included; with -update it rewrites the
// directory (removing what the tree no longer has).
func checkGoldenTree(t *testing.T, name string, tree Tree) {
	t.Helper()
	dir := filepath.Join("testdata", name)
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for _, p := range tree.Paths() {
			b, _ := tree.Get(p)
			full := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("golden directory %s: %v (run go test -update)", dir, err)
	}
	c, err := Compare(dir, tree)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Added {
		t.Errorf("%s/%s: missing from the golden tree (run go test -update)", dir, p)
	}
	for _, p := range c.Removed {
		t.Errorf("%s/%s: in the golden tree but not generated", dir, p)
	}
	for _, p := range c.Modified {
		want, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		got, _ := tree.Get(p)
		t.Errorf("%s/%s: differs from the golden file (-want +got):\n%s", dir, p, golden.Diff(want, got))
	}
}

// checkGoldenFile compares got with testdata/<name> byte for byte.
func checkGoldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", filepath.FromSlash(name)), got)
}

// readTree reads a directory written by Write back into a Tree.
func readTree(t *testing.T, dir string) Tree {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return Tree{files: files}
}

func mustBuild(t *testing.T, files map[string]string) Tree {
	t.Helper()
	m := map[string][]byte{}
	for p, s := range files {
		m[p] = []byte(s)
	}
	tr, err := NewTree(m)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func describe(tr Tree) string {
	var b strings.Builder
	for _, p := range tr.Paths() {
		c, _ := tr.Get(p)
		b.WriteString(p + ": " + string(c) + "\n")
	}
	return b.String()
}
