package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// transcript is what a golden file of this file holds: the command line, its
// stdout and stderr, and its exit code, so a reviewer reads the whole story.
func transcript(args []string, res result) string {
	var b strings.Builder
	b.WriteString("$ netdep " + strings.Join(args, " ") + "\n")
	b.WriteString(res.stdout)
	if res.stderr != "" {
		b.WriteString("--- stderr\n" + res.stderr)
	}
	b.WriteString("--- exit " + strconv.Itoa(res.code) + "\n")
	return b.String()
}

// TestGraph draws every example in both formats; the committed pictures
// under examples/ must be what the command draws.
func TestGraph(t *testing.T) {
	root := repoRoot(t)
	for _, ex := range []string{"seed", "shop"} {
		for _, format := range []string{"mermaid", "dot"} {
			t.Run(ex+"/"+format, func(t *testing.T) {
				args := []string{"graph", "examples/" + ex, "-o", format}
				res := run(t, root, args...)
				if res.code != 0 {
					t.Fatalf("exit %d:\n%s", res.code, res.stderr)
				}
				ext := map[string]string{"mermaid": "mmd", "dot": "dot"}[format]
				checkGolden(t, "ergonomics/graph-"+ex+"."+ext, res.stdout)
				if format == "mermaid" {
					checkExamplePicture(t, ex, res.stdout)
				}
				if again := run(t, root, args...); again.stdout != res.stdout {
					t.Errorf("a second run drew a different picture")
				}
			})
		}
	}
	t.Run("shop/prod", func(t *testing.T) {
		args := []string{"graph", "examples/shop", "--env", "prod"}
		res := run(t, root, args...)
		checkGolden(t, "ergonomics/graph-shop-prod.mmd", transcript(args, res))
	})
	t.Run("bad format", func(t *testing.T) {
		res := run(t, root, "graph", "examples/seed", "-o", "png")
		if res.code != 2 || !strings.Contains(res.stderr, "-o/--output must be mermaid or dot") {
			t.Errorf("exit %d, stderr %q; want 2 and a -o/--output message", res.code, res.stderr)
		}
	})
	t.Run("unknown env", func(t *testing.T) {
		res := run(t, root, "graph", "examples/shop", "--env", "qa")
		if res.code != 2 || !strings.Contains(res.stderr, `unknown environment "qa"`) {
			t.Errorf("exit %d, stderr %q; want 2 and an unknown environment message", res.code, res.stderr)
		}
	})
}

// checkExamplePicture compares the committed examples/<ex>/graph.mmd with
// what graph draws, and checks that graph.svg (drawn by make graphs with
// Graphviz, which tests do not need) names every service.
func checkExamplePicture(t *testing.T, ex, mermaid string) {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "examples", ex)
	mmd := filepath.Join(dir, "graph.mmd")
	if *update {
		if err := os.WriteFile(mmd, []byte(mermaid), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(mmd)
	if err != nil {
		t.Fatalf("%v (run make graphs)", err)
	}
	if string(got) != mermaid {
		t.Errorf("%s is stale: run make graphs", mmd)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "graph.svg"))
	if err != nil {
		t.Fatalf("%v (run make graphs)", err)
	}
	for _, m := range regexp.MustCompile(`\["([a-z0-9-]+)`).FindAllStringSubmatch(mermaid, -1) {
		if !strings.Contains(string(svg), ">"+strings.ReplaceAll(m[1], "-", "&#45;")) {
			t.Errorf("%s/graph.svg does not show %q: run make graphs", dir, m[1])
		}
	}
}

// TestExplain asks about connections the examples allow and deny, and
// checks the verdict, the deciding policies and rules, and the exit code.
func TestExplain(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"allowed", []string{"storefront/frontend", "storefront/cart:grpc", "examples/shop", "--env", "dev"}, 0},
		{"allowed-every-environment", []string{"checkout/checkout", "payments/payment:50051", "examples/shop"}, 0},
		{"denied-by-isolation", []string{"storefront/*", "storefront/cart", "examples/shop", "--env", "prod"}, 1},
		{"denied-missing-rule", []string{"storefront/frontend", "storefront/cart:7071", "examples/shop", "--env", "dev"}, 1},
		{"denied-other-direction", []string{"storefront/cart", "checkout/checkout:http", "examples/shop", "--env", "staging"}, 1},
		{"every-declared-port", []string{"monitoring/prometheus", "storefront/frontend", "examples/shop", "--env", "dev"}, 1},
		{"allowed-by-dns", []string{"storefront/frontend", "kube-system/{k8s-app=kube-dns}:53/UDP", "examples/shop", "--env", "dev"}, 0},
		{"dns-address", []string{"storefront/frontend", "169.254.20.10:53/UDP", "examples/shop", "--env", "prod"}, 0},
		{"address-peer", []string{"payments/payment", "198.51.100.7:443", "examples/shop"}, 0},
		{"address-outside-peer", []string{"payments/payment", "198.51.100.200:443", "examples/shop", "--env", "prod"}, 1},
		{"address-source", []string{"203.0.113.9", "default/my-app", "examples/seed"}, 1},
		{"raw-peer", []string{"checkout/order-export", "monitoring/{app=pushgateway}:9091", "examples/shop", "--env", "dev"}, 0},
		{"ingress-only-namespace", []string{"catalog/recommendation", "198.51.100.7:443", "examples/shop", "--env", "dev"}, 0},
		{"environment-limited", []string{"frontend", "storefront/toolbox", "examples/shop"}, 0},
		{"generated-tree", []string{"default/trusted-app", "default/my-app:http", "examples/seed", "--out", "examples/seed/netpol"}, 0},
		{"manifests", []string{"default/trusted-app", "default/my-app:80", "examples/seed", "--manifests", "examples/seed/netpol/base"}, 0},
		{"unknown-service", []string{"storefront/frontend", "storefront/carts", "examples/shop", "--env", "dev"}, 2},
		{"unknown-port-name", []string{"storefront/frontend", "storefront/cart:http", "examples/shop", "--env", "dev"}, 2},
		{"manifests-denied", []string{"default/my-app", "default/trusted-app:80", "examples/seed", "--manifests", "examples/seed/netpol/base"}, 1},
		{"address-needs-port", []string{"storefront/frontend", "10.0.0.1", "examples/shop", "--env", "dev"}, 2},
		{"manifests-namespace-labels", []string{"web/frontend", "api/api", "tests/testdata/namespace-labels/spec",
			"--manifests", "tests/testdata/namespace-labels/policies", "--manifests", "tests/testdata/namespace-labels/namespaces"}, 0},
		{"manifests-without-namespace-labels", []string{"web/frontend", "api/api", "tests/testdata/namespace-labels/spec",
			"--manifests", "tests/testdata/namespace-labels/policies"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"explain"}, tc.args...)
			res := run(t, root, args...)
			if res.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tc.code, res.stdout, res.stderr)
			}
			checkGolden(t, "ergonomics/explain-"+tc.name+".txt", transcript(args, res))
		})
	}
}

// TestInit scaffolds with flags (stdin is not a terminal, so nothing is
// asked), compares the files with goldens, generates and verifies them, and
// checks that a second run refuses to overwrite.
func TestInit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		files []string
	}{
		{"defaults", nil, []string{"netdep.yaml", "deps.yaml"}}, // DIR is named after the namespace: no DIR/NAME/NAME
		{"flags", []string{"--namespace", "shop", "--service", "frontend", "--service", "cart", "--service", "cart-redis", "--port", "7070", "--environments", "dev,staging,prod"},
			[]string{"netdep.yaml", "shop/deps.yaml"}},
		{"no-environments", []string{"--namespace", "tools", "--environments", ""}, []string{"tools/deps.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "scaffold")
			args := append([]string{"init", dir}, tc.args...)
			res := run(t, filepath.Dir(dir), args...)
			if res.code != 0 {
				t.Fatalf("init exited %d:\n%s", res.code, res.stderr)
			}
			got := readTree(t, dir)
			if len(got) != len(tc.files) {
				t.Errorf("init wrote %d files, want %v", len(got), tc.files)
			}
			for _, f := range tc.files {
				b, ok := got[f]
				if !ok {
					t.Errorf("init did not write %s", f)
					continue
				}
				// .golden: a deps.yaml in testdata would be a netdep file.
				checkGolden(t, "ergonomics/init-"+tc.name+"/"+f+".golden", string(b))
			}

			out := filepath.Join(t.TempDir(), "netpol")
			if res := run(t, dir, "generate", ".", "--out", out, "--strict"); res.code != 0 {
				t.Fatalf("the scaffold does not generate (exit %d):\n%s", res.code, res.stderr)
			}
			if res := run(t, dir, "verify", ".", "--out", out); res.code != 0 {
				t.Errorf("the scaffold does not verify (exit %d):\n%s%s", res.code, res.stdout, res.stderr)
			}

			again := run(t, filepath.Dir(dir), args...)
			if again.code != 2 || !strings.Contains(again.stderr, "never overwrites") {
				t.Errorf("second init: exit %d, stderr %q; want 2 and a refusal", again.code, again.stderr)
			}
			compareTrees(t, got, readTree(t, dir), "the scaffold before the refused run")
		})
	}
}

// TestInitRefusesPartly: one existing file is enough to write nothing.
func TestInitRefusesPartly(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "netdep.yaml"), []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, dir, "init", ".", "--namespace", "shop")
	if res.code != 2 {
		t.Errorf("exit %d, want 2", res.code)
	}
	if _, err := os.Stat(filepath.Join(dir, "shop")); !os.IsNotExist(err) {
		t.Errorf("init wrote shop/ although netdep.yaml existed")
	}
}

// TestInitBadNames: invalid names are usage errors, all reported at once.
func TestInitBadNames(t *testing.T) {
	dir := t.TempDir()
	res := run(t, dir, "init", ".", "--namespace", "Shop", "--service", "allow-dns", "--environments", "dev,Prod")
	if res.code != 2 {
		t.Errorf("exit %d, want 2", res.code)
	}
	for _, want := range []string{`namespace "Shop"`, `service "allow-dns"`, `environment "Prod"`} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %s:\n%s", want, res.stderr)
		}
	}
	if files := readTree(t, dir); len(files) > 0 {
		t.Errorf("init wrote %v", files)
	}
}

// TestCompletion: cobra's completion command exists for every shell, and
// the dynamic completions offer services and environments.
func TestCompletion(t *testing.T) {
	root := repoRoot(t)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run(shell, func(t *testing.T) {
			res := run(t, root, "completion", shell)
			if res.code != 0 || !strings.Contains(res.stdout, "netdep") || len(res.stdout) < 500 {
				t.Errorf("exit %d, %d bytes; want a script naming netdep\n%s", res.code, len(res.stdout), res.stderr)
			}
		})
	}
	shop := filepath.Join(root, "examples", "shop")
	for _, tc := range []struct {
		name string
		dir  string
		args []string
		want []string
		not  []string
	}{
		{"explain SRC", shop, []string{"explain", "storefront/"}, []string{"storefront/cart", "storefront/frontend", "storefront/toolbox", "storefront/*"}, []string{"catalog/catalog"}},
		{"explain DST port", shop, []string{"explain", "storefront/frontend", "storefront/cart:"}, []string{"storefront/cart:grpc"}, nil},
		{"explain PATH", shop, []string{"explain", "a", "b", ""}, nil, []string{"storefront/cart"}},
		{"explain --env", shop, []string{"explain", "a", "b", "--env", ""}, []string{"dev", "prod", "staging"}, nil},
		{"graph --env with PATH", root, []string{"graph", "examples/shop", "--env", "p"}, []string{"prod"}, []string{"dev"}},
		{"graph -o", root, []string{"graph", "-o", ""}, []string{"mermaid", "dot"}, nil},
		{"render --namespace", root, []string{"render", "examples/shop", "--env", "prod", "--namespace", ""}, []string{"catalog", "checkout", "payments", "storefront"}, []string{"monitoring", "ingress-nginx"}},
		{"explain SRC, no files", t.TempDir(), []string{"explain", ""}, nil, []string{"storefront/cart"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, tc.dir, append([]string{"__complete"}, tc.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d:\n%s", res.code, res.stderr)
			}
			lines := strings.Split(res.stdout, "\n")
			for _, w := range tc.want {
				if !slices.Contains(lines, w) {
					t.Errorf("completions lack %q:\n%s", w, res.stdout)
				}
			}
			for _, n := range tc.not {
				if slices.Contains(lines, n) {
					t.Errorf("completions offer %q:\n%s", n, res.stdout)
				}
			}
		})
	}
}
