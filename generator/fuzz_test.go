package generator_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/schema"
)

// FuzzPipeline runs arbitrary bytes through the whole of generate and then
// verify: the loader, the policy generator, the Kustomize layout, a
// kustomize build of every environment, the API server's validation of
// every policy built, and the exactness check. Nothing may panic, and the
// loader is the only stage allowed to refuse input: once a Spec loads,
// generation must succeed (or a user gets an error without a file and
// line: the loader's job is to catch everything first), every policy must
// be one the API server accepts (a generated policy it rejects fails the
// sync, far from the spec that caused it), and verify must find the tree
// exact.
//
// Seeds: each example and each catalogue case, its files joined into one
// multi-document file (a project document may live in any file), and the
// inputs of pipelineRegressions.
func FuzzPipeline(f *testing.F) {
	for _, seed := range pipelineSeeds(f) {
		f.Add(seed)
	}
	for _, seed := range pipelineRegressions {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, probs := schema.Parse([]schema.File{{Path: "fuzz.yaml", Data: data, Explicit: true}})
		if spec == nil {
			if len(probs.Errors()) == 0 {
				t.Fatalf("no Spec and no error")
			}
			return
		}
		set, err := policy.Generate(spec)
		if err != nil {
			t.Fatalf("the loader accepted a spec that policy.Generate refuses: %v", err)
		}
		tree, err := kustomize.Build(set)
		if err != nil {
			t.Fatalf("the loader accepted a spec that kustomize.Build refuses: %v", err)
		}
		// The same spec must lay out the same bytes (no map order leaks).
		again, err := kustomize.Build(set)
		if err != nil || !tree.Equal(again) {
			t.Fatalf("a second Build differs (err %v)", err)
		}
		for _, env := range spec.EnvNames() {
			dir := "base"
			if env != "" {
				dir = "overlays/" + env
			}
			rendered, err := kustomize.Render(tree, dir)
			if err != nil {
				t.Fatalf("the generated tree does not build: %v", err)
			}
			// The build read as verify reads a tree: the one manifest
			// reader, every kind netdep writes (plugin and staged
			// objects too).
			file := filepath.Join(t.TempDir(), "rendered.yaml")
			if err := os.WriteFile(file, rendered, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := verify.LoadManifests([]string{file})
			if err != nil {
				t.Fatalf("the built %s does not decode: %v", dir, err)
			}
			if len(m.NotEvaluated) > 0 {
				t.Fatalf("the built %s holds objects netdep does not evaluate: %v", dir, m.NotEvaluated)
			}
			for _, p := range m.ClusterPolicies {
				if errs := eval.ValidateCluster(p); len(errs) > 0 {
					t.Fatalf("the loader accepted a spec whose clusternetworkpolicy %s the API server rejects: %v", p.Name, errs.ToAggregate())
				}
			}
			for _, p := range append(append([]*networkingv1.NetworkPolicy(nil), m.Policies...), m.StagedPolicies...) {
				if errs := eval.Validate(eval.Default(p)); len(errs) > 0 {
					t.Fatalf("the loader accepted a spec whose policy %s/%s the API server rejects: %v", p.Namespace, p.Name, errs.ToAggregate())
				}
			}
			rep, err := verify.CheckManifests(spec, env, m)
			if err != nil {
				t.Fatalf("verify %q: %v", env, err)
			}
			if !rep.Exact() {
				t.Fatalf("verify %q: not exact: %d missing (%+v), %d in excess (%+v)", env, len(rep.Missing), first(rep.Missing), len(rep.Excess), first(rep.Excess))
			}
		}
	})
}

// pipelineRegressions are inputs that once got through the loader and
// failed a later stage.
var pipelineRegressions = []string{
	// An IPv4-mapped IPv6 block: Kubernetes' strict CIDR validation
	// rejects ::ffff:a.b.c.d forms, so the policy failed to apply.
	"netdep: v1\nnamespace: shop\nservices:\n  cart:\n    calls: [{cidr: \"::ffff:10.0.0.0/104\", ports: [443]}]\n",
	"netdep: v1\nnamespace: shop\nservices:\n  cart:\n    ports: {http: 80}\n    from: [{cidr: \"::ffff:192.0.2.0/120\"}]\n",
}

func first[T any](s []T) any {
	if len(s) == 0 {
		return nil
	}
	return s[0]
}

// pipelineSeeds joins the netdep files of every example and catalogue case
// into one multi-document file each.
func pipelineSeeds(f *testing.F) [][]byte {
	var dirs []string
	for _, glob := range []string{"../examples/*", "../tests/testdata/catalog/*", "../schema/testdata/*/*"} {
		m, _ := filepath.Glob(glob)
		dirs = append(dirs, m...)
	}
	sort.Strings(dirs)
	var seeds [][]byte
	for _, dir := range dirs {
		var joined []byte
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && (d.Name() == "netpol" || d.Name() == "deploy") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".yaml") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			if len(joined) > 0 {
				joined = append(joined, "\n---\n"...)
			}
			joined = append(joined, b...)
			return nil
		})
		if len(joined) > 0 {
			seeds = append(seeds, joined)
		}
	}
	if len(seeds) < 40 {
		f.Fatalf("found %d seeds, want the examples and the catalogue", len(seeds))
	}
	return seeds
}
