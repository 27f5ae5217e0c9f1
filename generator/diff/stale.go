package diff

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/netdep/netdep/generator/kustomize"
)

// TreeReport is how the tree on disk differs from what generate would
// write: the staleness gate of `netdep diff --out DIR`.
type TreeReport struct {
	// Dir is the directory as the user named it.
	Dir string
	// Files are the differing files, sorted by path.
	Files []FileChange
}

// FileChange is one file generate would create, delete or rewrite.
type FileChange struct {
	// Action is Added (generate would create it), Removed (only on disk)
	// or Changed.
	Action Action
	// Path is relative to Dir, slash-separated.
	Path string
	// Diff is the unified diff from the file on disk to the generated one,
	// for Changed files.
	Diff string
}

// Changed reports whether the tree on disk is stale.
func (r *TreeReport) Changed() bool { return len(r.Files) > 0 }

// Stale compares the tree on disk at dir with tree (what generate would
// write there).
func Stale(dir string, tree kustomize.Tree) (*TreeReport, error) {
	ch, err := kustomize.Compare(dir, tree)
	if err != nil {
		return nil, err
	}
	r := &TreeReport{Dir: dir}
	for _, p := range ch.Added {
		r.Files = append(r.Files, FileChange{Action: Added, Path: p})
	}
	for _, p := range ch.Removed {
		r.Files = append(r.Files, FileChange{Action: Removed, Path: p})
	}
	for _, p := range ch.Modified {
		onDisk, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, fmt.Errorf("compare %s: %w", dir, err)
		}
		want, _ := tree.Get(p)
		r.Files = append(r.Files, FileChange{Action: Changed, Path: p, Diff: unified(string(onDisk), string(want), "a/"+p, "b/"+p)})
	}
	sortFiles(r.Files)
	return r, nil
}

func sortFiles(fs []FileChange) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Path < fs[j-1].Path; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}
