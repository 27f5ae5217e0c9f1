package generator_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

// TestSpecOnly: stopping at the spec yields the spec the full run does,
// with its warnings, and neither policies nor a tree; bad input is still
// every problem at once.
func TestSpecOnly(t *testing.T) {
	files := synth.Org(synth.Options{Services: 60, Seed: 3})
	full, err := generator.FromFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	only, err := generator.FromFiles(files, generator.Options{SpecOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if only.Set != nil || only.Tree.Len() != 0 {
		t.Errorf("SpecOnly produced policies (%v) or a tree of %d files", only.Set != nil, only.Tree.Len())
	}
	if diff := cmp.Diff(full.Spec.EnvNames(), only.Spec.EnvNames()); diff != "" {
		t.Errorf("environments differ (-full +spec-only):\n%s", diff)
	}
	for _, env := range full.Spec.EnvNames() {
		if a, b := len(full.Spec.Environment(env).Rules), len(only.Spec.Environment(env).Rules); a != b || a == 0 {
			t.Errorf("%s: %d rules in the full run, %d with SpecOnly", env, a, b)
		}
	}
	if diff := cmp.Diff(full.Warnings, only.Warnings); diff != "" {
		t.Errorf("warnings differ (-full +spec-only):\n%s", diff)
	}

	bad := append(files[:len(files):len(files)], schema.File{Path: "bad.yaml", Data: []byte("netdep: v1\nnamespace: Bad_NS\nservices: {a: {calls: [nowhere]}}\n")})
	_, err = generator.FromFiles(bad, generator.Options{SpecOnly: true})
	var pe *generator.ProblemsError
	if !errors.As(err, &pe) || len(pe.Problems.Errors()) < 2 {
		t.Errorf("SpecOnly on bad input: %v; want every problem as a ProblemsError", err)
	}
}
