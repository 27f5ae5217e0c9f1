//go:build !linux

package kustomize

import (
	"io/fs"
	"os"
	"path/filepath"
)

func createFile(name string, perm fs.FileMode) (File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}

// syncTree fsyncs every file and directory under root, children before
// their directory, so a directory never names an entry not yet on disk.
func syncTree(root string) error {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		return syncPath(p)
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := syncPath(dirs[i]); err != nil {
			return err
		}
	}
	return nil
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// mountPoint is not asked elsewhere: renaming a mount point fails with
// EBUSY, and Write then swaps below it.
func mountPoint(name string) (bool, error) { return false, nil }
