package gitrev

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/generator/gitrev/gitrevtest"
	"github.com/netdep/netdep/schema"
)

const dep = "netdep: v1\nnamespace: %s\nservices:\n  a: {}\n"

func depFor(ns string) string { return strings.Replace(dep, "%s", ns, 1) }

func TestResolve(t *testing.T) {
	f := gitrevtest.New(t)
	f.Write("teams/a.yaml", depFor("a"))
	c1 := f.Commit("one")
	if _, err := f.Git.CreateTag("v1", c1, nil); err != nil {
		t.Fatal(err)
	}
	f.Write("teams/b.yaml", depFor("b"))
	c2 := f.Commit("two")
	f.Write("teams/c.yaml", depFor("c"))
	c3 := f.Commit("three")
	if err := f.Git.Storer.SetReference(plumbing.NewHashReference("refs/remotes/origin/main", c2)); err != nil {
		t.Fatal(err)
	}
	if err := f.Git.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("topic"), c1)); err != nil {
		t.Fatal(err)
	}
	r, err := Open(f.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for rev, want := range map[string]plumbing.Hash{
		"main": c3, "HEAD": c3, "HEAD~2": c1, "HEAD^": c2, "v1": c1, "topic": c1,
		"origin/main": c2, c2.String()[:7]: c2, c3.String(): c3,
	} {
		v, err := r.Resolve(rev)
		if err != nil {
			t.Errorf("%s: %v", rev, err)
			continue
		}
		if v.Hash != want.String() {
			t.Errorf("%s resolved to %s, want %s", rev, v.Hash, want)
		}
	}
	for _, rev := range []string{"origin/release", "HEAD~5", "nosuch"} {
		_, err := r.Resolve(rev)
		if err == nil || !strings.Contains(err.Error(), "git fetch") || !strings.Contains(err.Error(), "fetch-depth: 0") {
			t.Errorf("%s: want an error saying how to fetch, got %v", rev, err)
		}
	}
	_, err = r.Resolve("origin/release")
	if want := "`git fetch --no-tags --depth=50 origin release`"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not suggest %s", err, want)
	}
	// A shallow clone says so.
	if err := f.Git.Storer.SetShallow([]plumbing.Hash{c2}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve("origin/release"); !strings.Contains(err.Error(), "shallow clone") {
		t.Errorf("shallow: %v", err)
	}
}

// TestFS checks the tree against the fs.FS contract (testing/fstest) and
// symlinks against the working tree's rules.
func TestFS(t *testing.T) {
	f := gitrevtest.New(t)
	f.Write("teams/a.yaml", depFor("a"))
	f.Write("teams/sub/b.yaml", depFor("b"))
	f.Write("README.md", "hello\n")
	f.Symlink("teams/sub", "shared")
	f.Commit("one")
	r, v := openHead(t, f.Dir)
	fsys := v.FS()
	if err := fstest.TestFS(fsys, "teams/a.yaml", "teams/sub/b.yaml", "README.md"); err != nil {
		t.Error(err)
	}
	if target, err := fs.ReadLink(fsys, "shared"); err != nil || target != "teams/sub" {
		t.Errorf("ReadLink(shared) = %q, %v", target, err)
	}
	if b, err := fs.ReadFile(fsys, "shared/b.yaml"); err != nil || string(b) != depFor("b") {
		t.Errorf("through the link: %q, %v", b, err)
	}
	if fi, err := fs.Lstat(fsys, "shared"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat(shared) = %v, %v", fi, err)
	}
	// A link out of the tree leads nowhere (fstest would fail on it, as on
	// a dangling link in os.DirFS, so it comes in a later commit).
	f.Symlink("../../outside.yaml", "teams/escape.yaml")
	f.Commit("two")
	v, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(v.FS(), "teams/escape.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a link out of the tree: %v", err)
	}
}

// TestFiles: paths are shown as the working tree shows them, relative to
// the directory netdep runs in, whichever directory that is.
func TestFiles(t *testing.T) {
	f := gitrevtest.New(t)
	f.Write("netdep.yaml", "netdep: v1\nenvironments: {dev: {}}\n")
	f.Write("teams/a.yaml", depFor("a"))
	f.Write("teams/sub/b.yaml", depFor("b"))
	f.Write("teams/notes.yaml", "just: yaml\n")
	f.Write(".github/x.yaml", depFor("hidden"))
	f.Commit("one")
	cases := []struct {
		name string
		cwd  string
		args []string
		want []string
	}{
		{"root", ".", nil, []string{"netdep.yaml", "teams/a.yaml", "teams/sub/b.yaml"}},
		{"root, one dir", ".", []string{"teams/sub"}, []string{"teams/sub/b.yaml"}},
		{"subdir", "teams", []string{"."}, []string{"a.yaml", "sub/b.yaml"}},
		{"subdir, parent", "teams/sub", []string{"..", "../../netdep.yaml"}, []string{"../a.yaml", "../sub/b.yaml", "../../netdep.yaml"}},
		{"missing at the revision", ".", []string{"teams/gone"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Open(filepath.Join(f.Dir, c.cwd))
			if err != nil {
				t.Fatal(err)
			}
			v, err := r.Resolve("HEAD")
			if err != nil {
				t.Fatal(err)
			}
			files, probs := r.Files(v, c.args)
			if len(probs) > 0 {
				t.Fatalf("problems: %v", probs)
			}
			var got []string
			for _, fl := range files {
				got = append(got, fl.Path)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if c.want == nil {
				return
			}
			// The working tree at HEAD is the same: ReadPaths must show
			// the very same paths, or every annotation would differ.
			t.Chdir(filepath.Join(f.Dir, c.cwd))
			wtFiles, probs := schema.ReadPaths(c.args)
			if len(probs) > 0 {
				t.Fatalf("ReadPaths problems: %v", probs)
			}
			var wt []string
			for _, fl := range wtFiles {
				wt = append(wt, fl.Path)
			}
			if d := cmp.Diff(wt, got); d != "" {
				t.Errorf("working tree (-) and revision (+) show different paths:\n%s", d)
			}
		})
	}
	t.Run("outside", func(t *testing.T) {
		r, err := Open(f.Dir)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := r.Resolve("HEAD")
		_, probs := r.Files(v, []string{".."})
		if len(probs) != 1 || !strings.Contains(probs[0].Message, "outside the git repository") {
			t.Errorf("problems: %v", probs)
		}
	})
}

// countingStorer records how much of each blob is read.
type countingStorer struct {
	storer.EncodedObjectStorer
	mu     sync.Mutex
	opened map[plumbing.Hash]int   // EncodedObject calls
	read   map[plumbing.Hash]int64 // bytes read through their readers
}

func (c *countingStorer) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	obj, err := c.EncodedObjectStorer.EncodedObject(t, h)
	if err != nil || t != plumbing.BlobObject {
		return obj, err
	}
	c.mu.Lock()
	c.opened[h]++
	c.mu.Unlock()
	return &countingObject{EncodedObject: obj, c: c}, nil
}

type countingObject struct {
	plumbing.EncodedObject
	c *countingStorer
}

func (o *countingObject) Reader() (io.ReadCloser, error) {
	r, err := o.EncodedObject.Reader()
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: r, o: o}, nil
}

type countingReader struct {
	io.ReadCloser
	o *countingObject
}

func (r *countingReader) Read(b []byte) (int, error) {
	n, err := r.ReadCloser.Read(b)
	r.o.c.mu.Lock()
	r.o.c.read[r.o.Hash()] += int64(n)
	r.o.c.mu.Unlock()
	return n, err
}

// TestLargeBlobsAreNotRead: reading a revision reads a blob only when it is
// a YAML file, and never more of it than the size limit; sizes come from
// object headers. A 100 MiB file in a revision used to be read whole (632
// MB of memory) before the limit was checked; tests/scripts/blob-memory.sh
// prints the figure.
func TestLargeBlobsAreNotRead(t *testing.T) {
	f := gitrevtest.New(t)
	f.Write("teams/a.yaml", depFor("a"))
	big := strings.Repeat("# padding, no marker\n", (schema.MaxFileSize*2)/21)
	f.Write("teams/generated.yaml", big)
	f.Write("teams/claims.yaml", "netdep: v1\n"+big)
	f.Write("teams/image.bin", "\x89PNG"+big)
	f.Commit("one")
	r, v := openHead(t, f.Dir)
	c := &countingStorer{EncodedObjectStorer: v.s, opened: map[plumbing.Hash]int{}, read: map[plumbing.Hash]int64{}}
	v.s = c
	files, probs := r.Files(v, nil)
	if len(files) != 1 || files[0].Path != "teams/a.yaml" {
		t.Errorf("files = %v", files)
	}
	want := fmt.Sprintf("teams/claims.yaml:1:1: expected a netdep file of at most 8 MiB (8388608 bytes), found %d bytes; split it into several files", len(big)+11)
	if probs.Error() != want {
		t.Errorf("problems:\n%s\nwant:\n%s", probs.Error(), want)
	}
	hash := func(p string) plumbing.Hash {
		e, err := v.tree.FindEntry(p)
		if err != nil {
			t.Fatal(err)
		}
		return e.Hash
	}
	if n := c.opened[hash("teams/image.bin")]; n != 0 {
		t.Errorf("a file that is not YAML was opened %d times", n)
	}
	for _, p := range []string{"teams/generated.yaml", "teams/claims.yaml"} {
		if n := c.read[hash(p)]; n > schema.MaxFileSize+1 {
			t.Errorf("%s: %d bytes read, more than the %d-byte limit", p, n, schema.MaxFileSize)
		}
	}
}

// openHead opens the repository at dir and resolves HEAD.
func openHead(t *testing.T, dir string) (*Repo, *Revision) {
	t.Helper()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	return r, v
}

// TestPrefix: a directory's path below the working tree's root, whether
// .git is a directory or a linked worktree's file, and "" outside one.
func TestPrefix(t *testing.T) {
	outside := t.TempDir()
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	linked := t.TempDir()
	if err := os.WriteFile(filepath.Join(linked, ".git"), []byte("gitdir: /elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(repo, "examples", "shop"), filepath.Join(linked, "a")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"root", repo, ""},
		{"subdirectory", filepath.Join(repo, "examples", "shop"), "examples/shop"},
		{"linked worktree", filepath.Join(linked, "a"), "a"},
		{"no repository", outside, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Prefix(tc.dir)
			if err != nil || got != tc.want {
				t.Errorf("Prefix(%s) = %q, %v; want %q", tc.dir, got, err, tc.want)
			}
		})
	}
}
