package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netdep/netdep/generator/policy"
)

var errInjected = errors.New("injected failure")

// faultFS is the real file system with one mutating call (counted from 1)
// failing, or killing the process, and optionally no atomic exchange.
type faultFS struct {
	OS
	mu         sync.Mutex
	n          int  // mutating calls so far
	failAt     int  // 0: never fail
	kill       bool // SIGKILL the process instead of returning an error
	noExchange bool // act like a platform without renameat2
	// realSync makes SyncDir and SyncTree reach the disk. Off by default:
	// a killed or failing process is what these tests model, not a power
	// cut, and syncs would make them slow.
	realSync bool
	// mount makes the directory at this path act as a mount point:
	// renaming or exchanging it fails with EBUSY, as the kernel says. With
	// hidden, MountPoint does not tell (a bind mount on a kernel without
	// statx's mount-root attribute), and only the rename finds out.
	mount  string
	hidden bool
	ops    []string // every mutating call, for failure messages
}

func (f *faultFS) MountPoint(name string) (bool, error) {
	return f.mount != "" && !f.hidden && name == f.mount, nil
}

func (f *faultFS) busy(a, b string) error {
	if f.mount != "" && (a == f.mount || b == f.mount) {
		return &os.LinkError{Op: "rename", Old: a, New: b, Err: syscall.EBUSY}
	}
	return nil
}

func (f *faultFS) hit(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.ops = append(f.ops, op+" "+filepath.Base(name))
	if f.n != f.failAt {
		return nil
	}
	if f.kill {
		killSelf()
	}
	return fmt.Errorf("%s %s: %w", op, name, errInjected)
}

func (f *faultFS) Mkdir(name string, perm fs.FileMode) error {
	if err := f.hit("mkdir", name); err != nil {
		return err
	}
	return f.OS.Mkdir(name, perm)
}

func (f *faultFS) Create(name string, perm fs.FileMode) (File, error) {
	if err := f.hit("create", name); err != nil {
		return nil, err
	}
	file, err := f.OS.Create(name, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name}, nil
}

func (f *faultFS) SyncDir(name string) error {
	if err := f.hit("syncdir", name); err != nil {
		return err
	}
	if !f.realSync {
		return nil
	}
	return f.OS.SyncDir(name)
}

func (f *faultFS) SyncTree(root string) error {
	if err := f.hit("synctree", root); err != nil {
		return err
	}
	if !f.realSync {
		return nil
	}
	return f.OS.SyncTree(root)
}

func (f *faultFS) Rename(a, b string) error {
	if err := f.busy(a, b); err != nil {
		return err
	}
	if err := f.hit("rename", a); err != nil {
		return err
	}
	return f.OS.Rename(a, b)
}

func (f *faultFS) Exchange(a, b string) error {
	if f.noExchange {
		return fmt.Errorf("exchange: %w", ErrExchangeUnsupported)
	}
	if err := f.busy(a, b); err != nil {
		return err
	}
	if err := f.hit("exchange", a); err != nil {
		return err
	}
	return f.OS.Exchange(a, b)
}

func (f *faultFS) Remove(name string) error {
	if err := f.hit("remove", name); err != nil {
		return err
	}
	return f.OS.Remove(name)
}

type faultFile struct {
	File
	fs   *faultFS
	name string
}

func (f *faultFile) Write(b []byte) (int, error) {
	if err := f.fs.hit("write", f.name); err != nil {
		// A short write, as a full disk gives.
		n, _ := f.File.Write(b[:len(b)/2])
		return n, err
	}
	return f.File.Write(b)
}

func (f *faultFile) Close() error {
	err := f.fs.hit("close", f.name)
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// oldAndNew are two small trees (few files keep the every-call loops fast)
// that differ in every way a rewrite can: a file added (a new service),
// files and directories removed (the prod overlay), a file modified.
func oldAndNew(t *testing.T) (Tree, Tree) {
	t.Helper()
	set := func() *policy.Set {
		return &policy.Set{
			Environments: []string{"dev", "prod"},
			Base:         []*networkingv1.NetworkPolicy{defaultDeny("shop")},
			Overlays: [][]*networkingv1.NetworkPolicy{
				{service("shop", "debug", nil, nil)},
				{service("payments", "audit", nil, nil)},
			},
		}
	}
	old, err := Build(set())
	if err != nil {
		t.Fatal(err)
	}
	next := set()
	next.Environments = next.Environments[:1]
	next.Overlays = next.Overlays[:1]
	next.Base[0].Spec.PolicyTypes = next.Base[0].Spec.PolicyTypes[:1]
	next.Base = append(next.Base, service("shop", "search", nil, nil))
	newTree, err := Build(next)
	if err != nil {
		t.Fatal(err)
	}
	if c := old.Diff(newTree); len(c.Added) == 0 || len(c.Removed) == 0 || len(c.Modified) < 2 {
		t.Fatalf("test trees do not differ in every way: %+v", c)
	}
	return old, newTree
}

// countOps returns the mutating calls a successful Write of next over prev
// (nil: into a missing directory) makes, in order ("create base.yaml").
func countOps(t *testing.T, prev *Tree, next Tree, noExchange bool) []string {
	t.Helper()
	return countOpsWith(t, prev, next, false, func(string) *faultFS { return &faultFS{noExchange: noExchange} })
}

// countOpsWith is countOps through the faultFS mk makes for the output
// directory, which exists beforehand (empty if prev is nil) when mkdir.
func countOpsWith(t *testing.T, prev *Tree, next Tree, mkdir bool, mk func(dir string) *faultFS) []string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "netpol")
	if mkdir {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if prev != nil {
		mustWrite(t, dir, *prev)
	}
	f := mk(dir)
	if err := Write(dir, next, WriteOptions{FS: f}); err != nil {
		t.Fatal(err)
	}
	return f.ops
}

// TestWriteSyncsBeforeSwap: the new tree is flushed once, after its last
// file is closed and before the swap makes it visible: a swap durable before
// the data it points at would leave empty files after a power cut.
func TestWriteSyncsBeforeSwap(t *testing.T) {
	old, next := oldAndNew(t)
	for _, noExchange := range []bool{false, true} {
		for _, prev := range []*Tree{nil, &old} {
			ops := countOps(t, prev, next, noExchange)
			syncAt, lastClose, swapAt, syncs := -1, -1, -1, 0
			for i, op := range ops {
				kind, _, _ := strings.Cut(op, " ")
				switch {
				case kind == "synctree":
					syncAt = i
					syncs++
				case kind == "close":
					lastClose = i
				case (kind == "rename" || kind == "exchange") && swapAt < 0:
					swapAt = i
				}
			}
			if syncs != 1 || syncAt < lastClose || syncAt > swapAt {
				t.Errorf("exchange=%v fresh=%v: want one synctree between the last close and the swap, got %v", !noExchange, prev == nil, ops)
			}
		}
	}
}

// requireWhole fails unless dir holds exactly one of the trees, and returns
// which (0 or 1); dir may be missing only if allowMissing.
func requireWhole(t *testing.T, dir string, trees ...Tree) int {
	t.Helper()
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return -1
	}
	got := readTree(t, dir)
	for i, tr := range trees {
		if got.Equal(tr) {
			return i
		}
	}
	t.Fatalf("%s holds a mix of trees:\n%s", dir, describe(got))
	return 0
}

// TestWriteFailsAtEveryStep fails the Nth file-system call of a Write, for
// every N, with and without an atomic exchange, over an existing tree and
// into a missing directory. The output is always either the whole previous
// tree, byte for byte, or the whole new one, and the new one only when the
// failure came after the swap (ErrCleanup). The next Write then succeeds and
// leaves nothing behind.
func TestWriteFailsAtEveryStep(t *testing.T) {
	old, next := oldAndNew(t)
	for _, noExchange := range []bool{false, true} {
		for _, fresh := range []bool{false, true} {
			name := fmt.Sprintf("exchange=%v/fresh=%v", !noExchange, fresh)
			t.Run(name, func(t *testing.T) {
				prev := &old
				if fresh {
					prev = nil
				}
				total := len(countOps(t, prev, next, noExchange))
				for n := 1; n <= total; n++ {
					t.Run(fmt.Sprint(n), func(t *testing.T) {
						t.Parallel()
						dir := filepath.Join(t.TempDir(), "netpol")
						if prev != nil {
							mustWrite(t, dir, *prev)
						}
						f := &faultFS{failAt: n, noExchange: noExchange}
						err := Write(dir, next, WriteOptions{FS: f})
						if err == nil {
							t.Fatalf("call %d (%s): Write succeeded despite the failure", n, f.ops[n-1])
						}
						if checkFailure(t, n, f, err, fresh, requireWhole(t, dir, old, next)) == 0 {
							// Usable: it still renders.
							if _, rerr := Render(readTree(t, dir), "overlays/prod"); rerr != nil {
								t.Fatalf("call %d: the previous tree no longer renders: %v", n, rerr)
							}
						}
						mustWrite(t, dir, next)
						requireTree(t, dir, next)
						requireNoLeftovers(t, dir)
					})
				}
			})
		}
	}
}

// checkFailure checks a Write failed at call n with the injected error,
// and that the output directory is in a state the failure allows: missing
// (-1) only if it was before, the previous tree (0) only if there was one,
// the new tree (1) only with ErrCleanup. It returns state.
func checkFailure(t *testing.T, n int, f *faultFS, err error, fresh bool, state int) int {
	t.Helper()
	if !errors.Is(err, errInjected) {
		t.Fatalf("call %d: %v, want an error wrapping the injected failure", n, err)
	}
	switch state {
	case -1:
		if !fresh {
			t.Fatalf("call %d (%s): the previous tree is gone: %v", n, f.ops[n-1], err)
		}
	case 0:
		if fresh {
			t.Fatalf("call %d: the old tree appeared from nowhere", n)
		}
	case 1:
		if !errors.Is(err, ErrCleanup) {
			t.Fatalf("call %d (%s): the new tree is in place but the error does not say so: %v", n, f.ops[n-1], err)
		}
	}
	return state
}

// twoTrees differ in their file lists, so any mix shows.
func twoTrees(t *testing.T) (Tree, Tree) {
	t.Helper()
	a, err := Build(testSet())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(&policy.Set{Base: []*networkingv1.NetworkPolicy{allowDNS("shop"), defaultDeny("shop"), service("shop", "other", nil, nil)}})
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// TestWriteConcurrent runs writers of two different trees at once, while a
// checker that takes the same lock looks at the directory between writes:
// it always sees one whole tree.
func TestWriteConcurrent(t *testing.T) {
	a, b := twoTrees(t)
	dir := filepath.Join(t.TempDir(), "netpol")
	const rounds = 15
	var wg sync.WaitGroup
	errs := make(chan error, 4*rounds)
	for _, tr := range []Tree{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := Write(dir, tr, WriteOptions{FS: &faultFS{}}); err != nil {
					errs <- err
				}
			}
		}()
	}
	done := make(chan struct{})
	checked := 0
	go func() {
		defer close(done)
		for range rounds {
			unlock, err := lockDir(filepath.Dir(dir), DefaultLockTimeout)
			if err != nil {
				errs <- err
				return
			}
			if _, err := os.Stat(dir); err == nil {
				if c1, c2 := mustCompare(dir, a), mustCompare(dir, b); !c1.Empty() && !c2.Empty() {
					errs <- fmt.Errorf("mixed tree: vs a %+v, vs b %+v", c1, c2)
				}
				checked++
			}
			unlock()
		}
	}()
	wg.Wait()
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	requireWhole(t, dir, a, b)
	requireNoLeftovers(t, dir)
}

func mustCompare(dir string, tr Tree) Changes {
	c, err := Compare(dir, tr)
	if err != nil {
		return Changes{Added: []string{err.Error()}}
	}
	return c
}

// TestWriteConcurrentProcesses does the same across processes (flock is
// per open file, but a second process is what users actually run).
func TestWriteConcurrentProcesses(t *testing.T) {
	if os.Getenv("NETDEP_TEST_LOOP_DIR") != "" {
		t.Skip("nested")
	}
	a, b := twoTrees(t)
	dir := filepath.Join(t.TempDir(), "netpol")
	var cmds []*exec.Cmd
	for _, which := range []string{"a", "b", "a", "b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriteLoopHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "NETDEP_TEST_LOOP_DIR="+dir, "NETDEP_TEST_LOOP_TREE="+which)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer process: %v", err)
		}
	}
	requireWhole(t, dir, a, b)
	requireNoLeftovers(t, dir)
}

func TestWriteLoopHelper(t *testing.T) {
	dir := os.Getenv("NETDEP_TEST_LOOP_DIR")
	if dir == "" {
		t.Skip("helper process for TestWriteConcurrentProcesses")
	}
	a, b := twoTrees(t)
	tr := a
	if os.Getenv("NETDEP_TEST_LOOP_TREE") == "b" {
		tr = b
	}
	for range 15 {
		if err := Write(dir, tr, WriteOptions{FS: &faultFS{}}); err != nil {
			t.Fatal(err)
		}
		// Whatever another process wrote since, under its lock the tree
		// was whole; check what is here now under ours.
		unlock, err := lockDir(filepath.Dir(dir), DefaultLockTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if c1, c2 := mustCompare(dir, a), mustCompare(dir, b); !c1.Empty() && !c2.Empty() {
			t.Fatalf("mixed tree: vs a %+v, vs b %+v", c1, c2)
		}
		unlock()
	}
}
