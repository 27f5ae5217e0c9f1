package kustomize

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

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
	fs, err := inMemory(tree)
	if err != nil {
		return nil, err
	}
	return build(fs, dir)
}

// inMemory copies tree into a file system krusty can build from.
func inMemory(tree Tree) (filesys.FileSystem, error) {
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
	return fs, nil
}

// KustomizationFiles are the file names that make a directory a
// kustomization, as kustomize looks for them.
var KustomizationFiles = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// IsKustomization reports whether dir on disk holds a kustomization file.
func IsKustomization(dir string) bool {
	for _, n := range KustomizationFiles {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}

// BuildOnDisk is `kustomize build dir` for a kustomization on disk, with
// the options every netdep build uses (see build).
func BuildOnDisk(dir string) ([]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	out, err := buildAt(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return out, nil
}

func build(fs filesys.FileSystem, dir string) ([]byte, error) {
	out, err := buildAt(fs, "/"+dir)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	return out, nil
}

// buildAt is the one krusty call of netdep.
func buildAt(fs filesys.FileSystem, dir string) ([]byte, error) {
	opts := krusty.MakeDefaultOptions()
	// MakeDefaultOptions keeps input order; the kustomize CLI (and so Argo
	// CD and Flux) leaves the choice unspecified, which means legacy order.
	opts.Reorder = krusty.ReorderOptionUnspecified
	m, err := krusty.MakeKustomizer(opts).Run(fs, dir)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

// Leaves lists, sorted, the namespaces that have a kustomization of their
// own under dir ("base" or "overlays/<env>") in the per-namespace layout.
func Leaves(tree Tree, dir string) []string {
	var out []string
	prefix := dir + "/"
	for _, p := range tree.Paths() {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		if ns, ok := strings.CutSuffix(rest, "/"+kustomizationFile); ok && !strings.Contains(ns, "/") {
			out = append(out, ns)
		}
	}
	// Paths is sorted, and "/" sorts before every name character; the
	// cluster leaf goes last, where kustomizations list it.
	return clusterLast(out)
}

// clusterLast moves ClusterDir to the end of sorted names: cluster-scoped
// objects come after the namespaces', as building a whole environment
// prints them.
func clusterLast(names []string) []string {
	for i, n := range names {
		if n == ClusterDir {
			return append(append(names[:i:i], names[i+1:]...), ClusterDir)
		}
	}
	return names
}

// RenderLeaves prints what building dir prints, for a tree in the
// per-namespace layout, by building the leaves dir/<namespace> for the given
// namespaces (every leaf of dir when nil) one by one, on every core, and
// joining them. kustomize's cost grows faster than linearly with the
// policies of one build (an environment of 10,000 services did not build in
// 19 minutes; its leaves build in seconds), and the join is byte for byte
// the whole build when every object is a NetworkPolicy: dir only lists its
// leaves, and kustomize's legacy order sorts objects of one kind by
// namespace, then name (TestRenderLeaves holds the two equal). With plugin
// objects (CiliumNetworkPolicies, Calico policies) the leaves' objects are
// put in that order across leaves (legacyOrder), so the join is the whole
// build then too (TestRenderMatchesOverlay, against kubectl kustomize).
func RenderLeaves(tree Tree, dir string, namespaces []string) ([]byte, error) {
	if err := checkPath(dir); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	if namespaces == nil {
		namespaces = Leaves(tree, dir)
		// The join is the build only if dir lists its leaves and nothing
		// else, as the per-namespace layout's kustomizations do.
		got, ok := tree.Get(dir + "/" + kustomizationFile)
		if !ok {
			return nil, fmt.Errorf("render %s: no %s there", dir, kustomizationFile)
		}
		listed := false
		for _, c := range [][]string{nil, ciliumAuditComment, calicoAuditComment} {
			listed = listed || bytes.Equal(got, kustomizationWith(c, namespaces))
		}
		if !listed {
			return nil, fmt.Errorf("render %s: not an environment of the per-namespace layout (its kustomization lists more than its namespaces' kustomizations)", dir)
		}
	}
	out := make([][]byte, len(namespaces))
	errs := make([]error, len(namespaces))
	var next atomic.Int64
	var g errgroup.Group
	for range min(runtime.GOMAXPROCS(0), len(namespaces)) {
		g.Go(func() error {
			// One copy of the tree per worker: krusty's in-memory file
			// system is not documented as safe for concurrent use.
			fs, err := inMemory(tree)
			if err != nil {
				return err
			}
			for i := int(next.Add(1)) - 1; i < len(namespaces); i = int(next.Add(1)) - 1 {
				out[i], errs[i] = build(fs, dir+"/"+namespaces[i])
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// The first failing leaf in order, whichever worker met it first.
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var docs [][]byte
	for _, leaf := range out {
		if len(leaf) > 0 {
			docs = append(docs, bytes.Split(leaf, []byte("\n---\n"))...)
		}
	}
	legacyOrder(docs)
	var b []byte
	for i, doc := range docs {
		if i > 0 {
			b = append(b, "---\n"...)
		}
		b = append(b, doc...)
		if !bytes.HasSuffix(doc, []byte("\n")) {
			b = append(b, '\n')
		}
	}
	return b, nil
}

// legacyOrder sorts rendered documents as kustomize's legacy order does
// for the kinds netdep writes (none of them in its fixed list of kinds that
// go first or last): by group, version and kind, then namespace, then name.
// Each leaf is in that order already; across leaves, objects of one kind
// from every namespace come together, so the join is the whole build's
// output also when an environment holds more than one kind.
func legacyOrder(docs [][]byte) {
	type keyed struct {
		key string
		doc []byte
	}
	ks := make([]keyed, len(docs))
	for i, d := range docs {
		ks[i] = keyed{legacyKey(d), d}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	for i, k := range ks {
		docs[i] = k.doc
	}
}

// legacyKey is kustomize's legacy sort key of one rendered object:
// "group_version_kind", then namespace ("~X" for none) and name, read from
// the object's top-level apiVersion and kind and metadata's name and
// namespace as kustomize prints them.
func legacyKey(doc []byte) string {
	var apiVersion, kind, name, namespace string
	inMeta := false
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case strings.HasPrefix(line, "apiVersion: "):
			apiVersion, inMeta = strings.TrimPrefix(line, "apiVersion: "), false
		case strings.HasPrefix(line, "kind: "):
			kind, inMeta = strings.TrimPrefix(line, "kind: "), false
		case line == "metadata:":
			inMeta = true
		case inMeta && strings.HasPrefix(line, "  name: "):
			name = strings.TrimPrefix(line, "  name: ")
		case inMeta && strings.HasPrefix(line, "  namespace: "):
			namespace = strings.TrimPrefix(line, "  namespace: ")
		case len(line) > 0 && line[0] != ' ' && line[0] != '#':
			inMeta = false
		}
	}
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group, version = "~G", apiVersion
	}
	if namespace == "" {
		namespace = "~X"
	}
	return group + "_" + version + "_" + kind + "\x00" + namespace + "|" + name
}
