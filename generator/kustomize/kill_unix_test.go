//go:build unix

package kustomize

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// killSelf ends the process the way a crash or an OOM kill does: no deferred
// cleanup, no unlock, nothing.
func killSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// The helper process for TestWriteKilled: it runs one Write and SIGKILLs
// itself at the Nth file-system call. It is a test only so `go test` can
// re-execute its own binary.
func TestWriteKilledHelper(t *testing.T) {
	at := os.Getenv("NETDEP_TEST_KILL_AT")
	if at == "" {
		t.Skip("helper process for TestWriteKilled")
	}
	n, _ := strconv.Atoi(at)
	_, next := oldAndNew(t)
	f := &faultFS{failAt: n, kill: true, noExchange: os.Getenv("NETDEP_TEST_NO_EXCHANGE") == "1"}
	if os.Getenv("NETDEP_TEST_MOUNT") == "1" {
		f.mount = os.Getenv("NETDEP_TEST_DIR")
	}
	err := Write(os.Getenv("NETDEP_TEST_DIR"), next, WriteOptions{FS: f})
	t.Fatalf("Write returned (%v) instead of being killed at call %d", err, n)
}

// TestWriteKilled kills a writing process at each of its file-system calls.
// Whatever it had done, the directory holds the previous tree or the new
// one; the one window without it (between the two renames of the fallback
// swap) is repaired by the next run, which restores the previous tree.
// Below a mount point, a kill between two exchanges leaves a mix, which the
// next run repairs.
func TestWriteKilled(t *testing.T) {
	if os.Getenv("NETDEP_TEST_KILL_AT") != "" {
		t.Skip("nested")
	}
	old, next := oldAndNew(t)
	for _, mode := range []struct{ noExchange, mount bool }{{false, false}, {true, false}, {false, true}} {
		noExchange := mode.noExchange
		var restored, mixed atomic.Int32
		t.Run(fmt.Sprintf("exchange=%v/mount=%v", !noExchange, mode.mount), func(t *testing.T) {
			var ops []string
			if mode.mount {
				ops = countInPlaceOps(t, &old, next)
			} else {
				ops = countOps(t, &old, next, noExchange)
			}
			kind := func(i int) string {
				if i < 0 || i >= len(ops) {
					return ""
				}
				k, _, _ := strings.Cut(ops[i], " ")
				return k
			}
			for i, op := range ops {
				n := i + 1
				// A process start costs far more than a call, so kill
				// only where the state on disk can differ. Skipped: the
				// write and close of each file but the marker (the same
				// partial file in the unfinished tree as after its
				// create), and calls inside a run of the same kind (the
				// middle of the removal of the old tree). TestWriteFailsAtEveryStep stops at each.
				_, file, _ := strings.Cut(op, " ")
				k := kind(i)
				if (k == "write" || k == "close") && file != MarkerName {
					continue
				}
				if k != "rename" && k != "exchange" && kind(i-1) == k && kind(i+1) == k {
					continue
				}
				if testing.Short() && n%3 != 0 {
					continue
				}
				t.Run(fmt.Sprint(n), func(t *testing.T) {
					t.Parallel()
					dir := filepath.Join(t.TempDir(), "netpol")
					mustWrite(t, dir, old)
					cmd := exec.Command(os.Args[0], "-test.run=^TestWriteKilledHelper$", "-test.count=1")
					cmd.Env = append(os.Environ(),
						"NETDEP_TEST_KILL_AT="+strconv.Itoa(n),
						"NETDEP_TEST_DIR="+dir,
						"NETDEP_TEST_NO_EXCHANGE="+map[bool]string{true: "1", false: "0"}[noExchange],
						"NETDEP_TEST_MOUNT="+map[bool]string{true: "1", false: "0"}[mode.mount])
					out, err := cmd.CombinedOutput()
					var ee *exec.ExitError
					if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
						t.Fatalf("call %d: helper was not killed: %v\n%s", n, err, out)
					}
					if mode.mount {
						if inPlaceState(t, dir, false, old, next) == mixState {
							mixed.Add(1)
						}
						f := &faultFS{mount: dir}
						if err := Write(dir, next, WriteOptions{FS: f}); err != nil {
							t.Fatalf("call %d: the next run below the mount point: %v", n, err)
						}
						requireTree(t, dir, next)
						requireNoLeftovers(t, dir)
						return
					}
					switch requireWhole(t, dir, old, next) {
					case -1:
						if !noExchange {
							t.Fatalf("call %d: the output directory vanished with an atomic exchange", n)
						}
						if err := recoverLeftovers(OS{}, filepath.Dir(dir), filepath.Base(dir)); err != nil {
							t.Fatalf("call %d: recover: %v", n, err)
						}
						if requireWhole(t, dir, old, next) != 0 {
							t.Fatalf("call %d: recovery did not restore the previous tree", n)
						}
						restored.Add(1)
					}
					mustWrite(t, dir, next)
					requireTree(t, dir, next)
					requireNoLeftovers(t, dir)
				})
			}
		})
		// Without exchange, one kill lands between the two renames; make
		// sure the restore path above really ran.
		if noExchange && !testing.Short() && restored.Load() == 0 {
			t.Error("no kill hit the window between the two renames")
		}
		// Below a mount point, kills between two exchanges leave a mix:
		// make sure the repair above really met one.
		if mode.mount && !testing.Short() && mixed.Load() == 0 {
			t.Error("no kill hit the window between two exchanges below the mount point")
		}
	}
}
