package policy

import (
	"math/rand/v2"
	"strings"
	"testing"

	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/eval/evaltest"
)

// The round trip the proof relies on: random ClusterNetworkPolicy sets,
// converted with ToV1Alpha1, written as manifests and read back the way
// verify reads a tree (eval's strict decode of AdminNetworkPolicy and
// BaselineAdminNetworkPolicy into v1beta1), give the evaluator the same
// verdict for every pair of endpoints and every port of a random world.
// The Baseline policies share the first one's subject (the one
// BaselineAdminNetworkPolicy has one; ToV1Alpha1 refuses otherwise, which
// TestToV1Alpha1Refusals covers).
func TestV1Alpha1RoundTripSameVerdicts(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 100
	}
	converted, baselines, rules := 0, 0, 0
	for seed := 0; seed < n; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 42))
		c := evaltest.Random(rng, evaltest.RandomOptions{PodIPs: seed%2 == 0})
		cnps := evaltest.RandomClusterPolicies(rng, 6)
		var subject *v1beta1.ClusterNetworkPolicySubject
		for _, p := range cnps {
			if p.Spec.Tier != v1beta1.BaselineTier {
				continue
			}
			if subject == nil {
				subject = p.Spec.Subject.DeepCopy()
			}
			p.Spec.Subject = *subject.DeepCopy()
		}
		anps, banp, err := ToV1Alpha1(cnps)
		if err != nil {
			t.Fatalf("seed %d: ToV1Alpha1: %v", seed, err)
		}
		back, err := eval.ParseDocuments(v1alpha1Manifests(t, anps, banp)).ClusterNetworkPolicies()
		if err != nil {
			t.Fatalf("seed %d: reading the v1alpha1 objects back: %v", seed, err)
		}
		converted += len(anps)
		if banp != nil {
			baselines++
		}
		for _, p := range back {
			rules += len(p.Spec.Ingress) + len(p.Spec.Egress)
			if kind := p.Annotations[eval.V1Alpha1KindAnnotation]; !strings.HasSuffix(kind, "AdminNetworkPolicy") {
				t.Fatalf("seed %d: %s read back without its v1alpha1 kind (%q)", seed, p.Name, kind)
			}
		}
		want, err := eval.NewWithClusterPolicies(c.Universe, c.Policies, cnps)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		got, err := eval.NewWithClusterPolicies(c.Universe, c.Policies, back)
		if err != nil {
			t.Fatalf("seed %d: the read-back policies: %v", seed, err)
		}
		var eps []eval.Endpoint
		for i := range c.Universe.Pods {
			eps = append(eps, eval.PodEndpoint(i))
		}
		for _, a := range c.Addresses {
			eps = append(eps, want.ExternalFor(a))
		}
		for _, src := range eps {
			for _, dst := range eps {
				if src.External && dst.External {
					continue
				}
				for _, proto := range eval.Protocols {
					for _, port := range c.Ports {
						q := eval.Query{Src: src, Dst: dst, Protocol: proto, Port: port}
						a, b := want.Explain(q), got.Explain(q)
						if a.Allowed != b.Allowed {
							t.Fatalf("seed %d: %v -> %v %d/%s: v1beta1 %v, after v1alpha1 and back %v\nv1beta1: %s\nback: %s", seed, src, dst, port, proto, a.Allowed, b.Allowed, a, b)
						}
					}
				}
			}
		}
		wr, gr := want.Reachability(), got.Reachability()
		for _, s := range eps {
			for _, d := range eps {
				if pw, pg := wr.Ports(s, d), gr.Ports(s, d); !pw.Equal(pg) {
					t.Fatalf("seed %d: %v -> %v: v1beta1 %s, after v1alpha1 and back %s", seed, s, d, pw, pg)
				}
			}
		}
	}
	t.Logf("%d random sets: %d AdminNetworkPolicies and %d BaselineAdminNetworkPolicies round-tripped, %d rules read back", n, converted, baselines, rules)
}
