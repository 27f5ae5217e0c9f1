package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/netdep/netdep/generator/gitrev/gitrevtest"

	"github.com/netdep/netdep/tests/golden"
)

// The fixture project: two environments, a shop namespace calling payments,
// a batch namespace that reaches an external CIDR, and unmanaged platform
// namespaces.
const (
	fxProject = `netdep: v1
cluster:
  dns: {namespace: kube-system, selector: {k8s-app: kube-dns}, ports: [53/UDP, 53/TCP]}
  cidrs: {partner: [203.0.113.0/24]}
environments:
  dev: {}
  prod: {}
`
	fxShop = `netdep: v1
namespace: shop
services:
  frontend:
    ports: {http: 8080}
    calls:
      - cart:grpc
    from:
      - ingress-nginx/controller:http
  cart:
    ports: {grpc: 7070}
`
	fxShopPays = `netdep: v1
namespace: shop
services:
  frontend:
    ports: {http: 8080}
    calls:
      - cart:grpc
      - payments/payment:grpc
    from:
      - ingress-nginx/controller:http
  cart:
    ports: {grpc: 7070}
`
	// fxShopDebug adds a dev-only debugging call and moves cart to 7071.
	fxShopDebug = `netdep: v1
namespace: shop
services:
  frontend:
    ports: {http: 8080}
    calls:
      - cart:grpc
      - payments/payment:grpc
      - {to: cart:debug, environments: [dev]}
    from:
      - ingress-nginx/controller:http
  cart:
    ports: {grpc: 7071, debug: 6060}
`
	fxPayments = `netdep: v1
namespace: payments
services:
  payment:
    ports: {grpc: 50051}
`
	fxBatch = `netdep: v1
namespace: batch
isolate: [egress]
services:
  report:
    calls:
      - {cidr: partner, except: [203.0.113.8/29], ports: [443]}
      - payments/payment:grpc
`
	fxPlatform = `netdep: v1
namespace: ingress-nginx
managed: false
services:
  controller:
    selector: {app.kubernetes.io/name: ingress-nginx}
`
)

// diffRepo builds the history every diff scenario reads:
//
//	v1 (tag)   initial: shop, payments, batch, platform
//	main       shop calls payments
//	feature~1  payments.yaml renamed to payments/deps.yaml (branch feature)
//	feature    batch deleted
//	worktree   uncommitted: a dev-only debug call, cart moves port
//
// It returns the repository and the hash of the first commit.
func diffRepo(t *testing.T) (*gitrevtest.Repo, plumbing.Hash) {
	g := gitrevtest.New(t)
	g.Write("netdep.yaml", fxProject)
	g.Write("teams/shop.yaml", fxShop)
	g.Write("teams/payments.yaml", fxPayments)
	g.Write("teams/batch.yaml", fxBatch)
	g.Write("teams/platform.yaml", fxPlatform)
	g.Write("README.md", "not a dependency file\n")
	first := g.Commit("initial")
	g.Tag("v1")
	g.Write("teams/shop.yaml", fxShopPays)
	g.Commit("shop calls payments")
	g.Branch("feature")
	g.Rename("teams/payments.yaml", "teams/payments/deps.yaml")
	g.Commit("move payments into its own directory")
	g.Remove("teams/batch.yaml")
	g.Commit("retire batch")
	g.Write("teams/shop.yaml", fxShopDebug)
	return g, first
}

// TestDiffRevisions runs `netdep diff --base` on real git history and
// compares every format with golden files, byte for byte.
func TestDiffRevisions(t *testing.T) {
	g, first := diffRepo(t)
	short := first.String()[:7]
	type tc struct {
		name string
		dir  string // relative to the repository, "" for its root
		args []string
		code int // for text, markdown and json alike
	}
	cases := []tc{
		// A tag against a branch: a new cross-namespace flow.
		{name: "tag-to-branch", args: []string{"--base", "v1", "--head", "main"}, code: 1},
		// A renamed dependency file: the source annotations move, no flow.
		{name: "renamed-file", args: []string{"--base", "main", "--head", "feature~1"}, code: 1},
		// A deleted namespace: its policies go, and with them its isolation.
		{name: "deleted-namespace", args: []string{"--base", "HEAD~1", "--head", "feature"}, code: 1},
		// The working tree, uncommitted changes included, against HEAD.
		{name: "uncommitted", args: []string{"--base", "HEAD"}, code: 1},
		// From a subdirectory: paths are shown relative to it on both sides.
		{name: "uncommitted-subdir", dir: "teams", args: []string{"--base", "feature", ".."}, code: 1},
		// A short hash and a tag naming the same commit: nothing changes.
		{name: "no-change", args: []string{"--base", short, "--head", "v1"}, code: 0},
	}
	for _, c := range cases {
		for _, format := range []string{"text", "markdown", "json"} {
			t.Run(c.name+"/"+format, func(t *testing.T) {
				args := append([]string{"diff", "-o", format}, c.args...)
				res := run(t, filepath.Join(g.Dir, c.dir), args...)
				if res.code != c.code {
					t.Fatalf("exit %d, want %d; stderr:\n%s", res.code, c.code, res.stderr)
				}
				if res.stderr != "" {
					t.Errorf("stderr: %s", res.stderr)
				}
				ext := map[string]string{"text": ".txt", "markdown": ".md", "json": ".json"}[format]
				checkGolden(t, filepath.Join("diff", c.name+ext), g.Scrub(res.stdout))
			})
		}
	}
	t.Run("color", func(t *testing.T) {
		res := run(t, g.Dir, "diff", "--base", "v1", "--head", "main", "--color=always")
		if res.code != 1 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		checkGolden(t, "diff/tag-to-branch.color.txt", g.Scrub(res.stdout))
	})
	t.Run("exit-code=false", func(t *testing.T) {
		res := run(t, g.Dir, "diff", "--base", "v1", "--head", "main", "--exit-code=false", "-o", "json")
		if res.code != 0 || !strings.Contains(res.stdout, `"changed": true`) {
			t.Fatalf("exit %d, stdout:\n%s", res.code, res.stdout)
		}
	})
}

// TestDiffErrors covers what a CI job meets: a base it did not fetch, a
// revision that does not exist, no repository at all, contradictory flags.
func TestDiffErrors(t *testing.T) {
	g, _ := diffRepo(t)
	cases := []struct {
		name   string
		dir    string
		args   []string
		stderr string
	}{
		{"missing-base", g.Dir, []string{"--base", "origin/main"},
			"netdep: revision \"origin/main\" not found in the repository; fetch it first, e.g. `git fetch --no-tags --depth=50 origin main`, or check out with `fetch-depth: 0` in actions/checkout\n"},
		{"missing-ancestor", g.Dir, []string{"--base", "HEAD~40"},
			"netdep: revision \"HEAD~40\" not found in the repository; fetch it first, e.g. `git fetch --no-tags --depth=50 origin main`, or check out with `fetch-depth: 0` in actions/checkout\n"},
		{"not-a-repo", t.TempDir(), []string{"--base", "main"}, ""},
		{"typo", g.Dir, []string{"--base", "mian"}, "netdep: revision \"mian\" not found in the repository (did you mean \"main\"?)\n"},
		{"head-without-base", g.Dir, []string{"--head", "main"},
			"netdep: --head needs --base: compare which revision with main?\nRun 'netdep diff --help' for usage.\n"},
		{"bad-format", g.Dir, []string{"--base", "main", "-o", "yaml"},
			"netdep: -o/--output must be text, markdown or json, not \"yaml\"\nRun 'netdep diff --help' for usage.\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, c.dir, append([]string{"diff"}, c.args...)...)
			if res.code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", res.code, res.stderr)
			}
			if c.stderr == "" {
				if !strings.Contains(res.stderr, "not inside a git repository") {
					t.Errorf("stderr: %s", res.stderr)
				}
				return
			}
			if res.stderr != c.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", res.stderr, c.stderr)
			}
		})
	}
}

// TestDiffBaseProblems: a broken file at the base revision is reported with
// git's rev:path notation, so nobody looks for it in the working tree.
func TestDiffBaseProblems(t *testing.T) {
	g := gitrevtest.New(t)
	g.Write("teams/shop.yaml", "netdep: v1\nnamespace: shop\nservices:\n  cart:\n    calls: [nowhere]\n")
	g.Commit("broken")
	g.Write("teams/shop.yaml", fxShop)
	res := run(t, g.Dir, "diff", "--base", "HEAD")
	if res.code != 2 || !strings.HasPrefix(res.stderr, "HEAD:teams/shop.yaml:5:") {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
}

// TestDiffStale is the CI staleness gate on the committed shop example.
func TestDiffStale(t *testing.T) {
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "examples/shop/netpol", kustomizeMarker)); err != nil {
		t.Fatalf("examples/shop/netpol is not a committed tree: %v", err)
	}
	t.Run("clean", func(t *testing.T) {
		res := run(t, root, "diff", "examples/shop", "--out", "examples/shop/netpol")
		if res.code != 0 || res.stdout != "examples/shop/netpol is up to date\n" || res.stderr != "" {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
	})
	// The other cases work on a copy at the same relative place, so the
	// source annotations are the committed ones.
	cases := []struct {
		name   string
		change func(t *testing.T, netpol string)
	}{
		{"hand-edited", func(t *testing.T, netpol string) {
			f := filepath.Join(netpol, "base/storefront/cart.yaml")
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.Replace(b, []byte("port: 7070"), []byte("port: 7071"), 1)
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"stray-file", func(t *testing.T, netpol string) {
			if err := os.WriteFile(filepath.Join(netpol, "base/storefront/debug.yaml"), []byte("kind: NetworkPolicy\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, filepath.Join(root, "examples/shop"), filepath.Join(dir, "examples/shop"))
			c.change(t, filepath.Join(dir, "examples/shop/netpol"))
			for _, format := range []string{"text", "json"} {
				res := run(t, dir, "diff", "examples/shop", "--out", "examples/shop/netpol", "-o", format)
				if res.code != 1 {
					t.Fatalf("exit %d, want 1; stderr:\n%s", res.code, res.stderr)
				}
				if want := "run `netdep generate examples/shop --out examples/shop/netpol` to update it\n"; res.stderr != want {
					t.Errorf("stderr %q, want %q", res.stderr, want)
				}
				ext := map[string]string{"text": ".txt", "json": ".json"}[format]
				checkGolden(t, filepath.Join("diff", "stale-"+c.name+ext), res.stdout)
			}
		})
	}
}

const kustomizeMarker = ".netdep-tree"

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	files := readTree(t, from)
	writeTree(t, to, files)
}

// checkGolden compares got with tests/testdata/<name>; -update rewrites it
// (tests/golden). Tests here run netdep from the repository's root, so the
// path is the root's, not the working directory's.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join(root, "tests", "testdata", filepath.FromSlash(name)), []byte(got))
}

// The review fixture: one change touching every behaviour of the
// pull-request comment. Three environments change alike (shown once); api's
// port widens to a range (a change of the flow, not a new one); a partner
// block may now call the edge service, the worker calls out to the internet,
// web calls the vault namespace (cross-namespace, and sensitive with
// --sensitive vault); cart is renamed basket, whose default selector
// follows the name.
const (
	rvProject = `netdep: v1
cluster:
  dns: {namespace: kube-system, selector: {k8s-app: kube-dns}, ports: [53/UDP, 53/TCP]}
environments:
  dev: {}
  prod: {}
  staging: {}
`
	rvShopBase = `netdep: v1
namespace: shop
services:
  web:
    ports: {http: 8080}
    calls:
      - api:http
      - cart:grpc
  api:
    ports: {http: 8080}
  cart:
    ports: {grpc: 7070}
  worker:
    calls:
      - api
`
	rvShopHead = `netdep: v1
namespace: shop
services:
  web:
    ports: {http: 8080}
    calls:
      - api
      - basket:grpc
      - vault/secrets:https
    from:
      - {cidr: 198.51.100.0/24, ports: [http]}
  api:
    ports: {http: "8080-8081"}
  basket:
    ports: {grpc: 7070}
  worker:
    calls:
      - api
      - {cidr: 203.0.113.0/24, ports: [443]}
`
	rvVault = `netdep: v1
namespace: vault
services:
  secrets:
    ports: {https: 8200}
`
)

func reviewRepo(t *testing.T) *gitrevtest.Repo {
	g := gitrevtest.New(t)
	g.Write("netdep.yaml", rvProject)
	g.Write("teams/shop.yaml", rvShopBase)
	g.Write("teams/vault.yaml", rvVault)
	g.Commit("initial")
	g.Branch("review")
	g.Write("teams/shop.yaml", rvShopHead)
	g.Commit("widen api, open web to the partner and vault, rename cart")
	return g
}

// TestDiffReview pins the pull-request comment of one change in every
// format: identical environments once, file:line per flow, a widened range
// as a change, risk flags and their summary, the rename warning. Its
// --fail-on cases pin the exit codes: 3 when a chosen class appears, 1 (a
// change) when none does.
func TestDiffReview(t *testing.T) {
	g := reviewRepo(t)
	for _, format := range []string{"text", "markdown", "json"} {
		t.Run(format, func(t *testing.T) {
			res := run(t, g.Dir, "diff", "-o", format, "--base", "main", "--head", "review", "--sensitive", "vault")
			if res.code != 1 || res.stderr != "" {
				t.Fatalf("exit %d, want 1; stderr:\n%s", res.code, res.stderr)
			}
			ext := map[string]string{"text": ".txt", "markdown": ".md", "json": ".json"}[format]
			checkGolden(t, filepath.Join("diff", "review"+ext), g.Scrub(res.stdout))
		})
	}
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"external", []string{"--fail-on", "external"}, 3},
		{"egress-external", []string{"--fail-on", "egress-external"}, 3},
		{"cross-namespace", []string{"--fail-on", "cross-namespace"}, 3},
		{"sensitive", []string{"--fail-on", "sensitive", "--sensitive", "vault"}, 3},
		// No namespace is sensitive: the class cannot appear.
		{"sensitive-unset", []string{"--fail-on", "sensitive"}, 1},
		{"sensitive-other", []string{"--fail-on", "sensitive", "--sensitive", "payments"}, 1},
		{"any", []string{"--fail-on", "any", "--exit-code=false"}, 3},
		{"no-change", []string{"--fail-on", "any", "--head", "main"}, 0},
	}
	for _, c := range cases {
		t.Run("fail-on/"+c.name, func(t *testing.T) {
			args := append([]string{"diff", "--base", "main", "--head", "review"}, c.args...)
			res := run(t, g.Dir, args...)
			if res.code != c.code {
				t.Fatalf("%v: exit %d, want %d; stderr:\n%s", c.args, res.code, c.code, res.stderr)
			}
			if res.stderr != "" {
				t.Errorf("stderr: %s", res.stderr)
			}
		})
	}
	t.Run("fail-on/unknown", func(t *testing.T) {
		res := run(t, g.Dir, "diff", "--base", "main", "--fail-on", "internet")
		want := "netdep: --fail-on: unknown risk class \"internet\" (expected external, egress-external, cross-namespace, sensitive or any)\nRun 'netdep diff --help' for usage.\n"
		if res.code != 2 || res.stderr != want {
			t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", res.code, res.stderr, want)
		}
	})
}

// TestDiffCleanHead: without --head, a clean working tree is HEAD and is
// named by its commit; "working tree" only once something is uncommitted.
func TestDiffCleanHead(t *testing.T) {
	g := reviewRepo(t)
	res := run(t, g.Dir, "diff", "--base", "main")
	if res.code != 1 || !strings.HasPrefix(g.Scrub(res.stdout), "netdep diff main (<commit 1>) -> HEAD (<commit 2>)\n") {
		t.Errorf("clean: exit %d\n%s%s", res.code, g.Scrub(res.stdout), res.stderr)
	}
	g.Write("teams/vault.yaml", rvVault+"  audit:\n    ports: {http: 8080}\n")
	res = run(t, g.Dir, "diff", "--base", "main")
	if res.code != 1 || !strings.HasPrefix(g.Scrub(res.stdout), "netdep diff main (<commit 1>) -> working tree\n") {
		t.Errorf("dirty: exit %d\n%s%s", res.code, g.Scrub(res.stdout), res.stderr)
	}
}
