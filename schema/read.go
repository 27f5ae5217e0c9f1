package schema

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"
)

// MaxFileSize bounds one input file. Dependency files are a few kilobytes; a
// bigger .yaml is a generated manifest or a mistake, and reading it whole
// would only cost memory.
const MaxFileSize = 8 << 20

// TreeMarker is the file netdep writes at the top of a tree it generated. A
// directory holding it is output, never input, so a walk does not enter it.
const TreeMarker = ".netdep-tree"

// maxLinkHops is the same limit Linux puts on symlinks in one path lookup.
const maxLinkHops = 40

var (
	errLinkLoop    = errors.New("too many levels of symbolic links (a symlink loop)")
	errLinkOutside = errors.New("the symlink leads outside the file system being read")
)

// walker reads netdep files from a file system, following symlinks only while
// they stay inside the tree being read: a link out of a repository could
// otherwise pull arbitrary files into a CI run.
type walker struct {
	fsys fs.FS
	// absLinks is true for the operating system, rooted at "/": an absolute
	// link target is then a path in fsys once its leading slash is gone.
	absLinks bool

	files     []File
	real      []string       // real path of each file
	index     map[string]int // real path -> index in files
	walked    map[string]bool
	deferred  []pendingLink
	probs     Problems
	rootReal  string
	rootShown string
}

func newWalker(fsys fs.FS, absLinks bool) *walker {
	return &walker{fsys: fsys, absLinks: absLinks, index: map[string]int{}, walked: map[string]bool{}}
}

// ReadPaths reads the netdep files named by paths (files or directories,
// walked recursively) from the operating system's file system. No paths means
// the current directory.
func ReadPaths(paths []string) ([]File, Problems) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, Problems{errorf(Pos{File: "."}, "", "cannot find the current directory: %v", err)}
	}
	w := newWalker(os.DirFS("/"), true)
	for _, arg := range paths {
		shown := filepath.ToSlash(filepath.Clean(arg))
		abs, err := filepath.Abs(arg)
		if err == nil {
			if rel, err := filepath.Rel(cwd, abs); err == nil {
				shown = filepath.ToSlash(rel)
			}
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			w.probs = append(w.probs, errorf(Pos{File: shown}, "", "cannot read: %s", pathErr(err)))
			continue
		}
		before := len(w.files)
		w.root(strings.TrimPrefix(filepath.ToSlash(real), "/"), shown)
		if info, err := os.Stat(real); err == nil && info.IsDir() && len(w.files) == before {
			w.probs = append(w.probs, errorf(Pos{File: shown}, "", "no netdep files found (expected *.yaml or *.yml files with netdep: v1)"))
		}
	}
	return w.result()
}

// ReadFS is ReadPaths over any file system, e.g. a git revision's tree.
// Roots are slash-separated paths inside fsys and are shown as given. A root
// directory without netdep files is not an error here: an older revision may
// simply predate them.
func ReadFS(fsys fs.FS, roots []string) ([]File, Problems) {
	if len(roots) == 0 {
		roots = []string{"."}
	}
	w := newWalker(fsys, false)
	for _, root := range roots {
		clean := path.Clean(strings.TrimPrefix(root, "./"))
		if !fs.ValidPath(clean) {
			w.probs = append(w.probs, errorf(Pos{File: root}, "", "invalid path: expected a relative path inside the tree"))
			continue
		}
		real, err := w.realpath(clean)
		if err != nil {
			w.probs = append(w.probs, errorf(Pos{File: clean}, "", "cannot read: %s", pathErr(err)))
			continue
		}
		w.root(real, clean)
	}
	return w.result()
}

func (w *walker) result() ([]File, Problems) {
	w.probs.Sort()
	return w.files, w.probs
}

// pathErr keeps the reason and drops the path: the position already names
// the file, in the user's terms.
func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file or directory"
	}
	return err.Error()
}

func (w *walker) warn(shown, format string, args ...any) {
	p := errorf(Pos{File: shown}, "", format, args...)
	p.Warning = true
	w.probs = append(w.probs, p)
}

func (w *walker) root(real, shown string) {
	info, err := fs.Stat(w.fsys, real)
	if err != nil {
		w.probs = append(w.probs, errorf(Pos{File: shown}, "", "cannot read: %s", pathErr(err)))
		return
	}
	w.rootReal, w.rootShown = real, shown
	defer w.classify(len(w.files))
	if !info.IsDir() {
		w.file(real, shown, true, info)
		return
	}
	w.dir(real, shown, map[string]bool{real: true})
}

// shownFor turns a real path inside the tree into the form users see.
func (w *walker) shownFor(real string) string {
	if real == w.rootReal {
		return w.rootShown
	}
	rel := real
	if w.rootReal != "." {
		rel = strings.TrimPrefix(real, w.rootReal+"/")
	}
	return path.Join(w.rootShown, rel)
}

// inside reports whether real lies in the tree being read.
func (w *walker) inside(real string) bool {
	return w.rootReal == "." || real == w.rootReal || strings.HasPrefix(real, w.rootReal+"/")
}

func (w *walker) dir(real, shown string, stack map[string]bool) {
	w.walkDir(real, shown, stack)
	// Links are taken after the walk: most point at something the walk
	// reaches anyway, and that file should be shown by its own path rather
	// than the link's. The queue grows while links lead to unwalked places.
	for len(w.deferred) > 0 {
		l := w.deferred[0]
		w.deferred = w.deferred[1:]
		w.link(l)
	}
}

// pendingLink is a symlink met during a walk, resolved once the walk is done.
type pendingLink struct {
	real, shown, name string
	parent            string          // the real directory holding the link
	stack             map[string]bool // real directories above it
}

func (w *walker) walkDir(real, shown string, stack map[string]bool) {
	if w.walked[real] {
		return // reached twice (two roots, or a link to a walked directory)
	}
	w.walked[real] = true
	entries, err := fs.ReadDir(w.fsys, real)
	if err != nil {
		w.probs = append(w.probs, errorf(Pos{File: shown}, "", "cannot read directory: %s", pathErr(err)))
		return
	}
	for _, e := range entries {
		if e.Name() == TreeMarker {
			return
		}
	}
	for _, e := range entries {
		name := e.Name()
		childReal, childShown := path.Join(real, name), path.Join(shown, name)
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			st := make(map[string]bool, len(stack))
			for k := range stack {
				st[k] = true
			}
			w.deferred = append(w.deferred, pendingLink{real: childReal, shown: childShown, name: name, parent: real, stack: st})
		case e.IsDir():
			if strings.HasPrefix(name, ".") {
				continue // .git, .github, editor state: never dependency files
			}
			stack[childReal] = true
			w.walkDir(childReal, childShown, stack)
			delete(stack, childReal)
		case isYAML(name):
			if info, err := e.Info(); err == nil {
				w.file(childReal, childShown, false, info)
			}
		}
	}
}

func (w *walker) link(l pendingLink) {
	target, err := w.realpath(l.real)
	switch {
	case errors.Is(err, errLinkLoop):
		w.warn(l.shown, "symlink not followed: %v", err)
		return
	case err != nil && !errors.Is(err, errLinkOutside):
		if isYAML(l.name) {
			w.warn(l.shown, "symlink not followed: %s", pathErr(err))
		}
		return
	case err != nil || !w.inside(target):
		w.warn(l.shown, "symlink not followed: it points outside %s", w.rootShown)
		return
	}
	info, err := fs.Stat(w.fsys, target)
	if err != nil {
		return
	}
	if !info.IsDir() {
		if isYAML(l.name) {
			w.file(target, l.shown, false, info)
		}
		return
	}
	if l.stack[target] || target == l.parent || strings.HasPrefix(l.parent, target+"/") || w.rootReal == "." && target == "." {
		w.warn(l.shown, "symlink not followed: it points to %s, which contains it (a symlink loop)", w.shownFor(target))
		return
	}
	if strings.HasPrefix(l.name, ".") {
		return
	}
	l.stack[target] = true
	w.walkDir(target, l.shown, l.stack)
}

func isYAML(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

func (w *walker) file(real, shown string, explicit bool, info fs.FileInfo) {
	if i, ok := w.index[real]; ok {
		w.files[i].Explicit = w.files[i].Explicit || explicit
		return
	}
	if !info.Mode().IsRegular() {
		if explicit {
			w.probs = append(w.probs, errorf(Pos{File: shown}, "", "not a regular file"))
		}
		return
	}
	data, tooBig, err := readLimited(w.fsys, real)
	if err != nil {
		w.probs = append(w.probs, errorf(Pos{File: shown}, "", "cannot read: %s", pathErr(err)))
		return
	}
	if tooBig {
		// A big file in a directory is only our business if it claims to
		// be a netdep file.
		if explicit || hasMarkerLine(data) {
			found := "more"
			if info.Size() > MaxFileSize {
				found = fmt.Sprintf("%d bytes", info.Size())
			}
			w.probs = append(w.probs, errorf(Pos{File: shown, Line: 1, Column: 1}, "", "expected a netdep file of at most %d MiB (%d bytes), found %s; split it into several files", MaxFileSize>>20, MaxFileSize, found))
		}
		return
	}
	// Whether a file found in a directory is a netdep file is decided for
	// all of a root's files at once, by classify.
	w.index[real] = len(w.files)
	w.files = append(w.files, File{Path: shown, Data: data, Explicit: explicit})
	w.real = append(w.real, real)
}

// classify drops the files from index from on that were found in a
// directory walk and are not netdep files. Telling needs a YAML parse of the
// first document, the costliest part of reading, so it runs on every core.
func (w *walker) classify(from int) {
	files := w.files[from:]
	keep := make([]bool, len(files))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range files {
		if f.Explicit {
			keep[i] = true
			continue
		}
		g.Go(func() error {
			keep[i] = isNetdepFile(f.Data)
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no error
	n := from
	for i := range files {
		real := w.real[from+i]
		if !keep[i] {
			delete(w.index, real) // read again if named explicitly later
			continue
		}
		w.files[n], w.real[n] = w.files[from+i], real
		w.index[real] = n
		n++
	}
	clear(w.files[n:])
	w.files, w.real = w.files[:n], w.real[:n]
}

// readLimited reads at most MaxFileSize bytes; tooBig reports that there was
// more (data then holds the first MaxFileSize bytes).
func readLimited(fsys fs.FS, name string) (data []byte, tooBig bool, err error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, false, err
	}
	if len(data) > MaxFileSize {
		return data[:MaxFileSize], true, nil
	}
	return data, false, nil
}

// realpath resolves every symlink in p, component by component, as the
// kernel would, but inside fsys: an absolute target or a ".." above the root
// of fsys is errLinkOutside (unless absLinks), a chain longer than
// maxLinkHops is errLinkLoop.
func (w *walker) realpath(p string) (string, error) {
	done := "."
	rest := strings.Split(p, "/")
	for hops := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if done == "." {
				return "", errLinkOutside
			}
			done = path.Dir(done)
			continue
		}
		next := path.Join(done, c)
		info, err := fs.Lstat(w.fsys, next)
		if err != nil {
			return "", err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return "", errLinkLoop
		}
		target, err := fs.ReadLink(w.fsys, next)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			if !w.absLinks {
				return "", errLinkOutside
			}
			done = "."
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return done, nil
}
