package verify

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/netdep/netdep/generator/eval"
)

// TestResourcesOnlyMatchesKrusty: the shortcut for resources-only
// kustomizations yields the same objects as krusty on every overlay of the
// examples.
func TestResourcesOnlyMatchesKrusty(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "examples")
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "netpol", "overlays", "*"))
	base, _ := filepath.Glob(filepath.Join(root, "*", "netpol", "base"))
	dirs = append(dirs, base...)
	if len(dirs) < 4 {
		t.Fatalf("expected the examples' overlays, found %v", dirs)
	}
	byID := func(ps []*networkingv1.NetworkPolicy) map[string]*networkingv1.NetworkPolicy {
		m := map[string]*networkingv1.NetworkPolicy{}
		for _, p := range ps {
			m[p.Namespace+"/"+p.Name] = p
		}
		return m
	}
	for _, dir := range dirs {
		var files []string
		ok, err := resourcesOnly(dir, 0, &files)
		if !ok || err != nil {
			t.Fatalf("%s: resourcesOnly ok=%v err=%v", dir, ok, err)
		}
		c := &collector{}
		if err := c.addFiles(files); err != nil {
			t.Fatal(err)
		}
		got := c.policies
		m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			t.Fatal(err)
		}
		y, err := m.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		want, err := eval.Decode(y)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(byID(want), byID(got)); diff != "" {
			t.Errorf("%s (-krusty +resourcesOnly):\n%s", dir, diff)
		}
	}
}
