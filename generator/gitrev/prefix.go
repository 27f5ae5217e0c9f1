package gitrev

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Prefix is dir's path below the root of the git working tree that holds
// it, slash-separated ("examples/shop"): "" at the root or outside any
// repository. It only looks for the .git entry (a directory, or the file
// of a linked worktree), without opening the repository, so every command
// can name files relative to the root cheaply.
func Prefix(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for d := abs; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			rel, err := filepath.Rel(d, abs)
			if err != nil || rel == "." {
				return "", err
			}
			return filepath.ToSlash(rel), nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", nil
		}
		d = parent
	}
}
