package verify

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/netdep/netdep/generator/eval"
)

// LoadManifests reads the NetworkPolicies of paths: YAML files, directories
// of YAML files (walked recursively), and kustomization directories, which
// are built with krusty as `kustomize build` would. Other kinds of object are
// ignored.
func LoadManifests(paths []string) ([]*networkingv1.NetworkPolicy, error) {
	var out []*networkingv1.NetworkPolicy
	for _, p := range paths {
		ps, err := loadManifest(p)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

func loadManifest(p string) ([]*networkingv1.NetworkPolicy, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return decodeFile(p)
	}
	if isKustomization(p) {
		return BuildKustomization(p)
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
		return nil, err
	}
	sort.Strings(files)
	var out []*networkingv1.NetworkPolicy
	for _, f := range files {
		ps, err := decodeFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
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
	if ps, ok, err := resourcesOnly(dir, 0); ok || err != nil {
		if err != nil {
			return nil, err
		}
		// kustomize refuses two objects with one id; so does this path.
		seen := map[string]bool{}
		for _, p := range ps {
			id := p.Namespace + "/" + p.Name
			if seen[id] {
				return nil, fmt.Errorf("kustomize build %s: NetworkPolicy %s appears twice", dir, id)
			}
			seen[id] = true
		}
		return ps, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	data, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	ps, err := eval.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return ps, nil
}

func decodeFile(p string) ([]*networkingv1.NetworkPolicy, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	ps, err := eval.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return ps, nil
}

// resourcesOnly resolves a kustomization that has nothing but apiVersion,
// kind and resources (files or further such kustomizations). ok is false when
// it has anything else, so the caller falls back to krusty.
func resourcesOnly(dir string, depth int) (ps []*networkingv1.NetworkPolicy, ok bool, err error) {
	if depth > 20 {
		return nil, false, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, false, nil
	}
	var k struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Resources  []string `yaml:"resources"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&k); err != nil || k.Kind != "Kustomization" {
		return nil, false, nil
	}
	for _, r := range k.Resources {
		if strings.Contains(r, "://") {
			return nil, false, nil
		}
		p := filepath.Join(dir, filepath.FromSlash(r))
		st, err := os.Stat(p)
		if err != nil {
			return nil, false, nil
		}
		if st.IsDir() {
			sub, ok, err := resourcesOnly(p, depth+1)
			if !ok || err != nil {
				return nil, ok, err
			}
			ps = append(ps, sub...)
			continue
		}
		sub, err := decodeFile(p)
		if err != nil {
			return nil, true, err
		}
		ps = append(ps, sub...)
	}
	return ps, true, nil
}
