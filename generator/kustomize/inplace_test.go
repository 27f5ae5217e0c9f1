package kustomize

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mixState is what inPlaceState returns for a directory holding parts of
// two trees.
const mixState = -2

// inPlaceState is requireWhole for an output directory written below its
// mount point: the index of the tree it holds whole, -1 for an empty
// directory, and (only when mixOK) mixState for a mix. A scratch directory
// inside it (.netdep) is a leftover the next run removes, not part of
// either tree.
func inPlaceState(t *testing.T, dir string, strict bool, trees ...Tree) int {
	t.Helper()
	got := readTree(t, dir)
	files := map[string][]byte{}
	for _, p := range got.Paths() {
		if !strings.HasPrefix(p, inPlaceScratch+"/") {
			b, _ := got.Get(p)
			files[p] = b
		}
	}
	if len(files) == 0 {
		return -1
	}
	cur := Tree{files: files}
	for i, tr := range trees {
		if cur.Equal(tr) {
			return i
		}
	}
	if strict {
		t.Fatalf("%s holds a mix of trees:\n%s", dir, describe(cur))
	}
	return mixState
}

// countInPlaceOps is countOps below a mount point.
func countInPlaceOps(t *testing.T, prev *Tree, next Tree) []string {
	t.Helper()
	return countOpsWith(t, prev, next, true, func(dir string) *faultFS { return &faultFS{mount: dir} })
}

// TestWriteInPlace: an output directory that is a mount point (renaming it
// fails with EBUSY) gets its contents swapped below it, whether
// MountPoint tells or only the rename does, with and without an atomic
// exchange, over a tree, an empty directory and one of .gitkeep
// placeholders; nothing is left inside it or beside it.
func TestWriteInPlace(t *testing.T) {
	old, next := oldAndNew(t)
	for _, hidden := range []bool{false, true} {
		for _, noExchange := range []bool{false, true} {
			for _, prev := range []string{"tree", "empty", "placeholders"} {
				t.Run(fmt.Sprintf("hidden=%v/exchange=%v/%s", hidden, !noExchange, prev), func(t *testing.T) {
					dir := filepath.Join(t.TempDir(), "netpol")
					if err := os.Mkdir(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					switch prev {
					case "tree":
						mustWrite(t, dir, old)
					case "placeholders":
						write(t, filepath.Join(dir, ".gitkeep"), "")
						write(t, filepath.Join(dir, "base", ".gitkeep"), "")
						if err := os.MkdirAll(filepath.Join(dir, "overlays", "dev"), 0o755); err != nil {
							t.Fatal(err)
						}
					}
					f := &faultFS{mount: dir, hidden: hidden, noExchange: noExchange}
					changed, err := Update(dir, next, WriteOptions{FS: f})
					if err != nil || !changed {
						t.Fatalf("Update below a mount point: changed %v, %v", changed, err)
					}
					requireTree(t, dir, next)
					requireNoLeftovers(t, dir)
					if changed, err := Update(dir, next, WriteOptions{FS: f}); err != nil || changed {
						t.Errorf("a second Update: changed %v, %v; want the tree left alone", changed, err)
					}
				})
			}
		}
	}
}

// TestWriteInPlaceFailsAtEveryStep is TestWriteFailsAtEveryStep below a
// mount point: a failure anywhere leaves the previous tree (or the empty
// directory) whole, or the new one with ErrCleanup; the exchanges made are
// undone. The next Write succeeds and leaves nothing behind.
func TestWriteInPlaceFailsAtEveryStep(t *testing.T) {
	old, next := oldAndNew(t)
	for _, fresh := range []bool{false, true} {
		prev := &old
		if fresh {
			prev = nil
		}
		t.Run(fmt.Sprintf("fresh=%v", fresh), func(t *testing.T) {
			total := len(countInPlaceOps(t, prev, next))
			for n := 1; n <= total; n++ {
				t.Run(fmt.Sprint(n), func(t *testing.T) {
					t.Parallel()
					dir := filepath.Join(t.TempDir(), "netpol")
					if err := os.Mkdir(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if prev != nil {
						mustWrite(t, dir, *prev)
					}
					f := &faultFS{mount: dir, failAt: n}
					err := Write(dir, next, WriteOptions{FS: f})
					checkFailure(t, n, f, err, fresh, inPlaceState(t, dir, true, old, next))
					if err := Write(dir, next, WriteOptions{FS: &faultFS{mount: dir}}); err != nil {
						t.Fatal(err)
					}
					requireTree(t, dir, next)
					requireNoLeftovers(t, dir)
				})
			}
		})
	}
}
