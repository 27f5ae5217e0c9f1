package gitrev

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// MaxExtractFile bounds one file Extract copies. A generated tree's files are
// kilobytes; a revision holding a larger one under the tree is refused rather
// than copied, so a hostile commit cannot fill the disk through it.
const MaxExtractFile = 8 << 20

// Extract copies the directory arg (a path as a PATH argument names it,
// relative to the directory given to Open) as it is at revision v into dst,
// a directory that exists and is empty, so that code reading a directory on
// disk (kustomize builds, the staleness comparison) can read it as it was.
// It returns the path shown to people for arg and whether v holds a
// directory there at all; nothing is copied when it does not.
//
// Regular files are copied with their contents. A symbolic link is copied as
// the file it leads to when that is a regular file inside the revision's
// tree (the rules of FS), and left out otherwise; nothing outside dst is
// ever written. Errors name files as "rev:path", git's notation.
func (r *Repo) Extract(v *Revision, arg, dst string) (shown string, ok bool, err error) {
	shown, inRepo, err := r.mapPath(arg)
	if err != nil {
		return shown, false, fmt.Errorf("%s: %w", shown, err)
	}
	fsys := v.FS()
	fi, err := fs.Stat(fsys, inRepo)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return shown, false, nil
	case err != nil:
		return shown, false, fmt.Errorf("%s:%s: %w", v.Name, shown, err)
	case !fi.IsDir():
		return shown, false, nil
	}
	name := func(p string) string { return v.Name + ":" + reroot(p, inRepo, shown) }
	err = fs.WalkDir(fsys, inRepo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name(p), pathless(err))
		}
		rel := relTo(p, inRepo)
		out := filepath.Join(dst, filepath.FromSlash(rel))
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			return os.Mkdir(out, 0o755)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			fi, err := fs.Stat(fsys, p)
			if err != nil || !fi.Mode().IsRegular() {
				return nil // leads nowhere, out of the tree, or to a directory
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		if err := copyBlob(fsys, p, out); err != nil {
			return fmt.Errorf("%s: %w", name(p), err)
		}
		return nil
	})
	if err != nil {
		return shown, false, err
	}
	return shown, true, nil
}

func copyBlob(fsys fs.FS, p, out string) error {
	f, err := fsys.Open(p)
	if err != nil {
		return pathless(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return pathless(err)
	}
	if fi.Size() > MaxExtractFile {
		return fmt.Errorf("%d bytes, more than the %d a file of a generated tree may hold", fi.Size(), MaxExtractFile)
	}
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	// The header's size is what the object claims; read no further than
	// the limit whatever it said.
	if _, err := io.Copy(w, io.LimitReader(f, MaxExtractFile)); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// relTo is p relative to root, both slash paths inside the tree.
func relTo(p, root string) string {
	if root == "." {
		return p
	}
	if p == root {
		return "."
	}
	return path.Clean(p[len(root)+1:])
}

// pathless drops the path an fs.PathError repeats: callers name the file
// themselves.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
