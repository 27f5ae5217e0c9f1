package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

const depFile = "netdep: v1\nnamespace: shop\n"

func write(t *testing.T, root, name, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks not available: %v", err)
	}
}

func paths(files []File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

// TestReadPaths runs in a temporary tree, with the test's working directory
// moved into it, so paths come out relative as users see them.
func TestReadPaths(t *testing.T) {
	root := t.TempDir()
	write(t, root, "b/deps.yaml", depFile)
	write(t, root, "a/z.yml", depFile)
	write(t, root, "a/a.yaml", depFile)
	write(t, root, "a/k8s.yaml", "apiVersion: v1\nkind: Service\n")
	write(t, root, "a/notes.txt", depFile)
	write(t, root, ".github/ci.yaml", depFile)
	write(t, root, "netpol/"+TreeMarker, "")
	write(t, root, "netpol/base/x.yaml", depFile)
	write(t, root, "README.yaml", "- just a list\n")
	outside := t.TempDir()
	write(t, outside, "secret.yaml", depFile)
	symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(root, "a", "leak.yaml"))
	symlink(t, "..", filepath.Join(root, "b", "loop"))
	symlink(t, "../b", filepath.Join(root, "a", "b-again"))
	symlink(t, "self", filepath.Join(root, "a", "self"))
	t.Chdir(root)

	files, probs := ReadPaths(nil)
	wantPaths := []string{"a/a.yaml", "a/z.yml", "b/deps.yaml"}
	if diff := cmp.Diff(wantPaths, paths(files)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	wantProbs := strings.Join([]string{
		"a/leak.yaml: warning: symlink not followed: it points outside .",
		"a/self: warning: symlink not followed: too many levels of symbolic links (a symlink loop)",
		"b/loop: warning: symlink not followed: it points to ., which contains it (a symlink loop)",
	}, "\n")
	if got := probs.Error(); got != wantProbs {
		t.Errorf("problems:\n%s\nwant:\n%s", got, wantProbs)
	}
	if len(probs.Errors()) != 0 {
		t.Errorf("links that are not followed should not fail the run")
	}

	tests := []struct {
		name  string
		args  []string
		files []string
		probs string
	}{
		{"explicit foreign file is read", []string{"a/k8s.yaml"}, []string{"a/k8s.yaml"}, ""},
		{"dir and file overlap", []string{"a", "a/a.yaml"}, []string{"a/a.yaml", "a/z.yml"}, strings.Join([]string{
			"a/b-again: warning: symlink not followed: it points outside a",
			"a/leak.yaml: warning: symlink not followed: it points outside a",
			"a/self: warning: symlink not followed: too many levels of symbolic links (a symlink loop)",
		}, "\n")},
		{"missing path", []string{"nope"}, nil, "nope: cannot read: no such file or directory"},
		{"directory without netdep files", []string{"netpol"}, nil, "netpol: no netdep files found (expected *.yaml or *.yml files with netdep: v1)"},
		{"absolute path shown relative", []string{filepath.Join(root, "b", "deps.yaml")}, []string{"b/deps.yaml"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files, probs := ReadPaths(tc.args)
			if diff := cmp.Diff(tc.files, paths(files)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if got := probs.Error(); got != tc.probs {
				t.Errorf("problems:\n%s\nwant:\n%s", got, tc.probs)
			}
		})
	}
}

// TestReadPathsSymlinkCycle: two directories linking to each other must not
// send the walk round in circles.
func TestReadPathsSymlinkCycle(t *testing.T) {
	root := t.TempDir()
	write(t, root, "x/deps.yaml", depFile)
	write(t, root, "y/deps.yaml", depFile)
	symlink(t, "../y", filepath.Join(root, "x", "to-y"))
	symlink(t, "../x", filepath.Join(root, "y", "to-x"))
	t.Chdir(root)
	files, probs := ReadPaths([]string{"."})
	// Both links lead to directories the walk reads anyway: each file is
	// read once, under its own path, and nothing goes round in circles.
	if diff := cmp.Diff([]string{"x/deps.yaml", "y/deps.yaml"}, paths(files)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if len(probs) != 0 {
		t.Errorf("problems:\n%s", probs.Error())
	}
	// Named through a link, the same tree reads the same.
	files, _ = ReadPaths([]string{"x/to-y"})
	if diff := cmp.Diff([]string{"x/to-y/deps.yaml"}, paths(files)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestReadPathsSizeLimit(t *testing.T) {
	root := t.TempDir()
	big := depFile + "# " + strings.Repeat("x", MaxFileSize) + "\n"
	write(t, root, "big.yaml", big)
	write(t, root, "sub/huge-manifest.yaml", "kind: X\n# "+strings.Repeat("x", MaxFileSize)+"\n")
	write(t, root, "sub/deps.yaml", depFile)
	t.Chdir(root)
	_, probs := ReadPaths([]string{"."})
	want := fmt.Sprintf("big.yaml:1:1: expected a netdep file of at most 8 MiB (8388608 bytes), found %d bytes; split it into several files", len(big))
	if probs.Error() != want {
		t.Errorf("got %q, want %q", probs.Error(), want)
	}
}

// TestReadFS covers the fs.FS path used for git revisions.
func TestReadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"teams/shop/deps.yaml":  {Data: []byte(depFile)},
		"teams/shop/chart.yaml": {Data: []byte("name: chart\n")},
		"teams/.hidden/x.yaml":  {Data: []byte(depFile)},
		"project.yaml":          {Data: []byte("netdep: v1\nenvironments: {dev: {}}\n")},
	}
	tests := []struct {
		name  string
		roots []string
		files []string
		probs string
	}{
		{"whole tree", nil, []string{"project.yaml", "teams/shop/deps.yaml"}, ""},
		{"subtree", []string{"./teams"}, []string{"teams/shop/deps.yaml"}, ""},
		{"missing root", []string{"gone"}, nil, "gone: cannot read: no such file or directory"},
		{"escaping root", []string{"../x"}, nil, "../x: invalid path: expected a relative path inside the tree"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files, probs := ReadFS(fsys, tc.roots)
			if diff := cmp.Diff(tc.files, paths(files)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if got := probs.Error(); got != tc.probs {
				t.Errorf("problems:\n%s\nwant:\n%s", got, tc.probs)
			}
		})
	}
}
