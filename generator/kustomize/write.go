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
	"syscall"
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

// Where a run works. The new tree is built, and the previous one parked
// while it is removed, in a scratch directory beside the output,
// ".<base>.netdep", on the same file system (a rename cannot cross one).
// The scratch directory holds a .gitignore of "*" from its first moment,
// so whatever a crash leaves there, `git add .` does not pick it up; the
// next run removes it. Locking takes no file at all (see lockDir).
//
// Output directories that cannot be renamed (mount points) get their
// scratch directory inside them, ".netdep" (see updateInPlace).
func scratchName(base string) string { return "." + base + ".netdep" }

const (
	inPlaceScratch = ".netdep"
	newPrefix      = "new-" // in scratch: a tree being written, or after an exchange the replaced one
	oldPrefix      = "old-" // in scratch: the previous tree set aside by the two-rename fallback
	gitignoreName  = ".gitignore"
	scratchIgnore  = "# netdep's scratch space: a tree being written or removed. A run that\n# crashed leaves it behind and the next run removes it; git ignores it.\n*\n"
)

// Names an earlier netdep used beside the output, still recovered: a tree
// set aside by a run that crashed is the user's previous output.
func legacyNewPrefix(base string) string { return "." + base + ".netdep-new-" }
func legacyOldPrefix(base string) string { return "." + base + ".netdep-old-" }
func legacyLockName(base string) string  { return "." + base + ".netdep.lock" }

func randSuffix() string             { b := make([]byte, 6); rand.Read(b); return hex.EncodeToString(b) }
func joinSlash(dir, p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }

// Write replaces directory dir with tree, atomically: the tree is written
// and synced (FS.SyncTree) in the scratch directory beside dir, then swapped
// in with one renameat2(RENAME_EXCHANGE) where available (else two renames,
// a crash between which the next run repairs), then the previous tree is
// removed. A failed Write leaves dir as it was.
//
// Write replaces only what it owns: dir must be missing, empty (or hold
// only empty directories and .gitkeep placeholders), or a tree an earlier
// Write produced (its .netdep-tree marker lists every file in it). It
// refuses the file-system root, the home directory, a directory containing
// .git and anything inside a repository's .git. Concurrent Writes to one
// dir are serialised by a lock on dir's parent directory. A dir that
// already holds exactly tree is left alone: no file is rewritten (and none
// is created, so a read-only file system is fine), so modification times
// (and git's index, and whatever watches the directory) see no change.
//
// A dir that is a mount point (docker run -v $PWD/netpol:/out) cannot be
// renamed; its contents are swapped below it instead (see updateInPlace).
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
	unlock, err := lockDir(parent, timeout)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", dir, err)
	}
	defer unlock()

	// Under the lock nobody else is writing, so anything in a scratch
	// directory is from a run that died.
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
	if exists {
		if mp, err := fsys.MountPoint(abs); err == nil && mp {
			return updateInPlace(fsys, dir, abs, tree)
		}
	}
	changed, err = replace(fsys, dir, abs, tree, exists)
	if errors.Is(err, errMounted) {
		// A mount point the check above did not tell (a bind mount of
		// the same file system, a kernel without statx): renaming it
		// said so. Nothing was changed; write below it instead.
		return updateInPlace(fsys, dir, abs, tree)
	}
	return changed, err
}

// errMounted is returned by replace, before it changed anything, when dir
// turned out to be a mount point.
var errMounted = errors.New("the output directory is a mount point")

// replace writes tree beside abs and swaps it in whole.
func replace(fsys FS, dir, abs string, tree Tree, exists bool) (bool, error) {
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	scratch := filepath.Join(parent, scratchName(base))
	if err := makeScratch(fsys, scratch); err != nil {
		return false, fmt.Errorf("write %s: creating the scratch directory %s: %w; %s is unchanged", dir, scratch, pathless(err), dir)
	}
	tmp, err := mkdirRandom(fsys, scratch, newPrefix)
	if err != nil {
		return false, fmt.Errorf("write %s: creating a directory in %s: %w; %s is unchanged", dir, scratch, pathless(err), dir)
	}
	committed := false
	defer func() {
		if !committed {
			// Best effort: what stays is removed by the next run.
			_ = removeOwned(fsys, tmp)
			_ = dropScratch(fsys, scratch)
		}
	}()
	if err := writeTree(fsys, tmp, tree); err != nil {
		return false, fmt.Errorf("write %s: %w; %s is unchanged", dir, err, dir)
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
		case errors.Is(err, syscall.EBUSY):
			return false, errMounted
		case errors.Is(err, ErrExchangeUnsupported):
			old := filepath.Join(scratch, oldPrefix+randSuffix())
			if err := fsys.Rename(abs, old); err != nil {
				if errors.Is(err, syscall.EBUSY) {
					return false, errMounted
				}
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

	var garbages []string
	if garbage != "" {
		garbages = append(garbages, garbage)
	}
	return true, finish(fsys, dir, []string{parent}, garbages, scratch)
}

// finish is what follows a swap: the directories whose entries changed are
// synced, the replaced tree removed and the scratch directory with it. The
// new tree is in place whatever fails here; the error says so (ErrCleanup)
// and the next run removes what is left.
func finish(fsys FS, dir string, changed, garbage []string, scratch string) error {
	var errs []error
	for _, d := range changed {
		if err := fsys.SyncDir(d); err != nil {
			errs = append(errs, err)
		}
	}
	for _, g := range garbage {
		if err := removeOwned(fsys, g); err != nil {
			errs = append(errs, err)
		}
	}
	if err := dropScratch(fsys, scratch); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("write %s: %w: %w", dir, ErrCleanup, errors.Join(errs...))
	}
	return nil
}

// makeScratch creates a scratch directory, if missing, with its .gitignore
// first of all: from then on git ignores whatever is in it.
func makeScratch(fsys FS, scratch string) error {
	if err := fsys.Mkdir(scratch, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	err := writeFile(fsys, filepath.Join(scratch, gitignoreName), []byte(scratchIgnore))
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// dropScratch removes a scratch directory holding nothing but its
// .gitignore; one that holds more is a leftover for the next run, and a
// missing one is fine.
func dropScratch(fsys FS, scratch string) error {
	entries, err := fsys.ReadDir(scratch)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != gitignoreName {
			return nil
		}
	}
	if err := fsys.Remove(filepath.Join(scratch, gitignoreName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return fsys.Remove(scratch)
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
	// Inside a repository's own metadata (.git, or a bare repository),
	// a generated tree would be git's data, not a file in the repository.
	// The path as given, and the real path of its nearest existing
	// ancestor (a symlink may lead into a .git).
	existing := abs
	for _, err := fsys.Lstat(existing); err != nil && filepath.Dir(existing) != existing; _, err = fsys.Lstat(existing) {
		existing = filepath.Dir(existing)
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		real = existing
	}
	for _, p := range []string{abs, real} {
		for d := p; ; d = filepath.Dir(d) {
			if strings.EqualFold(filepath.Base(d), ".git") || isGitDir(fsys, d) {
				return fmt.Errorf("%s: %w: it is inside %s, a git repository's own metadata; give a directory of the working tree, beside .git", abs, ErrRefused, d)
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return nil
}

// isGitDir reports whether d looks like a git directory (HEAD, objects,
// refs), as git itself recognises one.
func isGitDir(fsys FS, d string) bool {
	for _, name := range []string{"HEAD", "objects", "refs"} {
		if _, err := fsys.Lstat(filepath.Join(d, name)); err != nil {
			return false
		}
	}
	return true
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
		if foreign, ferr := foreignFiles(fsys, abs, nil, true); ferr == nil && len(foreign) == 0 {
			return true, nil // only empty directories and .gitkeep placeholders
		}
		return false, fmt.Errorf("%s: %w: it is not empty and has no %s, so netdep did not generate it; refusing to replace it (choose another output directory, or empty this one)", abs, ErrNotOwned, MarkerName)
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w: %s: %v", abs, ErrNotOwned, MarkerName, err)
	}
	foreign, err := foreignFiles(fsys, abs, listed, false)
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
// writes one. With placeholders (a directory without a marker), a .gitkeep
// is not foreign either: a directory of nothing but empty directories and
// .gitkeep files (kept so that git tracks it) is as good as empty.
func foreignFiles(fsys FS, root string, listed []string, placeholders bool) ([]string, error) {
	own := map[string]bool{MarkerName: true}
	for _, p := range listed {
		own[p] = true
	}
	var foreign []string
	err := walk(fsys, root, "", func(rel string, d fs.DirEntry) error {
		switch {
		case d.IsDir():
		case d.Type().IsRegular() && (own[rel] || placeholders && path.Base(rel) == ".gitkeep"):
		default:
			foreign = append(foreign, rel)
		}
		return nil
	})
	return foreign, err
}

// walk calls fn for every entry under root (relative slash path), parents
// before children, never following symbolic links. fn returning
// fs.SkipDir for a directory skips what is in it.
func walk(fsys FS, root, rel string, fn func(rel string, d fs.DirEntry) error) error {
	entries, err := fsys.ReadDir(joinSlash(root, rel))
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := path.Join(rel, e.Name())
		if err := fn(p, e); err != nil {
			if errors.Is(err, fs.SkipDir) && e.IsDir() {
				continue
			}
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
// Errors name the file by its path in the tree (base/shop/cart.yaml: no
// space left on device), not by the temporary directory it was written in.
func writeTree(fsys FS, root string, tree Tree) error {
	paths := tree.Paths()
	paths = slices.DeleteFunc(paths, func(p string) bool { return p == MarkerName })
	data, _ := tree.Get(MarkerName)
	if err := writeFile(fsys, joinSlash(root, MarkerName), data); err != nil {
		return inTree(MarkerName, err)
	}
	made := map[string]bool{".": true}
	for _, p := range paths {
		var need []string
		for d := path.Dir(p); !made[d]; d = path.Dir(d) {
			need = append(need, d)
		}
		for i := len(need) - 1; i >= 0; i-- {
			if err := fsys.Mkdir(joinSlash(root, need[i]), 0o755); err != nil {
				return inTree(need[i], err)
			}
			made[need[i]] = true
		}
	}
	// Creating a file is mostly the kernel's work (an inode, a directory
	// entry), and on a tree of 20,000 files it was the longest stage: write
	// on every core.
	if err := inRuns(paths, func(p string) error {
		data, _ := tree.Get(p)
		return inTree(p, writeFile(fsys, joinSlash(root, p), data))
	}); err != nil {
		return err
	}
	// One flush for the whole tree, files and directory entries alike,
	// rather than an fsync per file and directory.
	if err := fsys.SyncTree(root); err != nil {
		return fmt.Errorf("making the new tree durable: %w", pathless(err))
	}
	return nil
}

// inTree names a failure by the path in the tree it happened at.
func inTree(rel string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", rel, pathless(err))
}

// pathless drops the operation and the (temporary) path of an
// *fs.PathError, keeping its cause (and so errors.Is).
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
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
	return err
}

// removeOwned removes root, a tree netdep wrote (or an interrupted start of
// one): the files its marker lists, the marker, then directories left empty.
// Anything else stays, and so does root, with an ErrNotOwned error: netdep
// never deletes a file it did not create. Without a marker, root is an
// unfinished start or the placeholders an output directory held before
// netdep's first tree replaced them: .gitkeep files go too.
func removeOwned(fsys FS, root string) error {
	listed, err := readMarker(fsys, root)
	placeholders := false
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		placeholders = true
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
	return removeListed(fsys, root, listed, placeholders)
}

// removeListed removes root holding only the files listed (and the marker,
// and .gitkeep files with placeholders), refusing before it removes anything
// if root holds another file.
func removeListed(fsys FS, root string, listed []string, placeholders bool) error {
	// Refuse before removing anything, so a leftover someone put a file
	// into stays whole for them to inspect. Removal below is by the list
	// anyway, which keeps a file added meanwhile safe.
	foreign, err := foreignFiles(fsys, root, listed, placeholders)
	if err != nil {
		return err
	}
	if len(foreign) > 0 {
		return fmt.Errorf("%s: %w: kept, it holds files netdep did not write (%s); move them out and remove it", root, ErrNotOwned, summarize(foreign))
	}
	var dirs, keeps []string
	if err := walk(fsys, root, "", func(rel string, d fs.DirEntry) error {
		switch {
		case d.IsDir():
			dirs = append(dirs, rel)
		case placeholders && path.Base(rel) == ".gitkeep" && d.Type().IsRegular():
			keeps = append(keeps, rel)
		}
		return nil
	}); err != nil {
		return err
	}
	// Unlinking is the kernel's work, like creating: on every core.
	if err := inRuns(append(slices.Clone(listed), keeps...), func(p string) error {
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
		foreign, ferr := foreignFiles(fsys, root, nil, false)
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

// recoverLeftovers finishes what a killed run left. In the scratch
// directory beside the output, a new- directory is always disposable:
// before the swap it is an unfinished tree, after an exchange it holds the
// replaced one. An old- directory is the previous tree set aside by the
// two-rename fallback; if the run died before the second rename, dir is
// missing and the old tree goes back. The same holds for the sibling names
// an earlier netdep used; its lock file, left by a crash, goes. A scratch
// directory inside the output is a swap below a mount point that did not
// finish (recoverInPlace).
func recoverLeftovers(fsys FS, parent, base string) error {
	abs := filepath.Join(parent, base)
	if err := recoverInPlace(fsys, abs); err != nil {
		return err
	}
	scratch := filepath.Join(parent, scratchName(base))
	var news, olds []string
	collect := func(dir, newP, oldP string) error {
		entries, err := fsys.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			switch {
			case strings.HasPrefix(e.Name(), newP):
				news = append(news, filepath.Join(dir, e.Name()))
			case strings.HasPrefix(e.Name(), oldP):
				olds = append(olds, filepath.Join(dir, e.Name()))
			}
		}
		return nil
	}
	if err := collect(scratch, newPrefix, oldPrefix); err != nil {
		return err
	}
	if err := collect(parent, legacyNewPrefix(base), legacyOldPrefix(base)); err != nil {
		return err
	}
	if fi, err := fsys.Lstat(filepath.Join(parent, legacyLockName(base))); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		if err := fsys.Remove(filepath.Join(parent, legacyLockName(base))); err != nil {
			return err
		}
	}
	if len(news) > 0 || len(olds) > 0 {
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
	}
	return dropScratch(fsys, scratch)
}
