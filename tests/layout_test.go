package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayoutRecorded: a tree written with --layout namespace is what the
// commands that compare with it regenerate, without being told the layout
// again: the tree's marker records it. Issue 19: diff --out on a fresh
// per-namespace tree of the shop reported 16 deletions and 5 changes.
func TestLayoutRecorded(t *testing.T) {
	root := repoRoot(t)
	out := filepath.Join(t.TempDir(), "netpol")
	if res := run(t, root, "generate", "examples/shop", "--layout", "namespace", "--out", out, "--quiet"); res.code != 0 {
		t.Fatalf("generate: exit %d:\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "overlays", "dev", "storefront", "kustomization.yaml")); err != nil {
		t.Fatalf("not the per-namespace layout: %v", err)
	}
	fresh := func(t *testing.T) {
		t.Helper()
		res := run(t, root, "diff", "examples/shop", "--out", out)
		if res.code != 0 || res.stdout != out+" is up to date\n" || res.stderr != "" {
			t.Errorf("diff --out of a fresh tree: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
		res = run(t, root, "verify", "examples/shop", "--out", out, "--quiet")
		if res.code != 0 || strings.Count(res.stdout, ": exact (") != 3 {
			t.Errorf("verify --out: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
	}
	t.Run("diff", fresh)
	t.Run("generate-again", func(t *testing.T) {
		// generate without --layout keeps the tree's layout, or diff --out
		// would call fresh a tree generate rewrites.
		res := run(t, root, "generate", "examples/shop", "--out", out)
		if res.code != 0 || !strings.HasPrefix(res.stdout, out+" is up to date: ") {
			t.Errorf("generate again: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("legacy-marker", func(t *testing.T) {
		// A marker written before it recorded the layout: the tree's files
		// show it.
		marker := filepath.Join(out, ".netdep-tree")
		b, err := os.ReadFile(marker)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if !strings.HasPrefix(l, "# layout:") {
				kept = append(kept, l)
			}
		}
		if err := os.WriteFile(marker, []byte(strings.Join(kept, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		res := run(t, root, "diff", "examples/shop", "--out", out)
		if res.code != 1 || !strings.Contains(res.stdout, "  changed  .netdep-tree\n") || strings.Contains(res.stdout, "extra") {
			t.Errorf("diff --out of a tree with a legacy marker: want only the marker to change; exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
		if res := run(t, root, "generate", "examples/shop", "--out", out, "--quiet"); res.code != 0 {
			t.Fatalf("generate: exit %d:\n%s", res.code, res.stderr)
		}
		fresh(t)
	})
	t.Run("explicit-layout-wins", func(t *testing.T) {
		if res := run(t, root, "generate", "examples/shop", "--layout", "environment", "--out", out, "--quiet"); res.code != 0 {
			t.Fatalf("generate: exit %d:\n%s", res.code, res.stderr)
		}
		if _, err := os.Stat(filepath.Join(out, "overlays", "dev", "storefront", "kustomization.yaml")); !os.IsNotExist(err) {
			t.Errorf("--layout environment kept the per-namespace kustomizations (%v)", err)
		}
		// The same tree as the committed one, which auto laid out, but the
		// choice is the user's now and sticks.
		want, got := readTree(t, filepath.Join(root, "examples/shop/netpol")), readTree(t, out)
		if m := string(got[".netdep-tree"]); !strings.Contains(m, "\n# layout: environment\n") {
			t.Errorf("the marker does not record the explicit layout:\n%s", m)
		}
		delete(want, ".netdep-tree")
		delete(got, ".netdep-tree")
		compareTrees(t, want, got, "the committed tree")
		fresh(t)
	})
}

// TestLayoutRecordedDiffBase: diff --base tells whether the head's committed
// tree is stale by generating in the layout that tree records.
func TestLayoutRecordedDiffBase(t *testing.T) {
	g := shopRepo(t)
	if res := run(t, g.Dir, "generate", "examples/shop", "--layout", "namespace", "--out", shopTree, "--quiet"); res.code != 0 {
		t.Fatalf("generate: exit %d:\n%s", res.code, res.stderr)
	}
	g.Commit("the shop in the per-namespace layout")
	for _, args := range [][]string{
		{"--base", "HEAD~1"},
		{"--base", "HEAD~1", "--head", "HEAD"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			res := run(t, g.Dir, append([]string{"diff", "examples/shop", "-o", "json"}, args...)...)
			if res.code != 0 || res.stderr != "" || strings.Contains(res.stdout, "staleTree") {
				t.Errorf("a fresh per-namespace tree: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
		})
	}
}
