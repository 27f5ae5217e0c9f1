package verify

import (
	"path/filepath"
	"testing"
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
