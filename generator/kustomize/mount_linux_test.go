package kustomize

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// mount mounts a fresh tmpfs (src "") or a bind mount of src at dir, and
// unmounts it when the test ends. Mounting needs root: the test is skipped
// without it.
func mount(t *testing.T, src, dir string, flags uintptr) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	var err error
	if src == "" {
		err = unix.Mount("tmpfs", dir, "tmpfs", flags, "size=16m")
	} else {
		err = unix.Mount(src, dir, "", unix.MS_BIND|flags, "")
	}
	if err != nil {
		t.Skipf("mount: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// TestWriteRealMountPoint writes and rewrites an output directory that is
// a real mount point, as `docker run -v $PWD/netpol:/out` gives: a tmpfs
// (another file system) and a bind mount (the same one, which only statx
// or the rename tells).
func TestWriteRealMountPoint(t *testing.T) {
	old, next := oldAndNew(t)
	for _, kind := range []string{"tmpfs", "bind"} {
		t.Run(kind, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "netpol")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			src := ""
			if kind == "bind" {
				src = t.TempDir()
			}
			mount(t, src, dir, 0)
			if mp, err := (OS{}).MountPoint(dir); err != nil || !mp {
				t.Fatalf("MountPoint(%s) = %v, %v", dir, mp, err)
			}
			if err := os.Rename(dir, dir+"-moved"); !errors.Is(err, syscall.EBUSY) {
				t.Fatalf("renaming the mount point: %v, want EBUSY (what Write used to fail with)", err)
			}
			for _, tree := range []Tree{old, next} {
				if err := Write(dir, tree, WriteOptions{}); err != nil {
					t.Fatalf("Write at a mount point: %v", err)
				}
				requireTree(t, dir, tree)
				requireNoLeftovers(t, dir)
			}
			if src != "" {
				requireTree(t, src, next) // the files are on the mounted directory
			}
		})
	}
}

// TestWriteReadOnly: on a read-only file system a tree that is up to date
// is left alone, and no lock or scratch file is needed for that; a tree
// that is not up to date fails, saying why, and changes nothing.
func TestWriteReadOnly(t *testing.T) {
	old, next := oldAndNew(t)
	parent := t.TempDir()
	mount(t, "", parent, 0)
	dir := filepath.Join(parent, "netpol")
	mustWrite(t, dir, old)
	if err := unix.Mount("", parent, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	changed, err := Update(dir, old, WriteOptions{})
	if err != nil || changed {
		t.Fatalf("up to date on a read-only file system: changed %v, %v", changed, err)
	}
	_, err = Update(dir, next, WriteOptions{})
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), "read-only file system") {
		t.Fatalf("a change on a read-only file system: %v, want EROFS", err)
	}
	requireTree(t, dir, old)
	requireNoLeftovers(t, dir)
}
