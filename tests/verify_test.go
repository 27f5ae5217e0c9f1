package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyExamples(t *testing.T) {
	root := repoRoot(t)
	for _, ex := range examples(t) {
		res := run(t, root, "verify", "examples/"+ex, "--out", "examples/"+ex+"/netpol")
		if res.code != 0 {
			t.Errorf("%s: exit %d\n%s%s", ex, res.code, res.stdout, res.stderr)
		}
		if !strings.Contains(res.stdout, "exact") {
			t.Errorf("%s: output does not say exact:\n%s", ex, res.stdout)
		}
	}
}

// TestVerifyCatchesHandEdit: a port widened by hand in the committed tree is
// reported as excess, with the rule responsible, and exits 1.
func TestVerifyCatchesHandEdit(t *testing.T) {
	root := repoRoot(t)
	out := t.TempDir() + "/netpol"
	if res := run(t, root, "generate", "examples/seed", "--out", out, "--quiet"); res.code != 0 {
		t.Fatalf("generate: %s", res.stderr)
	}
	f := filepath.Join(out, "base/default/my-app.yaml")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), "    - port: 80\n", "    - port: 80\n      endPort: 90\n", 1)
	if edited == string(b) {
		t.Fatal("test fixture: port 80 not found in my-app.yaml")
	}
	if err := os.WriteFile(f, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "json"} {
		res := run(t, root, "verify", "examples/seed", "--out", out, "-o", format)
		if res.code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s", format, res.code, res.stderr)
		}
		checkGolden(t, "verify-hand-edit."+format, res.stdout)
	}
}

// TestVerifyNamespaceLabels: hand-written policies whose cross-namespace
// peers select namespaces by a team label are exact when the Namespace
// objects carrying that label are given with --manifests, and miss the
// declared flow when they are not (a namespace then has only its name
// label, as verify cannot know the cluster's).
func TestVerifyNamespaceLabels(t *testing.T) {
	root := repoRoot(t)
	const dir = "tests/testdata/namespace-labels"
	for _, tc := range []struct {
		name      string
		manifests string
		code      int
	}{
		{"with-namespaces", dir + "/policies," + dir + "/namespaces", 0},
		{"without-namespaces", dir + "/policies", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"verify", dir + "/spec", "--manifests", tc.manifests}
			res := run(t, root, args...)
			if res.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tc.code, res.stdout, res.stderr)
			}
			checkGolden(t, "namespace-labels/verify-"+tc.name+".txt", transcript(args, res))
		})
	}
}
