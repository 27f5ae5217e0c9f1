package generator_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
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

// TestValidateSetNamesWhatTheAPIServerRefuses: a generated policy the API
// server would refuse fails the run, naming the policy, its spec file and
// the API server's reason (issue 13, hole 4: such policies used to be
// written and fail only at sync).
func TestValidateSetNamesWhatTheAPIServerRefuses(t *testing.T) {
	out, err := generator.FromFiles(synth.Org(synth.Options{Services: 5, Seed: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := generator.ValidateSet(out.Set); err != nil {
		t.Fatalf("a valid set is refused: %v", err)
	}
	bad := out.Set.Base[len(out.Set.Base)-1].DeepCopy()
	bad.Annotations = map[string]string{policy.SourceAnnotation: "teams/x/deps.yaml"}
	bad.Spec.Egress = append(bad.Spec.Egress, networkingv1.NetworkPolicyEgressRule{
		To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "::ffff:10.0.0.0/104"}}}})
	set := *out.Set
	set.Base = append(slices.Clone(out.Set.Base[:len(out.Set.Base)-1]), bad)
	err = generator.ValidateSet(&set)
	if err == nil {
		t.Fatal("a policy with an IPv4-mapped CIDR passed")
	}
	for _, want := range []string{bad.Namespace + "/" + bad.Name, "teams/x/deps.yaml", "::ffff:10.0.0.0/104", "nothing was written"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestRandomSpecsGenerateValidPolicies is hole 4 as a property: for random
// valid specs using every feature of the schema, every generated policy of
// every environment passes the API server's validation.
func TestRandomSpecsGenerateValidPolicies(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 20
	}
	checked := 0
	for seed := int64(0); seed < int64(n); seed++ {
		files := synth.Org(synth.Options{Services: 3 + int(seed%40), PerNamespace: 2 + int(seed%6), Seed: seed, NoProject: seed%5 == 0})
		out, err := generator.FromFiles(files)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, env := range out.Spec.EnvNames() {
			for _, p := range out.Set.Render(env) {
				if errs := eval.Validate(eval.Default(p)); len(errs) > 0 {
					t.Fatalf("seed %d env %q: %s/%s is refused: %v", seed, env, p.Namespace, p.Name, errs.ToAggregate())
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no policy was checked")
	}
}
