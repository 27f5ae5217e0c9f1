package kustomize

import (
	"fmt"
	"path"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Render builds one kustomization directory of tree ("base", "overlays/dev",
// or in the per-namespace layout "overlays/dev/shop") in memory with krusty,
// the library behind `kustomize build` and `kubectl kustomize`, and returns
// the multi-document YAML it prints. Options are kustomize's defaults (load
// restrictions rootOnly, no plugins, legacy ordering unless the
// kustomization says otherwise), so the result is what Argo CD or Flux apply.
func Render(tree Tree, dir string) ([]byte, error) {
	if err := checkPath(dir); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	fs := filesys.MakeFsInMemory()
	for _, p := range tree.Paths() {
		if err := fs.MkdirAll(path.Dir("/" + p)); err != nil {
			return nil, err
		}
		b, _ := tree.Get(p)
		if err := fs.WriteFile("/"+p, b); err != nil {
			return nil, err
		}
	}
	opts := krusty.MakeDefaultOptions()
	// MakeDefaultOptions keeps input order; the kustomize CLI (and so Argo
	// CD and Flux) leaves the choice unspecified, which means legacy order.
	opts.Reorder = krusty.ReorderOptionUnspecified
	m, err := krusty.MakeKustomizer(opts).Run(fs, "/"+dir)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	return out, nil
}
