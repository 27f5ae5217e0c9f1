package kustomize

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// exchange swaps a and b in one renameat2(RENAME_EXCHANGE) call, so at every
// instant the output directory holds either the whole old tree or the whole
// new one: readers (kubectl, a git add) never see it missing.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	// ENOSYS: kernel before 3.15; EINVAL: a file system without exchange
	// support (some network and FUSE file systems).
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("exchange %s and %s: %w (%w)", a, b, ErrExchangeUnsupported, err)
	}
	if err != nil {
		return fmt.Errorf("exchange %s and %s: %w", a, b, err)
	}
	return nil
}

// syncTree flushes the file system holding root with syncfs(2). That writes
// back every dirty inode and commits the journal once, which covers each
// file and directory entry of the new tree (and, harmlessly, whatever else
// is dirty on that file system). Since Linux 5.8 it also reports writeback
// errors of any file on it, as fsync would.
func syncTree(root string) error {
	d, err := os.Open(root)
	if err != nil {
		return err
	}
	err = unix.Syncfs(int(d.Fd()))
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("syncfs %s: %w", root, err)
	}
	return nil
}
