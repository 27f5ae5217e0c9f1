package verify

import (
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

// TestRandomSpecsAreExact is the exactness guarantee as a property: for
// random valid specs using every feature of the schema, the generated
// policies allow exactly the declared graph in every environment.
func TestRandomSpecsAreExact(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 30
	}
	for seed := int64(0); seed < int64(n); seed++ {
		opts := synth.Options{Services: 3 + int(seed%25), PerNamespace: 2 + int(seed%6), Seed: seed, NoProject: seed%5 == 0}
		files := synth.Org(opts)
		spec, probs := schema.Parse(files)
		if len(probs.Errors()) > 0 {
			t.Fatalf("seed %d: synthetic spec is invalid:\n%v", seed, probs)
		}
		set, err := policy.Generate(spec)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, env := range spec.EnvNames() {
			r, err := Check(spec, env, set.Render(env))
			if err != nil {
				t.Fatalf("seed %d env %q: %v", seed, env, err)
			}
			if !r.Exact() {
				t.Fatalf("seed %d env %q not exact (%d pods):\nmissing %v\nexcess %v", seed, env, r.Pods, r.Missing, r.Excess)
			}
		}
	}
}

// TestRandomOneSidedMutationsAreCaught: over the same random specs, a
// single policy changed on one side only (an ingress rule widened to every
// port, an ingress peer widened to its whole namespace, an egress rule
// dropped) is never verified exact, in every environment, whenever the
// change alters what that side allows on its own (the evaluator's
// IngressSide/EgressSide before and after). Some of the widenings are
// hidden from the connection check by the other side's isolation; the count
// of those proves the per-side check is what catches them.
func TestRandomOneSidedMutationsAreCaught(t *testing.T) {
	n := 150
	if testing.Short() {
		n = 20
	}
	type kind struct {
		name string
		fn   func(p *networkingv1.NetworkPolicy) bool // false: not applicable
	}
	kinds := []kind{
		{"widen an ingress rule to every port", func(p *networkingv1.NetworkPolicy) bool {
			for i := range p.Spec.Ingress {
				if len(p.Spec.Ingress[i].Ports) > 0 {
					p.Spec.Ingress[i].Ports = nil
					return true
				}
			}
			return false
		}},
		{"widen an ingress peer to its namespace", func(p *networkingv1.NetworkPolicy) bool {
			for i := range p.Spec.Ingress {
				for j, peer := range p.Spec.Ingress[i].From {
					if peer.PodSelector != nil && len(peer.PodSelector.MatchLabels)+len(peer.PodSelector.MatchExpressions) > 0 {
						p.Spec.Ingress[i].From[j].PodSelector = &metav1.LabelSelector{}
						return true
					}
				}
			}
			return false
		}},
		{"drop an egress rule", func(p *networkingv1.NetworkPolicy) bool {
			if len(p.Spec.Egress) == 0 {
				return false
			}
			p.Spec.Egress = p.Spec.Egress[1:]
			return true
		}},
	}
	changed := make([]int, len(kinds))
	hidden := make([]int, len(kinds)) // caught by a side check only
	for seed := int64(0); seed < int64(n); seed++ {
		files := synth.Org(synth.Options{Services: 3 + int(seed%25), PerNamespace: 2 + int(seed%6), Seed: seed, NoProject: seed%5 == 0})
		spec, probs := schema.Parse(files)
		if len(probs.Errors()) > 0 {
			t.Fatalf("seed %d: %v", seed, probs)
		}
		set, err := policy.Generate(spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range spec.EnvNames() {
			base := set.Render(env)
			for k, kd := range kinds {
				// The (seed)th policy the mutation applies to, round robin.
				var eligible []int
				for i, p := range base {
					if kd.fn(p.DeepCopy()) {
						eligible = append(eligible, i)
					}
				}
				if len(eligible) == 0 {
					continue
				}
				target := eligible[int(seed)%len(eligible)]
				mutated := slices.Clone(base)
				mutated[target] = base[target].DeepCopy()
				kd.fn(mutated[target])
				if !sidesDiffer(t, spec, env, base, mutated) {
					continue
				}
				changed[k]++
				r, err := Check(spec, env, mutated)
				if err != nil {
					t.Fatal(err)
				}
				if r.Exact() {
					t.Fatalf("seed %d env %q: %s in %s/%s verified exact", seed, env, kd.name, base[target].Namespace, base[target].Name)
				}
				connection := false
				for _, d := range append(slices.Clone(r.Missing), r.Excess...) {
					connection = connection || d.Direction == Connection
				}
				if !connection {
					hidden[k]++
				}
			}
		}
	}
	for k, kd := range kinds {
		t.Logf("%s: %d changes caught, %d of them by a side check only", kd.name, changed[k], hidden[k])
		if changed[k] < n/2 {
			t.Errorf("%s changed a side only %d times over %d specs: the mutation is too weak to prove anything", kd.name, changed[k], n)
		}
	}
	if hidden[0]+hidden[1] == 0 {
		t.Errorf("no widening was hidden from the connection check: the per-side check was never needed")
	}
}

// sidesDiffer reports whether some world pod's ingress or egress side on its
// own differs between two sets of policies.
func sidesDiffer(t *testing.T, spec *schema.Spec, env string, a, b []*networkingv1.NetworkPolicy) bool {
	t.Helper()
	w := world.New(env, spec)
	ea, err := eval.New(w.Universe, a)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := eval.New(w.Universe, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ea.Externals()) != len(eb.Externals()) {
		return true
	}
	same := func(x, y []eval.Admit) bool {
		return slices.EqualFunc(x, y, func(p, q eval.Admit) bool { return p.Peer == q.Peer && p.Ports.Equal(q.Ports) })
	}
	for i := range w.Universe.Pods {
		if ea.IsolatedIngress(i) != eb.IsolatedIngress(i) || ea.IsolatedEgress(i) != eb.IsolatedEgress(i) ||
			!same(ea.IngressSide(i), eb.IngressSide(i)) || !same(ea.EgressSide(i), eb.EgressSide(i)) {
			return true
		}
	}
	return false
}
