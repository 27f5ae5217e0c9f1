package verify

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"
	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/schema"
)

// Manifests are what LoadManifests reads: NetworkPolicies, and the
// namespaces the Namespace objects among them declare, with their labels.
type Manifests struct {
	Policies []*networkingv1.NetworkPolicy
	// Namespaces are sorted by name; pass them to Options.Namespaces so
	// that label-based namespaceSelectors select what they would in the
	// cluster.
	Namespaces []eval.Namespace
	// NotEvaluated are the objects that can change connectivity but that
	// netdep does not evaluate (see NotEvaluated), sorted by file and
	// position, each once. A verdict over Policies holds for
	// networking.k8s.io/v1 only while any exist.
	NotEvaluated []ObjectRef
	// ClusterPolicies are the policy.networking.k8s.io/v1beta1
	// ClusterNetworkPolicies (tiers Admin and Baseline), evaluated with the
	// NetworkPolicies.
	ClusterPolicies []*v1beta1.ClusterNetworkPolicy
	// Plugins are the enforced CiliumNetworkPolicies (cilium.io/v2) and
	// Calico NetworkPolicies (projectcalico.org/v3) within what netdep
	// evaluates (eval.Plugins); one that uses more is in NotEvaluated,
	// with the field.
	Plugins eval.Plugins
	// StagedPolicies and StagedCalico are Calico's staged objects
	// (StagedKubernetesNetworkPolicy as the NetworkPolicy it stages,
	// StagedNetworkPolicy as the Calico policy), of stagedAction Set:
	// what would be enforced (audit.go), never what is.
	StagedPolicies []*networkingv1.NetworkPolicy
	StagedCalico   []*eval.CalicoNetworkPolicy
	// Documents are every non-empty YAML document read, in order, with
	// the stream it came from; kept only with LoadOptions.Documents, for
	// readers of other kinds (the importer's workloads and Services).
	Documents []Document
}

// Document is one YAML document of a manifest stream: its top node, and the
// stream's name (a file, or "kustomize build DIR") for messages.
type Document struct {
	Source string
	Node   *yaml.Node
}

// LoadOptions change what LoadManifestsWith keeps.
type LoadOptions struct {
	// Documents keeps every document (Manifests.Documents).
	Documents bool
}

// LoadManifestsWith is LoadManifests keeping what o asks for besides.
func LoadManifestsWith(paths []string, o LoadOptions) (*Manifests, error) {
	c := &collector{documents: o.Documents}
	for _, p := range paths {
		if err := c.load(p); err != nil {
			return nil, err
		}
	}
	return c.result()
}

// LoadManifests reads the NetworkPolicies and Namespaces of paths: YAML
// files, directories of YAML files (walked recursively), and kustomization
// directories, which are built with krusty as `kustomize build` would.
// Objects of kinds that can change connectivity but are not evaluated are
// listed in NotEvaluated; other kinds of object are ignored. A namespace
// declared twice must carry the same labels both times.
func LoadManifests(paths []string) (*Manifests, error) {
	return LoadManifestsWith(paths, LoadOptions{})
}

// ScanNotEvaluated lists the objects of paths, read as LoadManifests reads
// them, that can change connectivity but are not evaluated, sorted by file
// and position. Nothing else is decoded, so a NetworkPolicy or YAML
// document that LoadManifests would refuse is no error here (the documents
// before a syntax error are scanned): for commands that only need to warn,
// as diff does over a tree it compares byte by byte. ClusterNetworkPolicies
// are listed too; the plugins' objects only outside what netdep evaluates.
func ScanNotEvaluated(paths []string) ([]ObjectRef, error) {
	c := &collector{scan: true}
	for _, p := range paths {
		if err := c.load(p); err != nil {
			return nil, err
		}
	}
	return sortRefs(c.notEvaluated), nil
}

// collector gathers the objects of several streams, remembering where each
// namespace came from to name both places of a conflict.
type collector struct {
	policies        []*networkingv1.NetworkPolicy
	clusterPolicies []*v1beta1.ClusterNetworkPolicy
	plugins         eval.PluginObjects
	notEvaluated    []ObjectRef
	namespaces      map[string]eval.Namespace
	nsSource        map[string]string
	loader          *Loader // nil: decode every file
	// scan reads only which objects are not evaluated (ScanNotEvaluated):
	// no policy or namespace is decoded, and a document that does not
	// parse ends its stream without an error.
	scan bool
	// problems are the decode problems of every stream so far.
	problems schema.Problems
	// documents keeps every stream's documents (LoadOptions.Documents).
	documents bool
	docs      []Document
}

// result is what the load read, or every problem it met, sorted.
func (c *collector) result() (*Manifests, error) {
	if len(c.problems) > 0 {
		c.problems.Sort()
		return nil, c.problems
	}
	return c.manifests(), nil
}

func (c *collector) manifests() *Manifests {
	m := &Manifests{Policies: c.policies, ClusterPolicies: c.clusterPolicies, NotEvaluated: sortRefs(c.notEvaluated), Documents: c.docs,
		Plugins: c.plugins.Plugins, StagedPolicies: c.plugins.StagedPolicies, StagedCalico: c.plugins.StagedCalico}
	for _, n := range c.namespaces {
		m.Namespaces = append(m.Namespaces, n)
	}
	sort.Slice(m.Namespaces, func(i, j int) bool { return m.Namespaces[i].Name < m.Namespaces[j].Name })
	return m
}

// add decodes one stream; name is how errors call it.
func (c *collector) add(name string, data []byte) error {
	return c.keep(c.decode(name, data))
}

// decode is decodeStream with the collector's options.
func (c *collector) decode(name string, data []byte) stream {
	return decodeStream(name, data, c.scan, c.documents)
}

// stream is what one file or build decodes to.
type stream struct {
	name            string
	policies        []*networkingv1.NetworkPolicy
	namespaces      []eval.Namespace
	notEvaluated    []ObjectRef
	clusterPolicies []*v1beta1.ClusterNetworkPolicy
	plugins         eval.PluginObjects
	docs            []Document // with LoadOptions.Documents
	err             error
}

func decodeStream(name string, data []byte, scan, keepDocs bool) stream {
	s := stream{name: name}
	if p := schema.CheckText(name, data); p != nil && !scan {
		s.err = schema.Problems{*p}
		return s
	}
	ds := eval.ParseDocuments(data)
	if scan {
		// diff's staleness check evaluates nothing: there,
		// ClusterNetworkPolicies are named too. The plugins' objects are
		// evaluated by diff's comparison as by verify: only those outside
		// the subset are named, with the field (a plugin object that does
		// not decode is the comparison's to report).
		s.notEvaluated = notEvaluatedIn(ds, name, true)
		if pls, err := ds.Plugins(); err == nil {
			s.notEvaluated = append(s.notEvaluated, pluginRefs(name, pls)...)
		}
		return s
	}
	// Both kinds are decoded before either's problems are reported, so
	// that a file's every problem is named at once; the stream's syntax
	// error, which both report, is named once.
	ps, perr := ds.Policies()
	cps, cerr := ds.ClusterNetworkPolicies()
	pls, plerr := ds.Plugins()
	if perr != nil || cerr != nil || plerr != nil {
		var probs schema.Problems
		for _, err := range []error{perr, cerr, plerr} {
			if err == nil {
				continue
			}
			for _, p := range problemsOf(name, data, err) {
				if !slices.Contains(probs, p) {
					probs = append(probs, p)
				}
			}
		}
		s.err = probs
		return s
	}
	s.policies, s.clusterPolicies, s.plugins = ps, cps, pls
	var err error
	if s.namespaces, err = decodeNamespaces(ds); err != nil {
		s.err = fmt.Errorf("%s: %w", name, err)
		return s
	}
	s.notEvaluated = append(notEvaluatedIn(ds, name, false), pluginRefs(name, pls)...)
	if keepDocs {
		for _, root := range ds.Roots {
			if root != nil {
				s.docs = append(s.docs, Document{Source: name, Node: root})
			}
		}
	}
	return s
}

// pluginRefs are the plugin objects of stream name outside what the
// evaluator evaluates, each at its field.
func pluginRefs(name string, pls eval.PluginObjects) []ObjectRef {
	var out []ObjectRef
	for _, x := range pls.NotEvaluated {
		out = append(out, ObjectRef{APIVersion: x.APIVersion, Kind: x.Kind, Namespace: x.Namespace, Name: x.Name,
			File: name, Line: x.Line, Column: x.Column, Field: x.Field, Reason: x.Reason})
	}
	return out
}

// problemsOf turns the decode errors of stream name into problems at their
// positions, so that every problem of every file is reported at once, each
// at file:line:col.
func problemsOf(name string, data []byte, err error) schema.Problems {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var ps schema.Problems
	for _, e := range errs {
		var de *eval.DecodeError
		if !errors.As(e, &de) {
			ps = append(ps, schema.Problem{Pos: schema.Pos{File: name}, Message: e.Error()})
			continue
		}
		if de.Syntax != nil {
			ps = append(ps, schema.YAMLError(name, data, de.Syntax))
			continue
		}
		msg := de.Msg
		if de.Line == 0 {
			msg = fmt.Sprintf("document %d: %s", de.Document, msg)
		}
		ps = append(ps, schema.Problem{Pos: schema.Pos{File: name, Line: de.Line, Column: de.Column}, Field: de.Field, Message: msg})
	}
	return ps
}

// keep adds a decoded stream's objects. A stream's problems are kept for
// the end, so that one run names them all; other errors stop the load.
func (c *collector) keep(s stream) error {
	if s.err != nil {
		var ps schema.Problems
		if errors.As(s.err, &ps) {
			c.problems = append(c.problems, ps...)
			return nil
		}
		return s.err
	}
	c.policies = append(c.policies, s.policies...)
	c.clusterPolicies = append(c.clusterPolicies, s.clusterPolicies...)
	c.plugins = appendPlugins(c.plugins, s.plugins)
	c.notEvaluated = append(c.notEvaluated, s.notEvaluated...)
	c.docs = append(c.docs, s.docs...)
	for _, n := range s.namespaces {
		if err := c.addNamespace(n, s.name); err != nil {
			return err
		}
	}
	return nil
}

// addFiles reads and decodes files on every core (a generated tree of
// 10,000 services is 20,000 files), then adds them in order, so the first
// error reported is the first file's, as one by one.
func (c *collector) addFiles(files []string) error {
	out := make([]stream, len(files))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range files {
		if s, ok := c.loader.get(f); ok {
			out[i] = s
			continue
		}
		g.Go(func() error {
			data, err := os.ReadFile(f)
			if err != nil {
				out[i] = stream{err: err}
				return nil
			}
			out[i] = c.decode(f, data)
			return nil
		})
	}
	_ = g.Wait() // errors are in out
	for i, s := range out {
		c.loader.put(files[i], s)
		if err := c.keep(s); err != nil {
			return err
		}
	}
	return nil
}

func (l *Loader) get(file string) (stream, bool) {
	if l == nil {
		return stream{}, false
	}
	s, ok := l.decoded[file]
	return s, ok
}

func (l *Loader) put(file string, s stream) {
	if l == nil || s.err != nil {
		return
	}
	if l.Shared != "" && !strings.HasPrefix(filepath.Clean(file), filepath.Clean(l.Shared)+string(filepath.Separator)) {
		return
	}
	if l.decoded == nil {
		l.decoded = map[string]stream{}
	}
	l.decoded[file] = s
}

// addNamespace keeps n, read from source; the same namespace again must
// carry the same labels.
func (c *collector) addNamespace(n eval.Namespace, source string) error {
	if prev, ok := c.namespaces[n.Name]; ok {
		if !maps.Equal(prev.Labels, n.Labels) {
			return fmt.Errorf("%s: Namespace %q: labels %s differ from the ones in %s (%s)",
				source, n.Name, showLabels(n.Labels), c.nsSource[n.Name], showLabels(prev.Labels))
		}
		return nil
	}
	if c.namespaces == nil {
		c.namespaces, c.nsSource = map[string]eval.Namespace{}, map[string]string{}
	}
	c.namespaces[n.Name], c.nsSource[n.Name] = n, source
	return nil
}

func (c *collector) load(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return c.addFiles([]string{p})
	}
	if kustomize.IsKustomization(p) {
		return c.build(p)
	}
	var files []string
	err = filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && f != p && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".yml")) {
			files = append(files, f)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	return c.addFiles(files)
}

// BuildKustomization renders a kustomization directory on disk and decodes
// its NetworkPolicies. A kustomization that only lists resources, as every
// kustomization netdep writes does, is resolved directly: its output is the
// concatenation of its resources, and kustomize's own build of it costs time
// that grows faster than linearly (seconds at a thousand policies, minutes
// at ten thousand). Anything else is built with krusty, as `kustomize build`
// would.
func BuildKustomization(dir string) ([]*networkingv1.NetworkPolicy, error) {
	var l *Loader // nothing to share: no cache
	return l.BuildKustomization(dir)
}

// Loader is BuildKustomization for several kustomizations that share files,
// as the environments of a generated tree share its base: each file is
// decoded once, and the policies read from it are shared (treat them as
// read-only). The zero Loader is ready (a nil one caches nothing); it is not
// safe for concurrent use.
type Loader struct {
	// Shared, when set, is the one directory whose files are kept (a
	// tree's base, which every overlay includes); the files elsewhere are
	// decoded each time they are met. Keeping every overlay's files too
	// held each environment's policies to the end of verify: at 50,000
	// services, hundreds of megabytes read once.
	Shared  string
	decoded map[string]stream
}

// BuildKustomization is the package's BuildKustomization, through l.
func (l *Loader) BuildKustomization(dir string) ([]*networkingv1.NetworkPolicy, error) {
	m, err := l.Build(dir)
	if err != nil {
		return nil, err
	}
	return m.Policies, nil
}

// Build is BuildKustomization with the rest of what LoadManifests reads:
// besides the NetworkPolicies of the kustomization at dir, its Namespaces
// and the objects of its output that are not evaluated.
func (l *Loader) Build(dir string) (*Manifests, error) {
	c := &collector{loader: l}
	if err := c.build(dir); err != nil {
		return nil, err
	}
	return c.result()
}

func (c *collector) build(dir string) error {
	sub := &collector{loader: c.loader, documents: c.documents}
	var files []string
	if ok, err := resourcesOnly(dir, 0, &files); ok || err != nil {
		if err != nil {
			return err
		}
		if err := sub.addFiles(files); err != nil {
			return err
		}
		c.problems = append(c.problems, sub.problems...)
		// kustomize refuses two objects with one id; so does this path.
		seen := map[string]bool{}
		for _, p := range sub.policies {
			id := p.Namespace + "/" + p.Name
			if seen[id] {
				return fmt.Errorf("kustomize build %s: NetworkPolicy %s appears twice", dir, id)
			}
			seen[id] = true
		}
		c.policies = append(c.policies, sub.policies...)
		c.clusterPolicies = append(c.clusterPolicies, sub.clusterPolicies...)
		c.plugins = appendPlugins(c.plugins, sub.plugins)
		c.notEvaluated = append(c.notEvaluated, sub.notEvaluated...)
		c.docs = append(c.docs, sub.docs...)
		for _, name := range slices.Sorted(maps.Keys(sub.namespaces)) {
			if err := c.addNamespace(sub.namespaces[name], sub.nsSource[name]); err != nil {
				return err
			}
		}
		return nil
	}
	data, err := kustomize.BuildOnDisk(dir)
	if err != nil {
		return err
	}
	return c.add("kustomize build "+dir, data)
}

// resourcesOnly lists in *files, in order, the files a kustomization that
// has nothing but apiVersion, kind and resources (files or further such
// kustomizations) builds from. ok is false when it has anything else, so the
// caller falls back to krusty.
func resourcesOnly(dir string, depth int, files *[]string) (ok bool, err error) {
	if depth > 20 {
		return false, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return false, nil
	}
	var k struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Resources  []string `yaml:"resources"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&k); err != nil || k.Kind != "Kustomization" {
		return false, nil
	}
	for _, r := range k.Resources {
		if strings.Contains(r, "://") {
			return false, nil
		}
		p := filepath.Join(dir, filepath.FromSlash(r))
		st, err := os.Stat(p)
		if err != nil {
			return false, nil
		}
		if st.IsDir() {
			if ok, err := resourcesOnly(p, depth+1, files); !ok || err != nil {
				return ok, err
			}
			continue
		}
		*files = append(*files, p)
	}
	return true, nil
}
