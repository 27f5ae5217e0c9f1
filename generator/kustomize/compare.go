package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// Compare reports how the tree on disk at dir differs from tree, file by
// file: Added are paths only tree has (generate would create them), Removed
// paths only dir has (generate would delete them, or refuse if netdep did
// not write them), Modified paths whose bytes differ. The marker is compared
// like any file. A missing dir is a tree with no files.
func Compare(dir string, tree Tree) (Changes, error) {
	return compare(OS{}, dir, tree)
}

func compare(fsys FS, dir string, tree Tree) (Changes, error) {
	onDisk := Tree{files: map[string][]byte{}}
	fi, err := fsys.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return onDisk.Diff(tree), nil
	case err != nil:
		return Changes{}, fmt.Errorf("compare %s: %w", dir, err)
	case !fi.IsDir():
		return Changes{}, fmt.Errorf("compare %s: not a directory", dir)
	}
	err = walk(fsys, dir, "", func(rel string, d fs.DirEntry) error {
		switch {
		case d.IsDir():
		case d.Type().IsRegular():
			b, err := fsys.ReadFile(joinSlash(dir, rel))
			if err != nil {
				return err
			}
			onDisk.files[rel] = b
		default:
			// netdep writes regular files only: a link or device at a
			// path is a difference whatever it points at. No generated
			// file starts with NUL, so this never compares equal.
			onDisk.files[rel] = []byte("\x00not a regular file")
		}
		return nil
	})
	if err != nil {
		return Changes{}, fmt.Errorf("compare %s: %w", filepath.Clean(dir), err)
	}
	return onDisk.Diff(tree), nil
}
