//go:build unix

package kustomize

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on path, creating it, and waits at most
// timeout for another holder. The lock dies with its process, so a killed
// run never leaves a lock that blocks the next one.
//
// unlock removes the file (so no lock file is left next to the output for
// git to pick up) and then releases the lock. Removing is safe only with the
// inode check below: a waiter that opened the file before the holder removed
// it would otherwise lock an orphaned inode while a third run locks a new
// file at the same path, and two runs would both hold "the" lock.
func lockFile(path string, timeout time.Duration) (unlock func(), err error) {
	deadline := time.Now().Add(timeout)
	delay := 2 * time.Millisecond
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			var held, named unix.Stat_t
			if unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(path, &named) == nil &&
				held.Dev == named.Dev && held.Ino == named.Ino {
				return func() {
					os.Remove(path)
					f.Close()
				}, nil
			}
			// The previous holder removed the file we opened: try again
			// on the file now at path.
			f.Close()
			continue
		}
		f.Close()
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("another netdep run is writing here: lock %s still held after %v: %w", path, timeout, ErrLocked)
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
}
