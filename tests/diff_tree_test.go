package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/generator/gitrev/gitrevtest"
)

// The hand edit of the shop example's committed tree that the diff must see:
// cart admits the frontend on 9090 too, which no dependency file declares.
const (
	cartPolicy   = "examples/shop/netpol/base/storefront/cart.yaml"
	cartIngress  = "    - port: 7070\n      protocol: TCP\n"
	cartWidened  = cartIngress + "    - port: 9090\n      protocol: TCP\n"
	shopTree     = "examples/shop/netpol"
	staleWarning = "warning: examples/shop/netpol is out of date"
)

// shopRepo is a repository holding the shop example (specs and its committed
// tree) at the place it has in this repository, so the tree's source
// annotations are the committed ones; the first commit is that.
func shopRepo(t *testing.T) *gitrevtest.Repo {
	t.Helper()
	g := gitrevtest.New(t)
	for p, b := range readTree(t, filepath.Join(repoRoot(t), "examples/shop")) {
		g.Write("examples/shop/"+p, string(b))
	}
	g.Commit("the shop example, generated")
	return g
}

func editFile(t *testing.T, g *gitrevtest.Repo, p, old, new string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(g.Dir, filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not hold %q", p, old)
	}
	g.Write(p, strings.Replace(string(b), old, new, 1))
}

// TestDiffCommittedTree: where a revision holds a committed tree for its
// specs, the flow diff compares what that tree enforces, so a pull request
// that edits only the tree is not "no changes".
func TestDiffCommittedTree(t *testing.T) {
	g := shopRepo(t)
	editFile(t, g, cartPolicy, cartIngress, cartWidened)
	g.Commit("hand edit: cart admits 9090")

	for _, c := range []struct {
		name string
		args []string
	}{
		{"commits", []string{"--base", "HEAD~1", "--head", "HEAD"}},
		{"working-tree", []string{"--base", "HEAD~1"}},
		{"out", []string{"--base", "HEAD~1", "--out", "examples/shop/netpol"}},
	} {
		for _, format := range []string{"text", "markdown", "json"} {
			t.Run(c.name+"/"+format, func(t *testing.T) {
				args := append([]string{"diff", "examples/shop", "-o", format}, c.args...)
				res := run(t, g.Dir, args...)
				if res.code != 1 {
					t.Fatalf("exit %d, want 1; stdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
				}
				if !strings.Contains(res.stderr, staleWarning) {
					t.Errorf("stderr does not say the tree is stale (%q):\n%s", staleWarning, res.stderr)
				}
				if !strings.Contains(res.stdout, "9090") {
					t.Errorf("the widened port is not in the report:\n%s", res.stdout)
				}
				if format == "text" {
					if !containsFlow(res.stdout, "+", "storefront/frontend", "storefront/cart", "9090/TCP") {
						t.Errorf("no added flow storefront/frontend -> storefront/cart 9090/TCP:\n%s", res.stdout)
					}
					if !strings.Contains(res.stdout, shopTree) {
						t.Errorf("the report does not name the stale tree:\n%s", res.stdout)
					}
				}
			})
		}
	}
}

// containsFlow finds a text-format flow line, whatever its padding and
// whatever follows the ports.
func containsFlow(out, sign, from, to, ports string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 && f[0] == sign && f[1] == from && f[2] == "->" && f[3] == to && f[4] == ports {
			return true
		}
	}
	return false
}

// cartSpec and cartMoved move cart to another port in its dependency file:
// a spec change that regenerating turns into new policies.
const (
	cartSpec  = "examples/shop/teams/storefront/deps.yaml"
	cartPort  = "      grpc: 7070\n"
	cartMoved = "      grpc: 7071\n"
)

// TestDiffCommittedTreeGolden is the hand edit's whole report in every
// format, byte for byte.
func TestDiffCommittedTreeGolden(t *testing.T) {
	g := shopRepo(t)
	editFile(t, g, cartPolicy, cartIngress, cartWidened)
	g.Commit("hand edit: cart admits 9090")
	for _, format := range []string{"text", "markdown", "json"} {
		t.Run(format, func(t *testing.T) {
			res := run(t, g.Dir, "diff", "examples/shop", "--base", "HEAD~1", "--head", "HEAD", "-o", format)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", res.code, res.stderr)
			}
			want := "warning: examples/shop/netpol is out of date at HEAD (<commit 2>): generate would write 1 file to change there; " +
				"the flows compare what the committed tree enforces, not the dependency files\n" +
				"run `netdep generate examples/shop --out examples/shop/netpol` to update it\n"
			if got := g.Scrub(res.stderr); got != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
			}
			ext := map[string]string{"text": ".txt", "markdown": ".md", "json": ".json"}[format]
			checkGolden(t, filepath.Join("diff", "tree-hand-edit"+ext), g.Scrub(res.stdout))
		})
	}
}

// TestDiffFreshTree: when every revision's tree is what generate writes,
// reading the trees changes nothing but the line saying so: the flows and
// policies are those of the regenerated comparison, and nothing is stale.
func TestDiffFreshTree(t *testing.T) {
	g := shopRepo(t)
	editFile(t, g, cartSpec, cartPort, cartMoved)
	if res := run(t, g.Dir, "generate", "examples/shop", "--out", shopTree, "--quiet"); res.code != 0 {
		t.Fatalf("generate: exit %d: %s", res.code, res.stderr)
	}
	g.Commit("cart moves to 7071, regenerated")

	trees := run(t, g.Dir, "diff", "examples/shop", "--base", "HEAD~1", "-o", "json")
	// A directory holding no tree: both sides are generated, as before
	// trees were read.
	generated := run(t, g.Dir, "diff", "examples/shop", "--base", "HEAD~1", "-o", "json", "--out", "no-tree-here")
	for _, res := range []result{trees, generated} {
		if res.code != 1 || res.stderr != "" {
			t.Fatalf("exit %d, want 1 and nothing on stderr:\n%s", res.code, res.stderr)
		}
	}
	var a, b struct {
		Base, Head   map[string]any
		StaleTree    any
		Environments []any
	}
	mustUnmarshal(t, trees.stdout, &a)
	mustUnmarshal(t, generated.stdout, &b)
	if a.Base["tree"] != shopTree || a.Head["tree"] != shopTree || b.Base["tree"] != nil || b.Head["tree"] != nil {
		t.Errorf("tree of the sides: read %v %v, generated %v %v", a.Base["tree"], a.Head["tree"], b.Base["tree"], b.Head["tree"])
	}
	if a.StaleTree != nil {
		t.Errorf("a fresh tree reported stale: %v", a.StaleTree)
	}
	if diff := cmp.Diff(b.Environments, a.Environments); diff != "" {
		t.Errorf("reading fresh trees changed the report (-generated +trees):\n%s", diff)
	}
	if !strings.Contains(trees.stdout, `"port": 7071`) {
		t.Errorf("the moved port is not in the report:\n%s", trees.stdout)
	}
}

// TestDiffStaleSpecs: a dependency file edited without regenerating the
// tree changes nothing the cluster enforces, and the report says why: the
// tree is stale, which fails the job.
func TestDiffStaleSpecs(t *testing.T) {
	g := shopRepo(t)
	editFile(t, g, cartSpec, cartPort, cartMoved)
	res := run(t, g.Dir, "diff", "examples/shop", "--base", "HEAD")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", res.code, res.stderr)
	}
	// cart's policy in the base and its staged copy in dev's standalone
	// overlay (calico, mode: audit), and the same for its caller frontend.
	want := "warning: examples/shop/netpol is out of date in the working tree: generate would write 4 files to change there; " +
		"the flows compare what the committed tree enforces, not the dependency files\n" +
		"run `netdep generate examples/shop --out examples/shop/netpol` to update it\n"
	if res.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", res.stderr, want)
	}
	for _, s := range []string{"STALE TREE: examples/shop/netpol", "dev (audit: would be)  no change", "prod, staging          no change", "changed  base/storefront/cart.yaml", "changed  overlays/dev/storefront/cart.staged.yaml"} {
		if !strings.Contains(res.stdout, s) {
			t.Errorf("stdout does not hold %q:\n%s", s, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "flows added") || strings.Contains(res.stdout, "7071") {
		t.Errorf("flows reported that no tree enforces:\n%s", res.stdout)
	}
}

func mustUnmarshal(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v:\n%s", err, s)
	}
}

// TestDiffFromSubdirectory: run in examples/shop, diff --base finds the
// repository above and names the spec files from its root, as the
// committed tree does, so an unchanged tree is fresh there too, and a
// spec change shows as the change it is (wrong-first: before, every
// policy's netdep.io/source differed and the tree was called stale).
func TestDiffFromSubdirectory(t *testing.T) {
	g := shopRepo(t)
	shop := filepath.Join(g.Dir, "examples", "shop")
	res := run(t, shop, "diff", "--base", "HEAD", ".")
	if res.code != 0 || res.stderr != "" || !strings.Contains(res.stdout, "no changes") {
		t.Errorf("diff --base HEAD in examples/shop: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if res := run(t, shop, "diff", "--out", "netpol", "."); res.code != 0 {
		t.Errorf("diff --out netpol in examples/shop: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	editFile(t, g, cartSpec, cartPort, cartMoved)
	res = run(t, shop, "diff", "--base", "HEAD", ".")
	if res.code != 1 || !strings.Contains(res.stdout, "generate would write 4 files to change") || !strings.Contains(res.stdout, "changed  base/storefront/cart.yaml") {
		t.Errorf("diff --base HEAD after moving cart's port: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
}
