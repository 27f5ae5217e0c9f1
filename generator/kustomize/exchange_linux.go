package kustomize

import (
	"errors"
	"fmt"

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
