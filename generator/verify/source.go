package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

// Source is where the policies in force in each environment come from, for
// every command that evaluates them (verify, explain): the generated set in
// memory, a generated tree on disk, or manifests that apply to every
// environment alike.
type Source struct {
	set    *policy.Set
	dir    string
	loader Loader // a tree's environments share its base (Loader.Shared)
	m      *Manifests
	// preloaded is closed when Preload's read of the base is done (nil:
	// no Preload).
	preloaded chan struct{}
}

// FromSet is the policies generated in memory.
func FromSet(set *policy.Set) *Source { return &Source{set: set} }

// FromTree is a generated tree on disk: base for the implicit environment,
// overlays/<env> for the others.
func FromTree(dir string) *Source {
	return &Source{dir: dir, loader: Loader{Shared: TreeEnvDir(dir, "")}}
}

// FromManifests is manifests as LoadManifests read them, the same in every
// environment.
func FromManifests(m *Manifests) *Source { return &Source{m: m} }

// Preload starts reading a tree's base (which every environment's overlay
// includes) in the background, so that it is read while the caller does
// other work, such as reading the dependency files: verify's first
// environment waited for the base on one core before. Load waits for it.
// A base that does not read is no error here: Load finds the problem
// again, in its own terms. Preload does nothing for other Sources.
func (s *Source) Preload() {
	if s.dir == "" || s.preloaded != nil {
		return
	}
	s.preloaded = make(chan struct{})
	go func() {
		defer close(s.preloaded)
		base := TreeEnvDir(s.dir, "")
		if _, err := os.Stat(base); err == nil {
			_, _ = s.loader.Build(base)
		}
	}()
}

// Load returns env's policies with what came with them: the Namespace
// objects and the objects not evaluated (none for a set in memory).
func (s *Source) Load(env string) (*Manifests, error) {
	switch {
	case s.m != nil:
		return s.m, nil
	case s.set != nil:
		return setManifests(s.set, env)
	}
	if s.preloaded != nil {
		<-s.preloaded
	}
	dir := TreeEnvDir(s.dir, env)
	// Say what is missing in the user's terms: kustomize would say
	// "must build at directory: not a valid directory: evalsymlink failure".
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(s.dir); errors.Is(err, fs.ErrNotExist) {
			return nil, &LoadError{Err: fmt.Errorf("--out %s: no such directory, so no generated tree to read", s.dir)}
		}
		return nil, &LoadError{Err: fmt.Errorf("--out %s holds no %s: not a tree netdep generated for these files, or generated without %s", s.dir, filepath.ToSlash(kustomize.EnvDir(env)), EnvLabel(env))}
	}
	return s.loader.Build(dir)
}

// TreeEnvDir is env's kustomization in the generated tree at dir.
func TreeEnvDir(dir, env string) string {
	return filepath.Join(dir, filepath.FromSlash(kustomize.EnvDir(env)))
}

// Run checks every environment of envs over what src holds for it, in
// order, telling progress (when set) before each: verify's whole job. Each
// report counts the objects that were not evaluated (MarkNotEvaluated);
// notEvaluated lists them, every environment's.
//
// The next environment is read (on every core) while one is checked (on
// one): at most two environments' objects are held at once.
func Run(spec *schema.Spec, envs []string, src *Source, progress func(string)) (reports Reports, notEvaluated []ObjectRef, err error) {
	type loaded struct {
		m   *Manifests
		err error
	}
	next := make(chan loaded, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(next)
		for _, env := range envs {
			m, err := src.Load(env)
			select {
			case next <- loaded{m, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for i, env := range envs {
		if progress != nil {
			progress(fmt.Sprintf("verifying %s (%d of %d)", EnvLabel(env), i+1, len(envs)))
		}
		l := <-next
		if l.err != nil {
			return nil, nil, &LoadError{Err: l.err}
		}
		r, err := CheckManifests(spec, env, l.m)
		if err != nil {
			return nil, nil, fmt.Errorf("environment %q: %w", env, err)
		}
		notEvaluated = append(notEvaluated, l.m.NotEvaluated...)
		reports = append(reports, r)
	}
	return reports, notEvaluated, nil
}

// LoadError is a Source that could not be read (a tree not generated yet,
// say), as opposed to policies that do not check.
type LoadError struct{ Err error }

func (e *LoadError) Error() string { return e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

// setManifests is env's objects of a generated set, as its tree holds them:
// the NetworkPolicies and cluster policies, and the plugin objects read by
// the one reader (DecodeObjects) as a file of the tree would be; in a
// staged environment (calico, mode: audit) the staged objects instead,
// nothing enforced.
func setManifests(set *policy.Set, env string) (*Manifests, error) {
	var objs []any
	m := &Manifests{}
	if set.Staged(env) {
		knps, cnps := set.RenderStaged(env)
		for _, o := range knps {
			objs = append(objs, o)
		}
		for _, o := range cnps {
			objs = append(objs, o)
		}
	} else {
		m.Policies, m.ClusterPolicies = set.Render(env), set.RenderCluster(env)
		for _, o := range set.RenderCilium(env) {
			objs = append(objs, o)
		}
		for _, o := range set.RenderCalico(env) {
			objs = append(objs, o)
		}
	}
	if len(objs) == 0 {
		return m, nil
	}
	pm, err := DecodeObjects("generated objects of "+EnvLabel(env), objs)
	if err != nil {
		return nil, err
	}
	m.Plugins, m.StagedPolicies, m.StagedCalico, m.NotEvaluated = pm.Plugins, pm.StagedPolicies, pm.StagedCalico, pm.NotEvaluated
	return m, nil
}
