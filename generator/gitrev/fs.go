package gitrev

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// treeFS is a commit's tree as a read-only fs.FS. It implements
// fs.ReadDirFS, fs.StatFS and fs.ReadLinkFS (Lstat and ReadLink), which is
// everything schema.ReadFS needs to treat symlinks as the working tree does.
//
// Nothing is read before it is asked for: listing a directory reads its
// tree object only, a file's size comes from its object's header
// (storer.EncodedObjectSize), and its content is read only when it is
// opened, streamed for large objects (see Open in gitrev.go). So a 100 MiB
// blob beside the dependency files costs its header, not 100 MiB.
type treeFS struct {
	s    storer.EncodedObjectStorer
	root *object.Tree
	// checked remembers, per tree object, whether its entries are valid.
	checked *sync.Map // plumbing.Hash -> error (nil when valid)
	// trees are the tree objects read so far: every lookup walks from the
	// root, and reading the same directories again for each of a large
	// organisation's files was a tenth of diff's time.
	trees *sync.Map // plumbing.Hash -> *object.Tree (read-only)
}

func newTreeFS(s storer.EncodedObjectStorer, root *object.Tree) treeFS {
	return treeFS{s: s, root: root, checked: &sync.Map{}, trees: &sync.Map{}}
}

var (
	_ fs.ReadDirFS  = treeFS{}
	_ fs.StatFS     = treeFS{}
	_ fs.ReadLinkFS = treeFS{}
)

// maxHops matches schema's limit (and Linux's) on symlinks in one lookup.
const maxHops = 40

// maxLink bounds a symlink's target (Linux's PATH_MAX): a "link" blob of
// megabytes is read no further.
const maxLink = 4096

var errLoop = errors.New("too many levels of symbolic links")

// node is one entry of the tree: a directory (tree != nil) or a blob.
type node struct {
	name string
	mode filemode.FileMode
	tree *object.Tree
	hash plumbing.Hash // the blob, when tree is nil
	fsys treeFS
}

// lstat finds name without following a symlink in its last element; links
// in the directories above it are followed, as lstat(2) does.
func (t treeFS) lstat(op, name string) (*node, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return t.rootNode(), nil
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

func (t treeFS) rootNode() *node {
	return &node{name: ".", mode: filemode.Dir, tree: t.root, fsys: t}
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
		target, err := n.linkTarget()
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

// entry returns the node at p, a path with no symlink above its last
// element, walking the tree objects one name at a time. Every tree on the
// way is checked first (see check): go-git's own lookup refuses ".." and
// the like as "directory not found", which names nothing.
func (t treeFS) entry(p string) (*node, error) {
	n := t.rootNode()
	if p == "." {
		return n, nil
	}
	for _, name := range strings.Split(p, "/") {
		if n.tree == nil {
			return nil, fs.ErrNotExist
		}
		if err := t.check(n.tree); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(n.tree.Entries, func(e object.TreeEntry) bool { return e.Name == name })
		if i < 0 {
			return nil, fs.ErrNotExist
		}
		c, err := t.child(&n.tree.Entries[i])
		if err != nil {
			return nil, err
		}
		n = c
	}
	return n, nil
}

// child is the node of one entry of a tree: a subtree is read (a small
// object), a blob is not.
func (t treeFS) child(e *object.TreeEntry) (*node, error) {
	c := &node{name: e.Name, mode: e.Mode, fsys: t}
	switch e.Mode {
	case filemode.Dir:
		if sub, ok := t.trees.Load(e.Hash); ok {
			c.tree = sub.(*object.Tree)
			break
		}
		sub, err := object.GetTree(t.s, e.Hash)
		if err != nil {
			return nil, fmt.Errorf("reading directory %s: %w", e.Name, err)
		}
		t.trees.Store(e.Hash, sub)
		c.tree = sub
	case filemode.Submodule:
		// A submodule's commit is not in this repository's object store:
		// it is an empty directory here, as in a clone without
		// --recurse-submodules.
		c.mode, c.tree = filemode.Dir, &object.Tree{}
	default:
		c.hash = e.Hash
	}
	return c, nil
}

// ErrInvalidTree is wrapped by the errors of a revision's tree that holds
// an entry git itself never writes.
var ErrInvalidTree = errors.New("invalid tree")

type invalidTreeError struct {
	why  string
	tree plumbing.Hash
}

func (e *invalidTreeError) Error() string {
	return fmt.Sprintf("it holds %s, which git never writes (tree object %s): the repository is corrupt or was made to mislead; `git fsck` reports it", e.why, e.tree)
}

func (e *invalidTreeError) Is(target error) bool { return target == ErrInvalidTree }

// check refuses a tree object holding an entry no git command writes and
// `git fsck` reports: an empty name, ".", "..", ".git" (in any case), a
// name with a slash or NUL, or one name twice. Such a tree comes from a
// hostile or corrupt repository, and reading it as if it were sound would
// show files under paths that are not theirs; the error names the entry.
func (t treeFS) check(tree *object.Tree) error {
	if tree.Hash.IsZero() {
		return nil // a submodule's stand-in
	}
	if err, ok := t.checked.Load(tree.Hash); ok {
		if err == nil {
			return nil
		}
		return err.(error)
	}
	var bad error
	seen := make(map[string]bool, len(tree.Entries))
	for _, e := range tree.Entries {
		var why string
		switch {
		case e.Name == "":
			why = "an entry with an empty name"
		case e.Name == "." || e.Name == "..":
			why = fmt.Sprintf("an entry named %q", e.Name)
		case strings.EqualFold(e.Name, ".git"):
			why = fmt.Sprintf("an entry named %q (git's name for its own metadata)", e.Name)
		case strings.ContainsAny(e.Name, "/\x00"):
			why = fmt.Sprintf("an entry named %q, with a slash or NUL in it", e.Name)
		case seen[e.Name]:
			why = fmt.Sprintf("two entries named %q", e.Name)
		}
		if why != "" {
			bad = &invalidTreeError{why: why, tree: tree.Hash}
			break
		}
		seen[e.Name] = true
	}
	if bad == nil {
		t.checked.Store(tree.Hash, nil)
	} else {
		t.checked.Store(tree.Hash, bad)
	}
	return bad
}

// open reads the node's blob, streamed (the storage reads objects above
// its threshold from disk as they are consumed).
func (n *node) open() (io.ReadCloser, error) {
	obj, err := n.fsys.s.EncodedObject(plumbing.BlobObject, n.hash)
	if err != nil {
		return nil, err
	}
	return obj.Reader()
}

// size is the blob's size from its object header, without reading it.
func (n *node) size() int64 {
	if n.tree != nil {
		return 0
	}
	sz, err := n.fsys.s.EncodedObjectSize(n.hash)
	if err != nil {
		return 0
	}
	return sz
}

// linkTarget reads a symlink's target, at most maxLink bytes of it.
func (n *node) linkTarget() (string, error) {
	r, err := n.open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxLink+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxLink {
		return "", fmt.Errorf("symlink target longer than %d bytes", maxLink)
	}
	return string(b), nil
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
	r, err := n.open()
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
	return n.linkTarget()
}

func (t treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := t.stat("readdir", name)
	if err != nil {
		return nil, err
	}
	if n.tree == nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	entries, err := t.readDir(n)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return entries, nil
}

// readDir lists a directory sorted by name, as fs.ReadDir promises (git
// sorts a subtree "a" as "a/", which differs around '-' and '.'). Blobs are
// listed from the tree alone; their sizes are read from their headers only
// if asked for (DirEntry.Info), which the walk does for YAML files only.
func (t treeFS) readDir(n *node) ([]fs.DirEntry, error) {
	if err := t.check(n.tree); err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(n.tree.Entries))
	for i := range n.tree.Entries {
		c, err := t.child(&n.tree.Entries[i])
		if err != nil {
			return nil, err
		}
		out = append(out, fs.FileInfoToDirEntry(info{c}))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// info is a node's fs.FileInfo. Git keeps no times: ModTime is zero.
type info struct{ n *node }

func (i info) Name() string { return i.n.name }
func (i info) Size() int64  { return i.n.size() }
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
