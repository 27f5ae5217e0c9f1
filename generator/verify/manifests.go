package verify

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/netdep/netdep/generator/eval"
)

// Manifests are what LoadManifests reads: NetworkPolicies, and the
// namespaces the Namespace objects among them declare, with their labels.
type Manifests struct {
	Policies []*networkingv1.NetworkPolicy
	// Namespaces are sorted by name; pass them to Options.Namespaces so
	// that label-based namespaceSelectors select what they would in the
	// cluster.
	Namespaces []eval.Namespace
}

// LoadManifests reads the NetworkPolicies and Namespaces of paths: YAML
// files, directories of YAML files (walked recursively), and kustomization
// directories, which are built with krusty as `kustomize build` would. Other
// kinds of object are ignored. A namespace declared twice must carry the
// same labels both times.
func LoadManifests(paths []string) (*Manifests, error) {
	c := &collector{}
	for _, p := range paths {
		if err := c.load(p); err != nil {
			return nil, err
		}
	}
	return c.manifests(), nil
}

// collector gathers the objects of several streams, remembering where each
// namespace came from to name both places of a conflict.
type collector struct {
	policies   []*networkingv1.NetworkPolicy
	namespaces map[string]eval.Namespace
	nsSource   map[string]string
}

func (c *collector) manifests() *Manifests {
	m := &Manifests{Policies: c.policies}
	for _, n := range c.namespaces {
		m.Namespaces = append(m.Namespaces, n)
	}
	sort.Slice(m.Namespaces, func(i, j int) bool { return m.Namespaces[i].Name < m.Namespaces[j].Name })
	return m
}

// add decodes one stream; name is how errors call it.
func (c *collector) add(name string, data []byte) error {
	ps, err := eval.Decode(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	nss, err := decodeNamespaces(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	c.policies = append(c.policies, ps...)
	for _, n := range nss {
		if err := c.addNamespace(n, name); err != nil {
			return err
		}
	}
	return nil
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
		return c.addFile(p)
	}
	if isKustomization(p) {
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
	for _, f := range files {
		if err := c.addFile(f); err != nil {
			return err
		}
	}
	return nil
}

func (c *collector) addFile(p string) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	return c.add(p, data)
}

func isKustomization(dir string) bool {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// BuildKustomization renders a kustomization directory on disk and decodes
// its NetworkPolicies. A kustomization that only lists resources, as every
// kustomization netdep writes does, is resolved directly: its output is the
// concatenation of its resources, and kustomize's own build of it costs time
// that grows faster than linearly (seconds at a thousand policies, minutes
// at ten thousand). Anything else is built with krusty, as `kustomize build`
// would.
func BuildKustomization(dir string) ([]*networkingv1.NetworkPolicy, error) {
	c := &collector{}
	if err := c.build(dir); err != nil {
		return nil, err
	}
	return c.policies, nil
}

func (c *collector) build(dir string) error {
	sub := &collector{}
	if ok, err := sub.resourcesOnly(dir, 0); ok || err != nil {
		if err != nil {
			return err
		}
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
		for _, name := range slices.Sorted(maps.Keys(sub.namespaces)) {
			if err := c.addNamespace(sub.namespaces[name], sub.nsSource[name]); err != nil {
				return err
			}
		}
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		return fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	data, err := m.AsYaml()
	if err != nil {
		return fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return c.add("kustomize build "+dir, data)
}

// resourcesOnly resolves a kustomization that has nothing but apiVersion,
// kind and resources (files or further such kustomizations) into c. ok is
// false when it has anything else, so the caller drops c and falls back to
// krusty.
func (c *collector) resourcesOnly(dir string, depth int) (ok bool, err error) {
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
			if ok, err := c.resourcesOnly(p, depth+1); !ok || err != nil {
				return ok, err
			}
			continue
		}
		if err := c.addFile(p); err != nil {
			return true, err
		}
	}
	return true, nil
}
