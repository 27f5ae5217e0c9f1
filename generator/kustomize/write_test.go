package kustomize

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// mustWrite writes without fsync (see faultFS.realSync).
func mustWrite(t *testing.T, dir string, tree Tree) {
	t.Helper()
	if err := Write(dir, tree, WriteOptions{FS: &faultFS{}}); err != nil {
		t.Fatal(err)
	}
}

// requireTree fails unless dir holds exactly tree, file by file.
func requireTree(t *testing.T, dir string, tree Tree) {
	t.Helper()
	c, err := Compare(dir, tree)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Empty() {
		t.Fatalf("%s differs from the expected tree: added %v, removed %v, modified %v", dir, c.Added, c.Removed, c.Modified)
	}
}

// requireNoLeftovers fails if anything but dir is in parent.
func requireNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(dir) {
			t.Errorf("leftover next to the output: %s", e.Name())
		}
	}
}

func TestWriteCreatesAndReplaces(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "netpol") // parents are created
	first, err := Build(testSet())
	if err != nil {
		t.Fatal(err)
	}
	// The real file system, fsync and all, once.
	if err := Write(dir, first, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	requireTree(t, dir, first)
	requireNoLeftovers(t, dir)

	// The second tree drops environments: stale overlays must go.
	second, err := Build(baseOnlySet())
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, dir, second)
	requireTree(t, dir, second)
	requireNoLeftovers(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "overlays")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale overlays/ survived: %v", err)
	}

	// Writing the same tree again is a no-op in content.
	mustWrite(t, dir, second)
	requireTree(t, dir, second)
	requireNoLeftovers(t, dir)
}

// TestUpdateLeavesAnIdenticalTree: writing the tree a directory already
// holds changes nothing, not even an inode; a hand-edited, deleted or added
// file is a difference, and the tree is written whole again.
func TestUpdateLeavesAnIdenticalTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "netpol")
	tree, err := Build(testSet())
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, dir, tree)
	policyFile := filepath.Join(dir, "base", "shop", "default-deny.yaml")
	before, err := os.Stat(policyFile)
	if err != nil {
		t.Fatal(err)
	}
	f := &faultFS{}
	changed, err := Update(dir, tree, WriteOptions{FS: f})
	if err != nil || changed {
		t.Fatalf("Update of an identical tree: changed=%v err=%v", changed, err)
	}
	after, err := os.Stat(policyFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.ops) != 0 || !os.SameFile(before, after) {
		t.Errorf("Update of an identical tree touched the file system: %v", f.ops)
	}
	requireTree(t, dir, tree)

	for _, tc := range []struct {
		name  string
		spoil func() error
	}{
		{"hand-edited", func() error { return os.WriteFile(policyFile, []byte("# edited\n"), 0o644) }},
		{"deleted", func() error { return os.Remove(policyFile) }},
		{"marker edited", func() error {
			return os.WriteFile(filepath.Join(dir, MarkerName), append(tree.files[MarkerName][:len(tree.files[MarkerName]):len(tree.files[MarkerName])], "x\n"...), 0o644)
		}},
	} {
		if err := tc.spoil(); err != nil {
			t.Fatal(err)
		}
		changed, err := Update(dir, tree, WriteOptions{FS: &faultFS{}})
		if err != nil || !changed {
			t.Fatalf("%s: Update: changed=%v err=%v, want the tree rewritten", tc.name, changed, err)
		}
		requireTree(t, dir, tree)
		requireNoLeftovers(t, dir)
	}
}

func TestWriteIntoEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	tree := mustBuild(t, map[string]string{"a/b.yaml": "x"})
	mustWrite(t, dir, tree)
	requireTree(t, dir, tree)
}

// TestWriteOverPlaceholders: a directory holding nothing but empty
// directories and .gitkeep files (kept so that git tracks it) is as good as
// empty; the placeholders go with it.
func TestWriteOverPlaceholders(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "netpol")
	write(t, filepath.Join(dir, ".gitkeep"), "")
	write(t, filepath.Join(dir, "overlays", "prod", ".gitkeep"), "# keep\n")
	if err := os.MkdirAll(filepath.Join(dir, "base", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	tree := mustBuild(t, map[string]string{"base/kustomization.yaml": "x"})
	mustWrite(t, dir, tree)
	requireTree(t, dir, tree)
	requireNoLeftovers(t, dir)
}

// TestScratchIgnoredByGit: what a crash leaves beside the output (a tree
// half written in the scratch directory) is not picked up by git add.
func TestScratchIgnoredByGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(git, args...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("init", "-q")
	old, next := oldAndNew(t)
	mustWrite(t, filepath.Join(repo, "netpol"), old)
	// What a run killed after writing its new tree leaves.
	scratch := filepath.Join(repo, scratchName("netpol"))
	if err := makeScratch(OS{}, scratch); err != nil {
		t.Fatal(err)
	}
	tmp, err := mkdirRandom(OS{}, scratch, newPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeTree(OS{}, tmp, next); err != nil {
		t.Fatal(err)
	}
	run("add", ".")
	staged := run("diff", "--cached", "--name-only")
	if strings.Contains(staged, scratchName("netpol")) {
		t.Errorf("git add . picked up the scratch directory:\n%s", staged)
	}
	if !strings.Contains(staged, "netpol/base/kustomization.yaml") {
		t.Errorf("git add . did not add the output itself:\n%s", staged)
	}
}

func TestWriteRefuses(t *testing.T) {
	tree := mustBuild(t, map[string]string{"base/kustomization.yaml": "new"})
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the --out to use
		want  error
		text  string
	}{
		{"root", func(t *testing.T, dir string) string { return "/" }, ErrRefused, "file-system root"},
		{"home", func(t *testing.T, dir string) string { return home }, ErrRefused, "home directory"},
		{"repository root", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, ".git", "HEAD"), "ref: refs/heads/main\n")
			return dir
		}, ErrRefused, "contains .git"},
		{"inside .git", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, ".git", "HEAD"), "ref: refs/heads/main\n")
			return filepath.Join(dir, ".git", "netpol")
		}, ErrRefused, "a git repository's own metadata"},
		{"inside a bare repository", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "repo.git", "HEAD"), "ref: refs/heads/main\n")
			write(t, filepath.Join(dir, "repo.git", "objects", "info", "packs"), "")
			write(t, filepath.Join(dir, "repo.git", "refs", "heads", "main"), "0\n")
			return filepath.Join(dir, "repo.git", "refs", "netpol")
		}, ErrRefused, "repo.git, a git repository's own metadata"},
		{"placeholders and a file", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "base", ".gitkeep"), "")
			write(t, filepath.Join(dir, "overlays", "README.md"), "mine\n")
			return dir
		}, ErrNotOwned, "has no .netdep-tree"},
		{"not empty, no marker", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "main.go"), "package main\n")
			return dir
		}, ErrNotOwned, "has no .netdep-tree"},
		{"forged marker", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, MarkerName), "netdep\n")
			write(t, filepath.Join(dir, "main.go"), "package main\n")
			return dir
		}, ErrNotOwned, "not the netdep marker header"},
		{"file netdep did not write", func(t *testing.T, dir string) string {
			mustWrite(t, dir, tree)
			write(t, filepath.Join(dir, "base", "README.md"), "mine\n")
			return dir
		}, ErrNotOwned, "base/README.md"},
		{"symlink in tree", func(t *testing.T, dir string) string {
			mustWrite(t, dir, tree)
			if err := os.Symlink("/etc/passwd", filepath.Join(dir, "base", "link.yaml")); err != nil {
				t.Fatal(err)
			}
			return dir
		}, ErrNotOwned, "base/link.yaml"},
		{"out is a symlink", func(t *testing.T, dir string) string {
			target := filepath.Join(dir, "real")
			mustWrite(t, target, tree)
			link := filepath.Join(dir, "link")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, ErrNotOwned, "symbolic link"},
		{"out is a file", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "netpol"), "x")
			return filepath.Join(dir, "netpol")
		}, ErrNotOwned, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := tt.setup(t, dir)
			before := snapshot(t, dir)
			err := Write(out, mustBuild(t, map[string]string{"base/kustomization.yaml": "replacement"}), WriteOptions{})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Write: %v, want %v mentioning %q", err, tt.want, tt.text)
			}
			if d := cmp.Diff(before, snapshot(t, dir)); d != "" {
				t.Errorf("a refused Write changed the disk (-before +after):\n%s", d)
			}
		})
	}
}

func TestWriteRejectsTreeWithoutMarker(t *testing.T) {
	if err := Write(t.TempDir(), Tree{}, WriteOptions{}); err == nil {
		t.Fatal("Write of the zero Tree succeeded")
	}
}

func TestWriteLockTimeout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Write does not lock on Windows")
	}
	dir := filepath.Join(t.TempDir(), "netpol")
	unlock, err := lockDir(filepath.Dir(dir), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	start := time.Now()
	err = Write(dir, mustBuild(t, map[string]string{"a": "b"}), WriteOptions{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Write under a held lock: %v, want ErrLocked", err)
	}
	if time.Since(start) < 200*time.Millisecond {
		t.Errorf("Write gave up before the timeout")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a locked-out Write created %s", dir)
	}
}

func TestCompare(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "netpol")
	tree := mustBuild(t, map[string]string{"a.yaml": "a", "b/c.yaml": "c"})
	t.Run("missing dir", func(t *testing.T) {
		c, err := Compare(dir, tree)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(Changes{Added: []string{MarkerName, "a.yaml", "b/c.yaml"}}, c); d != "" {
			t.Error(d)
		}
	})
	mustWrite(t, dir, tree)
	t.Run("same", func(t *testing.T) {
		c, err := Compare(dir, tree)
		if err != nil || !c.Empty() {
			t.Fatalf("Compare = %+v, %v", c, err)
		}
	})
	t.Run("differs", func(t *testing.T) {
		write(t, filepath.Join(dir, "b", "c.yaml"), "edited")
		write(t, filepath.Join(dir, "stray.yaml"), "x")
		if err := os.Symlink("a.yaml", filepath.Join(dir, "link.yaml")); err != nil {
			t.Fatal(err)
		}
		other := mustBuild(t, map[string]string{"a.yaml": "a", "b/c.yaml": "c", "link.yaml": "a", "d.yaml": "d"})
		c, err := Compare(dir, other)
		if err != nil {
			t.Fatal(err)
		}
		want := Changes{Added: []string{"d.yaml"}, Removed: []string{"stray.yaml"}, Modified: []string{MarkerName, "b/c.yaml", "link.yaml"}}
		if d := cmp.Diff(want, c); d != "" {
			t.Error(d)
		}
	})
}

func write(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// snapshot records every entry under dir: file contents, link targets,
// directories.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			m[rel] = "link " + target
		case fi.IsDir():
			m[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			m[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
