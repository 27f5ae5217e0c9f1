package gitrev

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/generator/gitrev/gitrevtest"
)

// TestExtract: a revision's directory is copied as it was, whatever the
// working tree holds now; a link is copied as the file it leads to inside
// the tree, and dropped when it leads out of it or to a directory.
func TestExtract(t *testing.T) {
	f := gitrevtest.New(t)
	f.Write("netpol/.netdep-tree", "marker\n")
	f.Write("netpol/base/kustomization.yaml", "resources: [a/p.yaml]\n")
	f.Write("netpol/base/a/p.yaml", "kind: NetworkPolicy\n")
	f.Write("shared.yaml", "kind: ConfigMap\n")
	f.Symlink("../../shared.yaml", "netpol/base/linked.yaml")
	f.Symlink("../../../outside.yaml", "netpol/base/escape.yaml")
	f.Symlink("a", "netpol/base/dir-link")
	f.Commit("tree")
	f.Write("netpol/base/a/p.yaml", "edited in the working tree\n")
	r, v := openHead(t, filepath.Join(f.Dir, "netpol"))

	dst := t.TempDir()
	shown, ok, err := r.Extract(v, ".", dst)
	if err != nil || !ok || shown != "." {
		t.Fatalf("Extract(.) = %q, %v, %v", shown, ok, err)
	}
	got := map[string]string{}
	err = filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			t.Errorf("%s: not a regular file", p)
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dst, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		".netdep-tree":            "marker\n",
		"base/kustomization.yaml": "resources: [a/p.yaml]\n",
		"base/a/p.yaml":           "kind: NetworkPolicy\n",
		"base/linked.yaml":        "kind: ConfigMap\n",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("extracted tree (-want +got):\n%s", d)
	}

	if _, ok, err := r.Extract(v, "missing", t.TempDir()); ok || err != nil {
		t.Errorf("Extract(missing) = %v, %v; want nothing, no error", ok, err)
	}
	if _, ok, err := r.Extract(v, "base/a/p.yaml", t.TempDir()); ok || err != nil {
		t.Errorf("Extract(a file) = %v, %v; want nothing, no error", ok, err)
	}
}
