package tests

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Catalogue setups that mount file systems (root only; the case is
// skipped otherwise). Each mount is undone when the case ends.
func init() {
	// The usual `docker run -v $PWD/netpol:/out`: the output directory is
	// a mount point, which cannot be renamed.
	catalogSetups["mount-point"] = func(t *testing.T, r *caseRun) {
		catalogMount(t, "", filepath.Join(r.dir, r.self, "out"), 0, "size=16m")
	}
	// A file system too small for the tree.
	catalogSetups["full-disk"] = func(t *testing.T, r *caseRun) {
		catalogMount(t, "", filepath.Join(r.dir, r.self, "small"), 0, "size=4k") // one page: the scratch's .gitignore fits, the marker does not
	}
	// The tree was generated, then the file system made read-only (a CI
	// job's checkout, a read-only container root).
	catalogSetups["read-only-stale"] = func(t *testing.T, r *caseRun) {
		catalogSetups["read-only"](t, r)
		catalogWrite(t, r.dir, r.self+"/deps.yaml", catalogDeps+"  payments:\n    ports: {grpc: 50051}\n")
	}
	catalogSetups["read-only"] = func(t *testing.T, r *caseRun) {
		dir := filepath.Join(r.dir, r.self, "ro")
		catalogMount(t, "", dir, 0, "size=16m")
		if res := run(t, r.dir, "generate", "--quiet", r.self, "--out", filepath.Join(r.self, "ro", "netpol")); res.code != 0 {
			t.Fatalf("generating the tree to make read-only: %s", res.stderr)
		}
		if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			t.Fatalf("remount read-only: %v", err)
		}
	}
}

func catalogMount(t *testing.T, src, dir string, flags uintptr, data string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fstype := "tmpfs"
	if src != "" {
		fstype, flags = "", flags|unix.MS_BIND
	} else {
		src = "tmpfs"
	}
	if err := unix.Mount(src, dir, fstype, flags, data); err != nil {
		t.Skipf("mount: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}
