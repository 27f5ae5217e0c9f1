package gitrev

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/netdep/netdep/schema"
)

// Repo is the git repository holding a directory, found from that directory
// upwards as git itself finds it.
type Repo struct {
	repo *git.Repository
	// root is the top of the working tree, symlinks resolved.
	root string
	// cwd is the directory PATH arguments are relative to (absolute).
	cwd string
}

// Open finds the repository that holds dir (dir itself or a parent) and
// takes dir as the directory that PATH arguments are relative to. A linked
// worktree (git worktree add) works too.
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	r, err := git.PlainOpenWithOptions(real, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("%s is not inside a git repository (--base and --head read revisions from one)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the git repository above %s: %w", dir, err)
	}
	wt, err := r.Worktree()
	if err != nil {
		return nil, fmt.Errorf("opening the git repository above %s: %w", dir, err)
	}
	// The same repository, with objects above largeObject streamed from
	// disk when read instead of read whole into memory first (go-git's
	// default): with it, a 100 MiB blob in a revision cost 632 MB.
	if st, ok := r.Storer.(*filesystem.Storage); ok {
		large := filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{LargeObjectThreshold: largeObject})
		if r, err = git.Open(large, wt.Filesystem); err != nil {
			return nil, fmt.Errorf("opening the git repository above %s: %w", dir, err)
		}
	}
	root, err := filepath.EvalSymlinks(wt.Filesystem.Root())
	if err != nil {
		return nil, err
	}
	return &Repo{repo: r, root: root, cwd: abs}, nil
}

// largeObject is the size above which an object is streamed rather than
// read into memory whole. Dependency files are kilobytes; nothing netdep
// reads needs more than schema.MaxFileSize of a blob.
const largeObject = 1 << 20

// Root returns the top directory of the working tree.
func (r *Repo) Root() string { return r.root }

// Revision is one resolved commit.
type Revision struct {
	// Name is the revision as the user wrote it; Hash the commit it names.
	Name string
	Hash string
	tree *object.Tree
	s    storer.EncodedObjectStorer
}

// FS returns the revision's tree as a read-only file system rooted at the
// top of the repository.
func (v *Revision) FS() fs.FS { return newTreeFS(v.s, v.tree) }

// Resolve resolves a revision as git rev-parse does: branches, tags,
// remote-tracking refs (origin/main), HEAD~2, full and short hashes.
func (r *Repo) Resolve(rev string) (*Revision, error) {
	if rev == "" {
		return nil, errors.New("empty revision")
	}
	h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, r.missing(rev, err)
	}
	c, err := r.repo.CommitObject(*h)
	if err != nil {
		return nil, r.missing(rev, err)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, r.missing(rev, err)
	}
	return &Revision{Name: rev, Hash: h.String(), tree: t, s: r.repo.Storer}, nil
}

// missing explains a revision that cannot be read. The usual cause in CI is a
// shallow clone holding only the pull request's head: say how to fetch the
// base rather than just "reference not found".
func (r *Repo) missing(rev string, err error) error {
	shallow := ""
	if s, serr := r.repo.Storer.Shallow(); serr == nil && len(s) > 0 {
		shallow = " (this is a shallow clone)"
	}
	branch := rev
	if i := strings.IndexAny(branch, "~^@:"); i >= 0 {
		branch = branch[:i]
	}
	branch = strings.TrimPrefix(strings.TrimPrefix(branch, "refs/remotes/"), "origin/")
	if branch == "" || branch == "HEAD" {
		branch = "main"
	}
	// "reference not found" and go-git's EOF at the end of a short history
	// add nothing to "not found"; anything else (a corrupt object) does.
	why := ""
	if !errors.Is(err, plumbing.ErrReferenceNotFound) && !errors.Is(err, plumbing.ErrObjectNotFound) && !errors.Is(err, io.EOF) {
		why = ": " + err.Error()
	}
	// A typo of a branch or tag the repository has is not a fetch away.
	if hint := schema.DidYouMean(rev, r.refNames()); hint != "" {
		return fmt.Errorf("revision %q not found in the repository%s", rev, hint)
	}
	return fmt.Errorf("revision %q not found in the repository%s%s; fetch it first, e.g. `git fetch --no-tags --depth=50 origin %s`, or check out with `fetch-depth: 0` in actions/checkout", rev, shallow, why, branch)
}

// refNames are the short names of the repository's branches, remote
// branches and tags ("main", "origin/main", "v1"), sorted.
func (r *Repo) refNames() []string {
	var names []string
	refs, err := r.repo.References()
	if err != nil {
		return nil
	}
	_ = refs.ForEach(func(ref *plumbing.Reference) error {
		if n := ref.Name(); n.IsBranch() || n.IsRemote() || n.IsTag() {
			names = append(names, n.Short())
		}
		return nil
	})
	slices.Sort(names)
	return slices.Compact(names)
}

// Files reads the netdep files under paths (relative to the directory given
// to Open, default ".") as they are at revision v, with the discovery rules
// of the working tree (schema.ReadFS). File paths are shown exactly as
// schema.ReadPaths shows them, relative to that directory. A path that does
// not exist at v holds no files there: a base revision may predate it.
func (r *Repo) Files(v *Revision, paths []string) ([]schema.File, schema.Problems) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	fsys := v.FS()
	var files []schema.File
	var probs schema.Problems
	for _, arg := range paths {
		shown, inRepo, err := r.mapPath(arg)
		if err != nil {
			probs = append(probs, schema.Problem{Pos: schema.Pos{File: shown}, Message: err.Error()})
			continue
		}
		if _, err := fs.Stat(fsys, inRepo); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		fs, ps := schema.ReadFS(fsys, []string{inRepo})
		for i := range fs {
			fs[i].Path = reroot(fs[i].Path, inRepo, shown)
		}
		for i := range ps {
			ps[i].Pos.File = reroot(ps[i].Pos.File, inRepo, shown)
		}
		files = append(files, fs...)
		probs = append(probs, ps...)
	}
	probs.Sort()
	return files, probs
}

// mapPath turns a PATH argument into the path shown to people (as
// schema.ReadPaths shows it) and the path inside the repository.
func (r *Repo) mapPath(arg string) (shown, inRepo string, err error) {
	shown = filepath.ToSlash(filepath.Clean(arg))
	abs := arg
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(r.cwd, arg)
	}
	if rel, err := filepath.Rel(r.cwd, abs); err == nil {
		shown = filepath.ToSlash(rel)
	}
	// Resolve symlinks on the way to the path as far as it exists in the
	// working tree (it may be gone there and exist only at the revision),
	// so a checkout under a symlinked directory maps into the repository.
	real := r.evalExisting(abs)
	rel, err := filepath.Rel(r.root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return shown, "", fmt.Errorf("outside the git repository at %s", r.root)
	}
	return shown, filepath.ToSlash(rel), nil
}

// evalExisting resolves symlinks in the longest existing prefix of p.
func (r *Repo) evalExisting(p string) string {
	p = filepath.Clean(p)
	var tail []string
	for {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(append([]string{real}, tail...)...)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(append([]string{p}, tail...)...)
		}
		tail = append([]string{filepath.Base(p)}, tail...)
		p = parent
	}
}

// reroot replaces the root prefix from of p (as schema.ReadFS shows it) with
// to.
func reroot(p, from, to string) string {
	switch {
	case from == ".":
		if p == "." {
			return to
		}
		return path.Join(to, p)
	case p == from:
		return to
	case strings.HasPrefix(p, from+"/"):
		return path.Join(to, strings.TrimPrefix(p, from+"/"))
	}
	return p
}

// Clean reports whether the working tree holds exactly what HEAD does: no
// tracked file modified, staged or deleted, and no untracked file that
// .gitignore does not ignore. A clean working tree is HEAD, and reports name
// it by its commit.
func (r *Repo) Clean() (bool, error) {
	wt, err := r.repo.Worktree()
	if err != nil {
		return false, fmt.Errorf("reading the working tree: %w", err)
	}
	st, err := wt.Status()
	if err != nil {
		return false, fmt.Errorf("reading the working tree's status: %w", err)
	}
	return st.IsClean(), nil
}
