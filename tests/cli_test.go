// Package tests holds netdep's black-box tests: the CLI run on whole input
// trees, its output compared with committed golden trees, file by file.
package tests

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/cmd/netdep/app"
	"github.com/netdep/netdep/generator/kustomize"

	"github.com/netdep/netdep/tests/golden"
)

// update is tests/golden's one -update flag: it also rewrites the example
// trees from the current output.
var update = golden.Update

// root is the repository: go test runs a package's tests in its directory,
// tests/, and this is read before any test changes directory.
var root = func() string {
	abs, err := filepath.Abs("..")
	if err != nil {
		panic(err)
	}
	return abs
}()

// repoRoot is where netdep runs in these tests, as it does in CI: paths in
// messages and annotations are relative to it.
func repoRoot(t *testing.T) string {
	t.Helper()
	return root
}

type result struct {
	code           int
	stdout, stderr string
}

// run executes netdep in dir with args, in process.
func run(t *testing.T, dir string, args ...string) result {
	t.Helper()
	t.Chdir(dir)
	var out, errb bytes.Buffer
	code := app.Main(args, app.Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// readTree returns every regular file under dir (hidden ones included) as
// slash paths relative to dir.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return files
}

// compareTrees fails for every missing, extra or different file.
func compareTrees(t *testing.T, want, got map[string][]byte, wantName string) {
	t.Helper()
	var paths []string
	seen := map[string]bool{}
	for p := range want {
		paths, seen[p] = append(paths, p), true
	}
	for p := range got {
		if !seen[p] {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		w, inWant := want[p]
		g, inGot := got[p]
		switch {
		case !inGot:
			t.Errorf("%s: missing from the output", p)
		case !inWant:
			t.Errorf("%s: not in %s (run go test ./tests -update)", p, wantName)
		case !bytes.Equal(w, g):
			t.Errorf("%s differs from %s (-want +got):\n%s", p, wantName, cmp.Diff(string(w), string(g)))
		}
	}
}

func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func examples(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repoRoot(t), "examples"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) < 2 {
		t.Fatalf("expected at least the seed and shop examples, found %v", out)
	}
	return out
}

// TestExamples generates every example and compares the result with the tree
// committed beside it: the committed tree is the golden.
func TestExamples(t *testing.T) {
	root := repoRoot(t)
	for _, ex := range examples(t) {
		t.Run(ex, func(t *testing.T) {
			out := t.TempDir() + "/netpol"
			res := run(t, root, "generate", "examples/"+ex, "--out", out, "--quiet")
			if res.code != 0 {
				t.Fatalf("generate exited %d:\n%s", res.code, res.stderr)
			}
			if res.stdout != "" || res.stderr != "" {
				t.Errorf("--quiet printed: stdout %q stderr %q", res.stdout, res.stderr)
			}
			got := readTree(t, out)
			golden := filepath.Join(root, "examples", ex, "netpol")
			if *update {
				writeTree(t, golden, got)
			}
			compareTrees(t, readTree(t, golden), got, golden)
		})
	}
}

// policyKind is a rendered object's kind line of any policy kind netdep
// writes (NetworkPolicy, StagedKubernetesNetworkPolicy, ...).
var policyKind = regexp.MustCompile(`(?m)^kind: \w*NetworkPolicy$`)

// TestOverlaysRender builds every kustomization root of every example with
// krusty in memory and, where kubectl is installed, with `kubectl kustomize`
// on disk: both must succeed, agree, and kubectl must not warn.
func TestOverlaysRender(t *testing.T) {
	root := repoRoot(t)
	kubectl, kubectlErr := exec.LookPath("kubectl")
	for _, ex := range examples(t) {
		dir := filepath.Join(root, "examples", ex, "netpol")
		files := readTree(t, dir)
		delete(files, kustomize.MarkerName) // NewTree writes its own
		tree, err := kustomize.NewTree(files)
		if err != nil {
			t.Fatalf("%s: %v", ex, err)
		}
		for _, target := range renderTargets(files) {
			t.Run(ex+"/"+target, func(t *testing.T) {
				krusty, err := kustomize.Render(tree, target)
				if err != nil {
					t.Fatalf("krusty: %v", err)
				}
				// An audit environment on calico renders staged policies only.
				if !policyKind.Match(krusty) {
					t.Fatalf("krusty rendered no policy:\n%s", krusty)
				}
				if kubectlErr != nil {
					t.Skipf("kubectl not installed (%v): krusty render checked only", kubectlErr)
				}
				cmd := exec.Command(kubectl, "kustomize", filepath.Join(dir, target))
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("kubectl kustomize: %v\n%s", err, stderr.String())
				}
				if stderr.Len() > 0 {
					t.Errorf("kubectl kustomize warned:\n%s", stderr.String())
				}
				if diff := cmp.Diff(string(krusty), stdout.String()); diff != "" {
					t.Errorf("krusty and kubectl kustomize disagree (-krusty +kubectl):\n%s", diff)
				}
			})
		}
	}
}

// renderTargets are the directories holding a kustomization.yaml.
func renderTargets(files map[string][]byte) []string {
	var out []string
	for p := range files {
		if filepath.Base(p) == "kustomization.yaml" {
			out = append(out, filepath.Dir(p))
		}
	}
	sort.Strings(out)
	return out
}

// TestDeterminism: the same input gives the same bytes, whatever order the
// files are named in.
func TestDeterminism(t *testing.T) {
	root := repoRoot(t)
	var files []string
	err := filepath.WalkDir(filepath.Join(root, "examples", "shop"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "netpol" || d.Name() == "deploy") {
			return filepath.SkipDir // generated tree, Argo CD and Flux files
		}
		if !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	reversed := append([]string(nil), files...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	gen := func(args []string) map[string][]byte {
		out := t.TempDir() + "/netpol"
		res := run(t, root, append([]string{"generate", "--quiet", "--out", out}, args...)...)
		if res.code != 0 {
			t.Fatalf("generate %v exited %d:\n%s", args, res.code, res.stderr)
		}
		return readTree(t, out)
	}
	first := gen(files)
	compareTrees(t, first, gen(files), "the first run")
	compareTrees(t, first, gen(reversed), "the run with files in sorted order")
}

// TestRegenerateUpToDate: generating again into an up-to-date tree says so
// and rewrites no file (an inode would change); after a hand edit the tree
// is written again.
func TestRegenerateUpToDate(t *testing.T) {
	root := repoRoot(t)
	out := t.TempDir() + "/netpol"
	gen := func() string {
		t.Helper()
		res := run(t, root, "generate", "examples/shop", "--out", out)
		if res.code != 0 {
			t.Fatalf("generate exited %d:\n%s", res.code, res.stderr)
		}
		return res.stdout
	}
	const summary = "14 policies in base, dev +7, prod +9, staging +5\n"
	if got := gen(); got != "wrote "+out+": "+summary {
		t.Errorf("first run printed %q", got)
	}
	file := filepath.Join(out, "base", "catalog", "catalog.yaml")
	before, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := gen(); got != out+" is up to date: "+summary {
		t.Errorf("second run printed %q", got)
	}
	if after, err := os.Stat(file); err != nil || !os.SameFile(before, after) {
		t.Errorf("an up-to-date run rewrote %s (%v)", file, err)
	}
	if err := os.WriteFile(file, []byte("# edited by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := gen(); got != "wrote "+out+": "+summary {
		t.Errorf("run after a hand edit printed %q", got)
	}
	compareTrees(t, readTree(t, filepath.Join(root, "examples/shop/netpol")), readTree(t, out), "the committed tree")
}

// TestBadInputWritesNothing: every problem of every file is reported at once,
// sorted, with exit code 2, and an existing tree is left exactly as it was.
func TestBadInputWritesNothing(t *testing.T) {
	root := repoRoot(t)
	out := t.TempDir() + "/netpol"
	if res := run(t, root, "generate", "examples/seed", "--out", out, "--quiet"); res.code != 0 {
		t.Fatalf("seed: exit %d\n%s", res.code, res.stderr)
	}
	before := readTree(t, out)
	res := run(t, root, "generate", "tests/testdata/bad-input", "--out", out)
	if res.code != 2 {
		t.Errorf("exit code = %d, want 2", res.code)
	}
	if res.stdout != "" {
		t.Errorf("stdout = %q, want nothing", res.stdout)
	}
	golden := filepath.Join(root, "tests/testdata/bad-input.stderr")
	if *update {
		if err := os.WriteFile(golden, []byte(res.stderr), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("missing golden (run with -update): %v", err)
	}
	if res.stderr != string(want) {
		t.Errorf("stderr differs from %s (-want +got):\n%s", golden, cmp.Diff(string(want), res.stderr))
	}
	compareTrees(t, before, readTree(t, out), "the tree before the failed run")
}

// TestUsageErrors: command-line mistakes exit 2 with a hint.
func TestUsageErrors(t *testing.T) {
	root := repoRoot(t)
	for _, args := range [][]string{
		{"generate", "--no-such-flag"},
		{"no-such-command"},
		{"version", "extra"},
	} {
		res := run(t, root, args...)
		if res.code != 2 {
			t.Errorf("netdep %v: exit %d, want 2", args, res.code)
		}
		if !strings.Contains(res.stderr, "netdep:") {
			t.Errorf("netdep %v: stderr %q lacks an error line", args, res.stderr)
		}
	}
}
