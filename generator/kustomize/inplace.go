package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// updateInPlace is Update for an output directory that cannot be renamed:
// a mount point, as `docker run -v $PWD/netpol:/out` makes one (renaming
// it fails with EBUSY). The new tree is written and synced in a scratch
// directory inside it, .netdep (on the same file system, and ignored by
// git), and then each top-level entry (base, overlays, ...) is exchanged
// with its new version, the marker last, each in one renameat2; the
// replaced entries, now in the scratch directory, are removed.
//
// The guarantees are those of the two-rename fallback. A failure undoes
// the exchanges made, so dir is as it was. A crash between two exchanges
// leaves dir a mix of the two trees until the next run, which repairs it
// (recoverInPlace) before writing: no file is lost, and nothing is left for
// git to pick up.
func updateInPlace(fsys FS, dir, abs string, tree Tree) (bool, error) {
	scratch := filepath.Join(abs, inPlaceScratch)
	if err := makeScratch(fsys, scratch); err != nil {
		return false, fmt.Errorf("write %s (a mount point, written below it): creating the scratch directory %s: %w", dir, inPlaceScratch, pathless(err))
	}
	tmp, err := mkdirRandom(fsys, scratch, newPrefix)
	if err != nil {
		_ = dropScratch(fsys, scratch)
		return false, fmt.Errorf("write %s (a mount point, written below it): creating a directory in %s: %w", dir, inPlaceScratch, pathless(err))
	}
	committed, mixed := false, false
	var garbage []string
	defer func() {
		if !committed && !mixed {
			_ = removeOwned(fsys, tmp)
			_ = dropScratch(fsys, scratch)
		}
	}()
	if err := writeTree(fsys, tmp, tree); err != nil {
		return false, fmt.Errorf("write %s: %w; %s is unchanged", dir, err, dir)
	}
	names, err := topLevel(fsys, abs, tmp)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", dir, err)
	}
	var done []undo
	old := "" // created on demand, where exchange is not available
	for _, name := range names {
		u, err := swapEntry(fsys, filepath.Join(tmp, name), filepath.Join(abs, name), func() (string, error) {
			if old == "" {
				d, err := mkdirRandom(fsys, scratch, oldPrefix)
				if err != nil {
					return "", err
				}
				old = d
			}
			return filepath.Join(old, name), nil
		})
		if err != nil {
			for i := len(done) - 1; i >= 0; i-- {
				if uerr := done[i](); uerr != nil {
					mixed = true // keep what is there for the next run's repair
					return false, fmt.Errorf("write %s: swapping %s below the mount point: %w; undoing the swap failed too (%v): the next run repairs it", dir, name, err, uerr)
				}
			}
			return false, fmt.Errorf("write %s: swapping %s below the mount point: %w; %s is unchanged", dir, name, pathless(err), dir)
		}
		done = append(done, u)
	}
	committed = true
	garbage = append(garbage, tmp)
	if old != "" {
		garbage = append(garbage, old)
	}

	return true, finish(fsys, dir, []string{abs, tmp}, garbage, scratch)
}

// topLevel is every name at the top of the output (but the scratch
// directory) and of the new tree, sorted, the marker last: until the
// marker is swapped, the output's marker is the previous one, so a crash
// never leaves a marker claiming files that are not there yet.
func topLevel(fsys FS, abs, tmp string) ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, d := range []string{abs, tmp} {
		entries, err := fsys.ReadDir(d)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if n := e.Name(); !seen[n] && n != MarkerName && !(d == abs && n == inPlaceScratch) {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return append(names, MarkerName), nil
}

// undo reverts one swapEntry.
type undo func() error

// swapEntry puts next (in the new tree) at cur (in the output) and the
// previous cur into the new tree's place: one exchange when both exist,
// else one rename. Without an atomic exchange, cur is first moved aside
// to parked() and next renamed in.
func swapEntry(fsys FS, next, cur string, parked func() (string, error)) (undo, error) {
	_, errNext := fsys.Lstat(next)
	_, errCur := fsys.Lstat(cur)
	switch {
	case errNext != nil && errCur != nil:
		return func() error { return nil }, nil // the marker of an empty directory's first tree: never both missing otherwise
	case errCur != nil: // only in the new tree
		if err := fsys.Rename(next, cur); err != nil {
			return nil, err
		}
		return func() error { return fsys.Rename(cur, next) }, nil
	case errNext != nil: // only in the previous tree: it goes with the garbage
		if err := fsys.Rename(cur, next); err != nil {
			return nil, err
		}
		return func() error { return fsys.Rename(next, cur) }, nil
	}
	err := fsys.Exchange(next, cur)
	if err == nil {
		return func() error { return fsys.Exchange(next, cur) }, nil
	}
	if !errors.Is(err, ErrExchangeUnsupported) {
		return nil, err
	}
	aside, err := parked()
	if err != nil {
		return nil, err
	}
	if err := fsys.Rename(cur, aside); err != nil {
		return nil, err
	}
	if err := fsys.Rename(next, cur); err != nil {
		if rerr := fsys.Rename(aside, cur); rerr != nil {
			return nil, fmt.Errorf("%w; putting it back failed too: %v", err, rerr)
		}
		return nil, err
	}
	return func() error {
		if err := fsys.Rename(cur, next); err != nil {
			return err
		}
		return fsys.Rename(aside, cur)
	}, nil
}

// recoverInPlace repairs an output directory whose swap below its mount
// point was cut short: its scratch directory holds the trees being swapped,
// and the output may hold a mix of the two. Every file there must be one a
// marker lists (the output's, or a tree's in the scratch directory), or a
// .gitkeep placeholder; anything else is refused, untouched. The scratch
// trees are removed, and the output's marker is rewritten to list what the
// output holds, so that it is a tree netdep owns again, which the run then
// replaces.
func recoverInPlace(fsys FS, abs string) error {
	scratch := filepath.Join(abs, inPlaceScratch)
	if fi, err := fsys.Lstat(scratch); err != nil || !fi.IsDir() {
		return nil // nothing to repair (and abs may not even be a directory)
	}
	entries, err := fsys.ReadDir(scratch)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var trees []string
	for _, e := range entries {
		if e.IsDir() && (strings.HasPrefix(e.Name(), newPrefix) || strings.HasPrefix(e.Name(), oldPrefix)) {
			trees = append(trees, filepath.Join(scratch, e.Name()))
		}
	}
	listed := map[string]bool{}
	own, outErr := readMarker(fsys, abs)
	for _, p := range own {
		listed[p] = true
	}
	for _, d := range trees {
		ps, _ := readMarker(fsys, d) // a marker cut short lists nothing
		for _, p := range ps {
			listed[p] = true
		}
	}
	union := make([]string, 0, len(listed))
	for p := range listed {
		union = append(union, p)
	}
	slices.Sort(union)

	foreign, err := foreignFiles(fsys, abs, union, true)
	if err != nil {
		return err
	}
	foreign = slices.DeleteFunc(foreign, func(p string) bool { return strings.HasPrefix(p, inPlaceScratch+"/") })
	if len(foreign) > 0 {
		return fmt.Errorf("%s: %w: an interrupted write left it holding files no netdep tree lists (%s); move them out", abs, ErrNotOwned, summarize(foreign))
	}
	for _, d := range trees {
		if err := removeListed(fsys, d, union, true); err != nil {
			return err
		}
	}
	// What the output holds now, if its marker does not say so already.
	var have []string
	if err := walk(fsys, abs, "", func(rel string, d fs.DirEntry) error {
		if rel == inPlaceScratch && d.IsDir() {
			return fs.SkipDir
		}
		if !d.IsDir() && rel != MarkerName && listed[rel] {
			have = append(have, rel)
		}
		return nil
	}); err != nil {
		return err
	}
	slices.Sort(have)
	if outErr == nil && !slices.ContainsFunc(have, func(p string) bool { return !slices.Contains(own, p) }) {
		return dropScratch(fsys, scratch)
	}
	tmp, err := mkdirRandom(fsys, scratch, newPrefix)
	if err != nil {
		return err
	}
	if err := writeFile(fsys, filepath.Join(tmp, MarkerName), markerContent(have, "")); err != nil {
		return err
	}
	if err := fsys.Rename(filepath.Join(tmp, MarkerName), filepath.Join(abs, MarkerName)); err != nil {
		return err
	}
	if err := fsys.Remove(tmp); err != nil {
		return err
	}
	return dropScratch(fsys, scratch)
}
