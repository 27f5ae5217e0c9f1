package gitrev

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// treeFS is a commit's tree as a read-only fs.FS. It implements
// fs.ReadDirFS, fs.StatFS and fs.ReadLinkFS (Lstat and ReadLink), which is
// everything schema.ReadFS needs to treat symlinks as the working tree does.
type treeFS struct {
	root *object.Tree
}

var (
	_ fs.ReadDirFS  = treeFS{}
	_ fs.StatFS     = treeFS{}
	_ fs.ReadLinkFS = treeFS{}
)

// maxHops matches schema's limit (and Linux's) on symlinks in one lookup.
const maxHops = 40

var errLoop = errors.New("too many levels of symbolic links")

// node is one entry of the tree: a directory (tree != nil) or a blob.
type node struct {
	name string
	mode filemode.FileMode
	tree *object.Tree
	file *object.File
}

// lstat finds name without following a symlink in its last element; links
// in the directories above it are followed, as lstat(2) does.
func (t treeFS) lstat(op, name string) (*node, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &node{name: ".", mode: filemode.Dir, tree: t.root}, nil
	}
	parent, base := ".", path.Base(name)
	if d := path.Dir(name); d != "." {
		real, err := t.resolve(d, 0)
		if err != nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: err}
		}
		parent = real
	}
	n, err := t.entry(path.Join(parent, base))
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	n.name = base
	return n, nil
}

// stat is lstat that follows a final symlink.
func (t treeFS) stat(op, name string) (*node, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	real, err := t.resolve(name, 0)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	n, err := t.entry(real)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	n.name = path.Base(name)
	return n, nil
}

// resolve follows every symlink in p, component by component, staying inside
// the tree: a link leading above the root or to an absolute path does not
// exist here.
func (t treeFS) resolve(p string, hops int) (string, error) {
	done := "."
	rest := strings.Split(p, "/")
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if done == "." {
				return "", fs.ErrNotExist
			}
			done = path.Dir(done)
			continue
		}
		next := path.Join(done, c)
		n, err := t.entry(next)
		if err != nil {
			return "", err
		}
		if n.mode != filemode.Symlink {
			if len(rest) > 0 && n.tree == nil {
				return "", fs.ErrNotExist // a file used as a directory
			}
			done = next
			continue
		}
		if hops++; hops > maxHops {
			return "", errLoop
		}
		target, err := n.file.Contents()
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			return "", fs.ErrNotExist
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return done, nil
}

// entry returns the node at p, a path with no symlink above its last element.
func (t treeFS) entry(p string) (*node, error) {
	if p == "." {
		return &node{name: ".", mode: filemode.Dir, tree: t.root}, nil
	}
	e, err := t.root.FindEntry(p)
	if err != nil {
		if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
			return nil, fs.ErrNotExist
		}
		return nil, err
	}
	n := &node{name: path.Base(p), mode: e.Mode}
	switch e.Mode {
	case filemode.Dir:
		n.tree, err = t.root.Tree(p)
	case filemode.Submodule:
		// A submodule's commit is not in this repository's object store:
		// it is an empty directory here, as in a clone without
		// --recurse-submodules.
		n.mode = filemode.Dir
		n.tree = &object.Tree{}
	default:
		n.file, err = t.root.TreeEntryFile(e)
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

func (t treeFS) Open(name string) (fs.File, error) {
	n, err := t.stat("open", name)
	if err != nil {
		return nil, err
	}
	if n.tree != nil {
		entries, err := t.readDir(n)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{info: info{n}, entries: entries}, nil
	}
	r, err := n.file.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &blobFile{info: info{n}, r: r}, nil
}

func (t treeFS) Stat(name string) (fs.FileInfo, error) {
	n, err := t.stat("stat", name)
	if err != nil {
		return nil, err
	}
	return info{n}, nil
}

func (t treeFS) Lstat(name string) (fs.FileInfo, error) {
	n, err := t.lstat("lstat", name)
	if err != nil {
		return nil, err
	}
	return info{n}, nil
}

func (t treeFS) ReadLink(name string) (string, error) {
	n, err := t.lstat("readlink", name)
	if err != nil {
		return "", err
	}
	if n.mode != filemode.Symlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return n.file.Contents()
}

func (t treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := t.stat("readdir", name)
	if err != nil {
		return nil, err
	}
	if n.tree == nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return t.readDir(n)
}

// readDir lists a directory sorted by name, as fs.ReadDir promises (git
// sorts a subtree "a" as "a/", which differs around '-' and '.').
func (t treeFS) readDir(n *node) ([]fs.DirEntry, error) {
	out := make([]fs.DirEntry, 0, len(n.tree.Entries))
	for i := range n.tree.Entries {
		e := &n.tree.Entries[i]
		c := &node{name: e.Name, mode: e.Mode}
		switch e.Mode {
		case filemode.Dir:
			sub, err := n.tree.Tree(e.Name)
			if err != nil {
				return nil, err
			}
			c.tree = sub
		case filemode.Submodule:
			c.mode, c.tree = filemode.Dir, &object.Tree{}
		default:
			f, err := n.tree.TreeEntryFile(e)
			if err != nil {
				return nil, err
			}
			c.file = f
		}
		out = append(out, fs.FileInfoToDirEntry(info{c}))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// info is a node's fs.FileInfo. Git keeps no times: ModTime is zero.
type info struct{ n *node }

func (i info) Name() string { return i.n.name }
func (i info) Size() int64 {
	if i.n.file != nil {
		return i.n.file.Size
	}
	return 0
}
func (i info) Mode() fs.FileMode {
	switch i.n.mode {
	case filemode.Dir:
		return fs.ModeDir | 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Executable:
		return 0o755
	default:
		return 0o644
	}
}
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.n.tree != nil }
func (i info) Sys() any           { return nil }

type blobFile struct {
	info
	r io.ReadCloser
}

func (f *blobFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *blobFile) Read(b []byte) (int, error) { return f.r.Read(b) }
func (f *blobFile) Close() error               { return f.r.Close() }

type dirFile struct {
	info
	entries []fs.DirEntry
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.n.name, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	k := min(n, len(d.entries))
	out := d.entries[:k]
	d.entries = d.entries[k:]
	return out, nil
}
