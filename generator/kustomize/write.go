package kustomize

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// DefaultLockTimeout is how long Write waits for another run writing the
// same directory before it gives up.
const DefaultLockTimeout = 30 * time.Second

var (
	// ErrNotOwned is returned when the output directory, or a leftover of
	// an interrupted run, holds files netdep did not write.
	ErrNotOwned = errors.New("not a tree netdep owns")
	// ErrRefused is returned for an output directory netdep never writes
	// to: the file-system root, the home directory, a repository root.
	ErrRefused = errors.New("refusing to write there")
	// ErrLocked is returned when another run held the lock for longer
	// than the lock timeout.
	ErrLocked = errors.New("output directory is locked")
	// ErrCleanup is returned, wrapped, when the new tree was put in place
	// but a later step (making the swap durable, removing the previous
	// tree) failed. The directory holds the new tree; the next run removes
	// what was left.
	ErrCleanup = errors.New("new tree in place, cleanup failed")
)

// WriteOptions tunes Write. The zero value is the real file system and
// DefaultLockTimeout.
type WriteOptions struct {
	// FS is the file system to write through; nil means OS{}.
	FS FS
	// LockTimeout bounds the wait for a concurrent run; zero means
	// DefaultLockTimeout.
	LockTimeout time.Duration
}

// Names of siblings of the output directory, all starting with "."+base so
// they sort next to it, are hidden, and are recognisable after a crash.
func lockName(base string) string    { return "." + base + ".netdep.lock" }
func newPrefix(base string) string   { return "." + base + ".netdep-new-" }
func oldPrefix(base string) string   { return "." + base + ".netdep-old-" }
func randSuffix() string             { b := make([]byte, 6); rand.Read(b); return hex.EncodeToString(b) }
func joinSlash(dir, p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }

// Write replaces directory dir with tree, atomically: the tree is written
// and synced (FS.SyncTree) in a sibling directory, then swapped in with one
// renameat2(RENAME_EXCHANGE) where available (else two renames, a crash
// between which the next run repairs), then the previous tree is removed.
// A failed Write leaves dir as it was.
//
// Write replaces only what it owns: dir must be missing, empty, or a tree an
// earlier Write produced (its .netdep-tree marker lists every file in it).
// It refuses the file-system root, the home directory and a directory
// containing .git. Concurrent Writes to one dir are serialised by a lock file
// in dir's parent. A dir that already holds exactly tree is left alone: no
// file is rewritten, so modification times (and git's index, and whatever
// watches the directory) see no change.
func Write(dir string, tree Tree, opts WriteOptions) error {
	_, err := Update(dir, tree, opts)
	return err
}

// Update is Write, reporting whether dir changed: false when it already held
// exactly tree.
func Update(dir string, tree Tree, opts WriteOptions) (changed bool, err error) {
	if _, ok := tree.Get(MarkerName); !ok {
		return false, fmt.Errorf("write %s: tree has no %s marker (make it with Build or NewTree)", dir, MarkerName)
	}
	fsys := opts.FS
	if fsys == nil {
		fsys = OS{}
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", dir, err)
	}
	if err := refuseDangerous(fsys, abs); err != nil {
		return false, err
	}
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	if err := mkdirAll(fsys, parent); err != nil {
		return false, fmt.Errorf("write %s: %w", dir, err)
	}
	unlock, err := lockFile(filepath.Join(parent, lockName(base)), timeout)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", dir, err)
	}
	defer unlock()

	// Under the lock nobody else is writing, so anything with our prefixes
	// is from a run that died.
	if err := recoverLeftovers(fsys, parent, base); err != nil {
		return false, fmt.Errorf("write %s: recovering from an interrupted run: %w", dir, err)
	}
	exists, err := checkOwned(fsys, abs)
	if err != nil {
		return false, err
	}
	if exists && holds(fsys, abs, tree) {
		return false, nil
	}

	tmp, err := mkdirRandom(fsys, parent, newPrefix(base))
	if err != nil {
		return false, fmt.Errorf("write %s: %w", dir, err)
	}
	committed := false
	defer func() {
		if !committed {
			// Best effort: what stays is removed by the next run.
			_ = removeOwned(fsys, tmp)
		}
	}()
	if err := writeTree(fsys, tmp, tree); err != nil {
		return false, fmt.Errorf("write %s: %w", dir, err)
	}

	var garbage string
	switch {
	case !exists:
		if err := fsys.Rename(tmp, abs); err != nil {
			return false, fmt.Errorf("write %s: %w", dir, err)
		}
	default:
		err := fsys.Exchange(tmp, abs)
		switch {
		case err == nil:
			garbage = tmp // it now holds the previous tree
		case errors.Is(err, ErrExchangeUnsupported):
			old := filepath.Join(parent, oldPrefix(base)+randSuffix())
			if err := fsys.Rename(abs, old); err != nil {
				return false, fmt.Errorf("write %s: %w", dir, err)
			}
			if err := fsys.Rename(tmp, abs); err != nil {
				if rerr := fsys.Rename(old, abs); rerr != nil {
					return false, fmt.Errorf("write %s: %w; putting the previous tree back failed too (%v): the next run restores it from %s", dir, err, rerr, old)
				}
				return false, fmt.Errorf("write %s: %w", dir, err)
			}
			garbage = old
		default:
			return false, fmt.Errorf("write %s: %w", dir, err)
		}
	}
	committed = true

	var errs []error
	if err := fsys.SyncDir(parent); err != nil {
		errs = append(errs, err)
	}
	if garbage != "" {
		if err := removeOwned(fsys, garbage); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return true, fmt.Errorf("write %s: %w: %w", dir, ErrCleanup, errors.Join(errs...))
	}
	return true, nil
}

// holds reports whether dir, a tree netdep owns, already holds exactly tree.
// Its marker lists every file in it, so equal markers mean equal file
// lists, and then the files are read until one differs, on every core. Any
// doubt (a read error, a file gone) is a difference: the tree is written.
func holds(fsys FS, dir string, tree Tree) bool {
	want, _ := tree.Get(MarkerName)
	got, err := fsys.ReadFile(filepath.Join(dir, MarkerName))
	if err != nil || !bytes.Equal(got, want) {
		return false
	}
	paths := slices.DeleteFunc(tree.Paths(), func(p string) bool { return p == MarkerName })
	return inRuns(paths, func(p string) error {
		got, err := fsys.ReadFile(joinSlash(dir, p))
		if want, _ := tree.Get(p); err != nil || !bytes.Equal(got, want) {
			return errDiffers
		}
		return nil
	}) == nil
}

var errDiffers = errors.New("differs")

// refuseDangerous rejects output directories whose replacement would be a
// disaster even with a forged marker.
func refuseDangerous(fsys FS, abs string) error {
	if filepath.Dir(abs) == abs {
		return fmt.Errorf("%s: %w: it is the file-system root", abs, ErrRefused)
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" && sameDir(abs, home) {
		return fmt.Errorf("%s: %w: it is the home directory", abs, ErrRefused)
	}
	if _, err := fsys.Lstat(filepath.Join(abs, ".git")); err == nil {
		return fmt.Errorf("%s: %w: it contains .git (a repository root); give a directory inside it, such as %s", abs, ErrRefused, filepath.Join(abs, "netpol"))
	}
	return nil
}

func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

func mkdirAll(fsys FS, dir string) error {
	fi, err := fsys.Lstat(dir)
	if err == nil {
		if fi.IsDir() {
			return nil
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			// A symlinked parent (e.g. /tmp on macOS) is fine; only a
			// link to a non-directory is an error.
			if st, err := os.Stat(dir); err == nil && st.IsDir() {
				return nil
			}
		}
		return fmt.Errorf("%s: not a directory", dir)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if up := filepath.Dir(dir); up != dir {
		if err := mkdirAll(fsys, up); err != nil {
			return err
		}
	}
	if err := fsys.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

func mkdirRandom(fsys FS, parent, prefix string) (string, error) {
	for range 100 {
		name := filepath.Join(parent, prefix+randSuffix())
		err := fsys.Mkdir(name, 0o755)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s: cannot find a free temporary name", parent)
}

// checkOwned reports whether abs exists, and fails unless netdep may replace
// it: missing, empty, or every file in it listed by its marker.
func checkOwned(fsys FS, abs string) (bool, error) {
	fi, err := fsys.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return false, fmt.Errorf("%s: %w: it is a symbolic link; give its target as the output directory", abs, ErrNotOwned)
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s: %w: it is not a directory", abs, ErrNotOwned)
	}
	entries, err := fsys.ReadDir(abs)
	if err != nil {
		return false, err
	}
	if len(entries) == 0 {
		return true, nil
	}
	listed, err := readMarker(fsys, abs)
	if errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("%s: %w: it is not empty and has no %s, so netdep did not generate it; refusing to replace it (choose another output directory, or empty this one)", abs, ErrNotOwned, MarkerName)
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w: %s: %v", abs, ErrNotOwned, MarkerName, err)
	}
	foreign, err := foreignFiles(fsys, abs, listed)
	if err != nil {
		return false, err
	}
	if len(foreign) > 0 {
		return false, fmt.Errorf("%s: %w: it holds files netdep did not write (%s); refusing to replace it (move them elsewhere)", abs, ErrNotOwned, summarize(foreign))
	}
	return true, nil
}

func readMarker(fsys FS, root string) ([]string, error) {
	data, err := fsys.ReadFile(filepath.Join(root, MarkerName))
	if err != nil {
		return nil, err
	}
	return parseMarker(data)
}

func summarize(ps []string) string {
	const max = 5
	if len(ps) <= max {
		return strings.Join(ps, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ps[:max], ", "), len(ps)-max)
}

// foreignFiles lists, sorted, every non-directory under root that is neither
// the marker nor listed in it. Symbolic links count as foreign: netdep never
// writes one.
func foreignFiles(fsys FS, root string, listed []string) ([]string, error) {
	own := map[string]bool{MarkerName: true}
	for _, p := range listed {
		own[p] = true
	}
	var foreign []string
	err := walk(fsys, root, "", func(rel string, d fs.DirEntry) error {
		if !d.IsDir() && !(d.Type().IsRegular() && own[rel]) {
			foreign = append(foreign, rel)
		}
		return nil
	})
	return foreign, err
}

// walk calls fn for every entry under root (relative slash path), parents
// before children, never following symbolic links.
func walk(fsys FS, root, rel string, fn func(rel string, d fs.DirEntry) error) error {
	entries, err := fsys.ReadDir(joinSlash(root, rel))
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := path.Join(rel, e.Name())
		if err := fn(p, e); err != nil {
			return err
		}
		if e.IsDir() {
			if err := walk(fsys, root, p, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeTree writes every file of tree under the empty directory root, the
// marker first: whatever a crash leaves behind is then listed by a marker,
// so the next run can remove exactly that and nothing else. It returns once
// the whole tree is on disk: the swap that follows must not be durable
// before the data it points at, or a power cut would leave empty files.
func writeTree(fsys FS, root string, tree Tree) error {
	paths := tree.Paths()
	paths = slices.DeleteFunc(paths, func(p string) bool { return p == MarkerName })
	data, _ := tree.Get(MarkerName)
	if err := writeFile(fsys, joinSlash(root, MarkerName), data); err != nil {
		return err
	}
	made := map[string]bool{".": true}
	for _, p := range paths {
		var need []string
		for d := path.Dir(p); !made[d]; d = path.Dir(d) {
			need = append(need, d)
		}
		for i := len(need) - 1; i >= 0; i-- {
			if err := fsys.Mkdir(joinSlash(root, need[i]), 0o755); err != nil {
				return err
			}
			made[need[i]] = true
		}
	}
	// Creating a file is mostly the kernel's work (an inode, a directory
	// entry), and on a tree of 20,000 files it was the longest stage: write
	// on every core.
	if err := inRuns(paths, func(p string) error {
		data, _ := tree.Get(p)
		return writeFile(fsys, joinSlash(root, p), data)
	}); err != nil {
		return err
	}
	// One flush for the whole tree, files and directory entries alike,
	// rather than an fsync per file and directory.
	return fsys.SyncTree(root)
}

// inRuns calls fn for every path, one worker per core taking runs of 64
// neighbouring paths (enough to amortise handing out work, few enough that
// workers rarely meet in one directory), and stops at the first error,
// which it returns.
func inRuns(paths []string, fn func(string) error) error {
	const run = 64
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(runtime.GOMAXPROCS(0))
	for lo := 0; lo < len(paths) && ctx.Err() == nil; lo += run {
		batch := paths[lo:min(lo+run, len(paths))]
		g.Go(func() error {
			for _, p := range batch {
				if ctx.Err() != nil {
					return nil // another worker failed; its error is returned
				}
				if err := fn(p); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

func writeFile(fsys FS, name string, data []byte) error {
	f, err := fsys.Create(name, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// removeOwned removes root, a tree netdep wrote (or an interrupted start of
// one): the files its marker lists, the marker, then directories left empty.
// Anything else stays, and so does root, with an ErrNotOwned error: netdep
// never deletes a file it did not create.
func removeOwned(fsys FS, root string) error {
	listed, err := readMarker(fsys, root)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
	default:
		// A marker cut short by a crash, before any other file was
		// written (the marker is written first): only a lone marker may
		// go.
		entries, rerr := fsys.ReadDir(root)
		if rerr != nil || len(entries) != 1 || entries[0].Name() != MarkerName {
			return fmt.Errorf("%s: %w: %s: %v", root, ErrNotOwned, MarkerName, err)
		}
		listed = nil
	}
	// Refuse before removing anything, so a leftover someone put a file
	// into stays whole for them to inspect. Removal below is by the list
	// anyway, which keeps a file added meanwhile safe.
	foreign, err := foreignFiles(fsys, root, listed)
	if err != nil {
		return err
	}
	if len(foreign) > 0 {
		return fmt.Errorf("%s: %w: kept, it holds files netdep did not write (%s); move them out and remove it", root, ErrNotOwned, summarize(foreign))
	}
	// Unlinking is the kernel's work, like creating: on every core.
	if err := inRuns(listed, func(p string) error {
		if err := fsys.Remove(joinSlash(root, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	if err := fsys.Remove(filepath.Join(root, MarkerName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var dirs []string
	if err := walk(fsys, root, "", func(rel string, d fs.DirEntry) error {
		if d.IsDir() {
			dirs = append(dirs, rel)
		}
		return nil
	}); err != nil {
		return err
	}
	// A directory someone put a file into fails to go, and so does root;
	// that is reported below as what it is.
	var firstErr error
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := fsys.Remove(joinSlash(root, dirs[i])); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if err := fsys.Remove(root); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		foreign, ferr := foreignFiles(fsys, root, nil)
		if ferr == nil && len(foreign) > 0 {
			return fmt.Errorf("%s: %w: kept, it holds files netdep did not write (%s); move them out and remove it", root, ErrNotOwned, summarize(foreign))
		}
		if firstErr != nil {
			return firstErr
		}
		return err
	}
	return nil
}

// recoverLeftovers finishes what a killed run left in parent. A new-prefixed
// directory is always disposable: before the swap it is an unfinished tree,
// after an exchange it holds the replaced one. An old-prefixed directory is
// the previous tree set aside by the two-rename fallback; if the run died
// before the second rename, dir is missing and the old tree goes back.
func recoverLeftovers(fsys FS, parent, base string) error {
	entries, err := fsys.ReadDir(parent)
	if err != nil {
		return err
	}
	var news, olds []string
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), newPrefix(base)):
			news = append(news, filepath.Join(parent, e.Name()))
		case strings.HasPrefix(e.Name(), oldPrefix(base)):
			olds = append(olds, filepath.Join(parent, e.Name()))
		}
	}
	if len(news) == 0 && len(olds) == 0 {
		return nil
	}
	abs := filepath.Join(parent, base)
	if _, err := fsys.Lstat(abs); errors.Is(err, fs.ErrNotExist) && len(olds) > 0 {
		if len(olds) > 1 {
			return fmt.Errorf("%s is missing and there are several earlier trees (%s); rename the right one to %s", abs, strings.Join(olds, ", "), base)
		}
		if err := fsys.Rename(olds[0], abs); err != nil {
			return fmt.Errorf("restoring %s from %s: %w", abs, olds[0], err)
		}
		olds = nil
	}
	for _, d := range append(news, olds...) {
		if err := removeOwned(fsys, d); err != nil {
			return err
		}
	}
	return nil
}
