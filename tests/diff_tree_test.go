package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
				args := append([]string{"diff", "examples/shop", "--format", format}, c.args...)
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
					if !containsFlow(res.stdout, "+", "storefront/frontend", "storefront/cart", "TCP/9090") {
						t.Errorf("no added flow storefront/frontend -> storefront/cart TCP/9090:\n%s", res.stdout)
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
