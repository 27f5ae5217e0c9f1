package tests

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestInitInsideProject: init run inside an existing project writes only
// the dependency file (a second project file would break generate), takes
// the project's environments, does not nest DIR/NAME/NAME, and its "next:"
// command generates the whole project. Written failing first: init wrote
// payments/netdep.yaml and payments/payments/deps.yaml, and generate of the
// project then refused two project files.
func TestInitInsideProject(t *testing.T) {
	dir := t.TempDir()
	if res := run(t, dir, "init", "myteam", "--namespace", "shop", "--environments", "dev,staging", "--service", "web"); res.code != 0 {
		t.Fatalf("init myteam: exit %d\n%s", res.code, res.stderr)
	}
	team := filepath.Join(dir, "myteam")
	res := run(t, team, "init", "payments", "--service", "api")
	want := "using project file netdep.yaml (environments dev, staging)\nwrote payments/deps.yaml\nnext: edit it, then run netdep generate . --out netpol\n"
	if res.code != 0 || res.stdout != want {
		t.Fatalf("init payments in the project: exit %d\nstdout %q\nwant   %q\nstderr %s", res.code, res.stdout, want, res.stderr)
	}
	var files []string
	for p := range readTree(t, team) {
		files = append(files, p)
	}
	slices.Sort(files)
	if want := []string{"netdep.yaml", "payments/deps.yaml", "shop/deps.yaml"}; !slices.Equal(files, want) {
		t.Errorf("project files = %v, want %v", files, want)
	}
	if res := run(t, team, "generate", ".", "--out", "netpol"); res.code != 0 || res.stdout != "wrote netpol: 6 policies in base, dev +0, staging +0\n" {
		t.Errorf("the next: command: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// From a subdirectory of the project, and with environments that
	// disagree with the project's: refused, nothing written.
	res = run(t, filepath.Join(team, "payments"), "init", "../billing", "--environments", "prod")
	if res.code != 2 || res.stdout != "" {
		t.Errorf("init with other environments: exit %d, stdout %q, stderr %q; want 2", res.code, res.stdout, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(team, "billing")); err == nil {
		t.Errorf("billing was written although init refused")
	}
	// The next: hint from below names the project's directory.
	res = run(t, filepath.Join(team, "payments"), "init", "../billing", "--service", "ledger")
	if res.code != 0 || res.stdout != "using project file ../netdep.yaml (environments dev, staging)\nwrote ../billing/deps.yaml\nnext: edit it, then run netdep generate .. --out ../netpol\n" {
		t.Errorf("init ../billing: exit %d\nstdout %q\nstderr %s", res.code, res.stdout, res.stderr)
	}
}

// TestNoKustomizeInternals: a tree that is not there is named as the
// --out the user gave, never with kustomize's "evalsymlink failure"
// (written failing first: verify --out nosuch printed it).
func TestNoKustomizeInternals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "examples/seed", "--out", "nosuch"}, "netdep: --out nosuch: no such directory, so no generated tree to read (generate the tree first, or pass --out or --manifests)\n"},
		{[]string{"explain", "default/trusted-app", "default/my-app:80", "examples/seed", "--out", "nosuch"}, "netdep: --out nosuch: no such directory, so no generated tree to read\n"},
		{[]string{"verify", "examples/shop", "--out", "examples/seed/netpol", "--env", "dev"}, "netdep: --out examples/seed/netpol holds no overlays/dev: not a tree netdep generated for these files, or generated without dev (generate the tree first, or pass --out or --manifests)\n"},
	} {
		res := run(t, root, tc.args...)
		if res.code != 2 || res.stderr != tc.want {
			t.Errorf("netdep %v: exit %d, stderr %q; want 2 and %q", tc.args, res.code, res.stderr, tc.want)
		}
	}
}
