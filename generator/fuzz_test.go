package generator_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

// FuzzPipeline runs arbitrary bytes through the whole of generate: the
// loader, the policy generator and the Kustomize layout. Nothing may panic,
// and the loader is the only stage allowed to refuse input: once a Spec
// loads, generation must succeed, or a user gets an error without a file and
// line (the loader's job is to catch everything first).
//
// Seeds: each example and each catalogue case, its files joined into one
// multi-document file (a project document may live in any file).
func FuzzPipeline(f *testing.F) {
	for _, seed := range pipelineSeeds(f) {
		f.Add(seed)
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
	})
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
