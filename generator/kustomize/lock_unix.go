//go:build unix

package kustomize

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockDir takes an exclusive flock on directory dir (the output's parent),
// waiting at most timeout for another holder. It creates no file: nothing
// is left beside the output for git to pick up if the run is killed (the
// lock dies with its process), and a read-only file system, where an
// up-to-date tree needs no write, can still be locked. The parent, unlike
// the output, is never renamed, so every run locks the same inode.
func lockDir(dir string, timeout time.Duration) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	deadline := time.Now().Add(timeout)
	delay := 2 * time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another netdep run is writing here: lock on %s still held after %v: %w", dir, timeout, ErrLocked)
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
}
