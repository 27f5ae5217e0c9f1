package verify

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSourcesAgree: the example's generated set in memory, its committed
// tree and the tree read as manifests of one environment give the same
// verdict through Run, environment by environment.
func TestSourcesAgree(t *testing.T) {
	spec, set := loadExample(t, "shop") // chdir to the repository root
	tree := filepath.Join("examples", "shop", "netpol")
	envs := spec.EnvNames()
	var progress []string
	fromSet, _, err := Run(spec, envs, FromSet(set), func(s string) { progress = append(progress, s) })
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) != len(envs) {
		t.Errorf("progress told %d times for %d environments: %v", len(progress), len(envs), progress)
	}
	fromTree, skipped, err := Run(spec, envs, FromTree(tree), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 0 {
		t.Errorf("the generated tree holds objects not evaluated: %v", skipped)
	}
	for i, env := range envs {
		if fromSet[i].Summary() != fromTree[i].Summary() || !fromSet[i].Exact() {
			t.Errorf("%s: in memory %q, tree %q", env, fromSet[i].Summary(), fromTree[i].Summary())
		}
		m, err := LoadManifests([]string{TreeEnvDir(tree, env)})
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := Run(spec, []string{env}, FromManifests(m), nil)
		if err != nil {
			t.Fatal(err)
		}
		if r[0].Summary() != fromTree[i].Summary() {
			t.Errorf("%s: as manifests %q, tree %q", env, r[0].Summary(), fromTree[i].Summary())
		}
	}
	if _, _, err := Run(spec, envs, FromTree(filepath.Join(t.TempDir(), "none")), nil); err == nil {
		t.Error("a tree that does not exist was read")
	} else if _, ok := err.(*LoadError); !ok {
		t.Errorf("a missing tree is %T, want *LoadError: %v", err, err)
	}
}

// TestPreload: a tree whose base was preloaded gives the same policies
// per environment as one read without, its loader holding the same files:
// the base's, which the overlays then find there, and no overlay's
// (Loader.Shared). A missing tree is still the LoadError Load names, not
// an error of Preload's.
func TestPreload(t *testing.T) {
	spec, _ := loadExample(t, "shop") // chdir to the repository root
	tree := filepath.Join("examples", "shop", "netpol")
	plain, pre := FromTree(tree), FromTree(tree)
	pre.Preload()
	pre.Preload() // a second call starts nothing
	for _, env := range spec.EnvNames() {
		a, err := plain.Load(env)
		if err != nil {
			t.Fatal(err)
		}
		b, err := pre.Load(env)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a.Policies, b.Policies); diff != "" {
			t.Errorf("%s: preloaded policies differ (-plain +preloaded):\n%s", env, diff)
		}
	}
	base := 0
	for f := range pre.loader.decoded {
		if strings.HasPrefix(filepath.ToSlash(f), filepath.ToSlash(TreeEnvDir(tree, ""))+"/") {
			base++
		}
	}
	if base == 0 || base != len(pre.loader.decoded) || len(pre.loader.decoded) != len(plain.loader.decoded) {
		t.Errorf("preloaded loader holds %d files (%d of the base, want all of them), the plain one %d", len(pre.loader.decoded), base, len(plain.loader.decoded))
	}
	missing := FromTree(filepath.Join(t.TempDir(), "none"))
	missing.Preload()
	if _, err := missing.Load(spec.EnvNames()[0]); err == nil {
		t.Error("a tree that does not exist was read")
	} else if _, ok := err.(*LoadError); !ok {
		t.Errorf("a missing tree is %T, want *LoadError: %v", err, err)
	}
}
