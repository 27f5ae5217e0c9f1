package diff

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/gitrev"
	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/schema"
)

// DefaultTreeDir is the directory generate writes when given no --out.
const DefaultTreeDir = "netpol"

// TreeDirs are the places, in order of preference, where the generated tree
// of the dependency files under paths is committed: out when the user named
// it; otherwise the tree beside the one PATH argument (examples/shop/netpol
// for `netdep diff examples/shop`), then the tree generate writes by default
// in the current directory.
func TreeDirs(out string, paths []string) []string {
	if out != "" {
		return []string{filepath.Clean(out)}
	}
	var dirs []string
	if len(paths) == 1 {
		dirs = append(dirs, filepath.Join(paths[0], DefaultTreeDir))
	}
	if !slices.Contains(dirs, DefaultTreeDir) {
		dirs = append(dirs, DefaultTreeDir)
	}
	return dirs
}

// Tree is a generated tree as one side of a comparison holds it: what that
// side enforces, whatever the dependency files beside it say. Close it when
// done.
type Tree struct {
	// Dir is the tree as people name it ("examples/shop/netpol").
	Dir string
	// root is the tree on disk: Dir itself in the working tree, a scratch
	// copy of a revision's. Errors name it as shown.
	root, shown string
	scratch     string // removed by Close
	loader      verify.Loader
}

// Close removes the scratch copy of a revision's tree.
func (t *Tree) Close() error {
	if t == nil || t.scratch == "" {
		return nil
	}
	return os.RemoveAll(t.scratch)
}

// isTree tells a generated tree from any other directory of that name: it
// holds generate's marker, or at least the base kustomization a deployment
// points at.
func isTree(dir string) bool {
	for _, p := range []string{kustomize.MarkerName, filepath.Join(kustomize.EnvDir(""), "kustomization.yaml")} {
		if fi, err := os.Stat(filepath.Join(dir, p)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// TreeOnDisk returns the first of dirs that holds a generated tree in the
// working tree, nil when none does.
func TreeOnDisk(dirs []string) (*Tree, error) {
	for _, d := range dirs {
		if isTree(d) {
			return &Tree{Dir: filepath.ToSlash(d), root: d, shown: d}, nil
		}
	}
	return nil, nil
}

// TreeAtRevision returns the first of dirs that holds a generated tree at
// revision rev of repo, copied to a scratch directory (nothing is checked
// out), nil when none does.
func TreeAtRevision(repo *gitrev.Repo, rev string, dirs []string) (*Tree, error) {
	v, err := repo.Resolve(rev)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		scratch, err := os.MkdirTemp("", "netdep-diff-")
		if err != nil {
			return nil, err
		}
		shown, ok, err := repo.Extract(v, d, scratch)
		if err == nil && ok && isTree(scratch) {
			return &Tree{Dir: shown, root: scratch, shown: rev + ":" + shown, scratch: scratch}, nil
		}
		if rerr := os.RemoveAll(scratch); err == nil {
			err = rerr
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// Layout is the layout the tree records (kustomize.RecordedLayout): what
// its side's dependency files are generated in to tell whether it is
// stale. A nil Tree records none.
func (t *Tree) Layout() (string, error) {
	if t == nil {
		return "", nil
	}
	l, err := kustomize.RecordedLayout(t.root)
	if err != nil {
		return "", t.named(err)
	}
	return l, nil
}

// Policies returns what the tree deploys to env, sorted by namespace and
// name: the build of overlays/<env>, or of base for a project without
// environments and for an environment the tree has no overlay for (what a
// cluster given the base gets). The tree is read as `netdep verify` reads
// one, and a policy whose manifest names no namespace lands in "default",
// as with kubectl apply.
func (t *Tree) Policies(env string) ([]*networkingv1.NetworkPolicy, error) {
	ps, _, err := t.Objects(env)
	return ps, err
}

// Objects is Policies with the ClusterNetworkPolicies the tree deploys to
// env, sorted by name: both are evaluated, in their tiers.
func (t *Tree) Objects(env string) ([]*networkingv1.NetworkPolicy, []*v1beta1.ClusterNetworkPolicy, error) {
	m, err := t.Manifests(env)
	if err != nil {
		return nil, nil, err
	}
	return m.Policies, m.ClusterPolicies, nil
}

// Manifests is everything the tree deploys to env as verify reads it: the
// policies as Objects returns them, the plugins' objects (enforced and
// staged) beside them, a namespaced object without a namespace in
// "default".
func (t *Tree) Manifests(env string) (*verify.Manifests, error) {
	dir := filepath.Join(t.root, kustomize.EnvDir(""))
	if overlay := filepath.Join(t.root, kustomize.EnvDir(env)); env != "" {
		if fi, err := os.Stat(overlay); err == nil && fi.IsDir() {
			dir = overlay
		}
	}
	m, err := t.loader.Build(dir)
	if err != nil {
		return nil, t.named(err)
	}
	out := *m
	out.Policies = verify.InNamespace(m.Policies, eval.DefaultNamespace)
	slices.SortStableFunc(out.Policies, compareKey)
	out.StagedPolicies = verify.InNamespace(m.StagedPolicies, eval.DefaultNamespace)
	out.ClusterPolicies = slices.Clone(m.ClusterPolicies)
	slices.SortStableFunc(out.ClusterPolicies, func(a, b *v1beta1.ClusterNetworkPolicy) int { return strings.Compare(a.Name, b.Name) })
	return &out, nil
}

// Stale compares the tree with what generate writes for the dependency
// files of its side.
func (t *Tree) Stale(want kustomize.Tree) (*TreeReport, error) {
	r, err := Stale(t.root, want)
	if err != nil {
		return nil, t.named(err)
	}
	r.Dir = t.Dir
	return r, nil
}

// named rewrites the scratch directory in an error to the revision's name
// for it ("HEAD~1:examples/shop/netpol").
func (t *Tree) named(err error) error {
	if t.root == t.shown {
		return err
	}
	rename := func(s string) string {
		s = strings.ReplaceAll(s, t.root, t.shown)
		if abs, aerr := filepath.Abs(t.root); aerr == nil {
			s = strings.ReplaceAll(s, abs, t.shown)
		}
		return s
	}
	// Problems at positions are reported one by one: each names its file.
	var probs schema.Problems
	if errors.As(err, &probs) {
		out := make(schema.Problems, len(probs))
		for i, p := range probs {
			p.Pos.File = rename(p.Pos.File)
			out[i] = p
		}
		return out
	}
	return &namedError{msg: rename(err.Error()), err: err}
}

type namedError struct {
	msg string
	err error
}

func (e *namedError) Error() string { return e.msg }
func (e *namedError) Unwrap() error { return e.err }

// TreeCounts says what generate would do to the tree: "1 file to change",
// "2 files to add, 1 to delete".
func (r *TreeReport) TreeCounts() string {
	n := map[Action]int{}
	for _, f := range r.Files {
		n[f.Action]++
	}
	var parts []string
	for _, a := range []struct {
		action Action
		verb   string
	}{{Added, "to add"}, {Removed, "to delete"}, {Changed, "to change"}} {
		if n[a.action] == 0 {
			continue
		}
		if len(parts) == 0 {
			parts = append(parts, fmt.Sprintf("%d %s %s", n[a.action], plural(n[a.action], "file", "files"), a.verb))
		} else {
			parts = append(parts, fmt.Sprintf("%d %s", n[a.action], a.verb))
		}
	}
	return strings.Join(parts, ", ")
}

// StaleText is the one sentence every format uses for a stale head tree:
// "examples/shop/netpol is out of date at HEAD (048f5d25b037): generate
// would write 1 file to change there; the flows compare what the committed
// tree enforces, not the dependency files". "" when the tree is not stale.
func (r *Report) StaleText() string {
	return r.staleText(sideString, func(s string) string { return s })
}

func (r *Report) staleText(side func(Side) string, code func(string) string) string {
	if !r.HeadStale() {
		return ""
	}
	where := "in the working tree"
	if r.Head.Commit != "" {
		where = "at " + side(r.Head)
	}
	return fmt.Sprintf("%s is out of date %s: generate would write %s there; the flows compare what the committed tree enforces, not the dependency files",
		code(r.Stale.Dir), where, r.Stale.TreeCounts())
}

// comparedText says what each side's policies are, when a side reads them
// from a committed tree: "what the committed tree examples/shop/netpol
// enforces on both sides". "" when both are generated. side and code format
// a side and a path for the output format.
func comparedText(r *Report, side func(Side) string, code func(string) string) string {
	b, h := r.Base.Tree, r.Head.Tree
	switch {
	case b == "" && h == "":
		return ""
	case b == h:
		return "what the committed tree " + code(b) + " enforces on both sides"
	}
	of := func(s Side) string {
		if s.Tree == "" {
			return side(s) + " as generated from its dependency files (it commits no tree)"
		}
		return side(s) + " as its committed tree " + code(s.Tree) + " enforces"
	}
	return of(r.Base) + ", " + of(r.Head)
}
