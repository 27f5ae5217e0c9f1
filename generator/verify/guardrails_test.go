package verify

import (
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

// withGuardrails adds random cluster guardrails to a synthetic org's
// project file: every kind, with defaults or explicit priorities, and an
// environment that replaces some of the cluster's keys. It picks what does
// not contradict a declared edge (an isolated namespace allows the
// namespaces that call into it, a denied block never holds a declared one),
// so the spec still loads; what the guardrails then decide is what verify
// must find exactly.
func withGuardrails(t *testing.T, files []schema.File, seed int64) []schema.File {
	t.Helper()
	spec, probs := schema.Parse(files)
	if len(probs.Errors()) > 0 {
		t.Fatalf("seed %d: synthetic spec is invalid:\n%v", seed, probs)
	}
	rng := rand.New(rand.NewSource(seed))
	var managed []string
	for _, ns := range spec.Namespaces {
		if ns.Managed {
			managed = append(managed, ns.Name)
		}
	}
	if len(managed) == 0 {
		return files
	}
	denies := []string{"baseline", "both", "networkPolicy"}
	guard := func(withPriorities bool) map[string]any {
		g := map[string]any{"defaultDeny": denies[rng.Intn(3)], "dns": rng.Intn(2) == 0}
		if rng.Intn(3) == 0 {
			g["api"] = "v1alpha1"
		}
		prio := func(m map[string]any, p int) map[string]any {
			if withPriorities {
				m["priority"] = p
			}
			return m
		}
		if rng.Intn(3) > 0 {
			// Scrapes from the unmanaged monitoring namespace, or from a
			// managed namespace's service (which adds the egress side).
			ns, sel := "monitoring", map[string]any{"app": "prometheus"}
			if rng.Intn(2) == 0 {
				n := spec.Namespace(managed[rng.Intn(len(managed))])
				if len(n.Services) > 0 {
					s := n.Services[rng.Intn(len(n.Services))]
					ns, sel = n.Name, map[string]any{}
					for k, v := range s.Selector {
						sel[k] = v
					}
				}
			}
			port := []any{9102}
			if rng.Intn(2) == 0 {
				port = []any{8080, "9000-9100/TCP"}
			}
			g["monitoring"] = []any{prio(map[string]any{"namespace": ns, "selector": sel, "ports": port}, 300+rng.Intn(100))}
		}
		if rng.Intn(3) > 0 {
			x := managed[rng.Intn(len(managed))]
			allow := map[string]bool{}
			for _, e := range spec.Environments {
				for _, r := range e.Rules {
					if r.Direction == schema.Ingress && r.Service.Namespace == x {
						switch r.Peer.Kind {
						case schema.PeerService:
							allow[r.Peer.Service.Namespace] = true
						case schema.PeerSelector:
							allow[r.Peer.Namespace] = true
						}
					}
					if r.Direction == schema.Egress && r.Peer.Kind == schema.PeerSelector && r.Peer.Namespace == x {
						allow[r.Service.Namespace] = true
					}
				}
			}
			var list []any
			for _, ns := range spec.Namespaces {
				if allow[ns.Name] || rng.Intn(4) == 0 {
					list = append(list, ns.Name)
				}
			}
			g["isolateNamespaces"] = []any{prio(map[string]any{"namespace": x, "allow": list}, 500+rng.Intn(100))}
		}
		if rng.Intn(3) > 0 {
			// The metadata address, and an address inside a declared
			// block (carved out of it, not contradicting it).
			cidrs := []any{"169.254.169.254/32"}
			if rng.Intn(2) == 0 {
				cidrs = append(cidrs, "203.0.113.200/32", "198.18.0.0/15")
			}
			g["denyCIDRs"] = []any{prio(map[string]any{"name": "deny-blocks", "cidr": cidrs}, 700+rng.Intn(100))}
		}
		return g
	}
	out := slices.Clone(files)
	for i, f := range out {
		if filepath.Base(f.Path) != "netdep.yaml" {
			continue
		}
		var doc map[string]any
		if err := yaml.Unmarshal(f.Data, &doc); err != nil {
			t.Fatal(err)
		}
		doc["cluster"].(map[string]any)["guardrails"] = guard(rng.Intn(2) == 0)
		envs := doc["environments"].(map[string]any)
		var names []string
		for name := range envs {
			names = append(names, name)
		}
		slices.Sort(names)
		if e, ok := envs[names[0]].(map[string]any); ok && rng.Intn(2) == 0 {
			g := guard(false)
			for k := range g {
				if rng.Intn(2) == 0 {
					delete(g, k) // the cluster's key stays
				}
			}
			e["guardrails"] = g
		}
		data, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		out[i].Data = data
	}
	return out
}

// TestRandomSpecsWithGuardrailsAreExact is TestRandomSpecsAreExact with
// random cluster guardrails: the generated NetworkPolicies and
// ClusterNetworkPolicies together allow exactly the declared graph, the
// guardrails' accepts and denies included.
func TestRandomSpecsWithGuardrailsAreExact(t *testing.T) {
	n := 150
	if testing.Short() {
		n = 20
	}
	kinds := map[string]int{}
	for seed := int64(0); seed < int64(n); seed++ {
		opts := synth.Options{Services: 3 + int(seed%25), PerNamespace: 2 + int(seed%6), Seed: seed}
		files := withGuardrails(t, synth.Org(opts), seed)
		spec, probs := schema.Parse(files)
		if len(probs.Errors()) > 0 {
			t.Fatalf("seed %d: spec with guardrails is invalid:\n%v", seed, probs)
		}
		set, err := policy.Generate(spec)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, env := range spec.EnvNames() {
			cnps := set.RenderCluster(env)
			for _, p := range cnps {
				name := p.Name
				if strings.HasPrefix(name, "netdep-allow-scrape-") {
					name = "netdep-allow-scrape"
					if strings.HasSuffix(p.Name, "-egress") {
						name += "-egress"
					}
				}
				if strings.HasPrefix(name, "netdep-isolate-") {
					name = "netdep-isolate"
				}
				kinds[name]++
			}
			if spec.Environment(env).ClusterAPI() == schema.APIV1alpha1 {
				// What the tree holds: the v1alpha1 objects, read back as
				// verify reads a tree.
				cnps = throughV1Alpha1(t, cnps)
				kinds["v1alpha1 environments"]++
			}
			r, err := CheckWith(spec, env, set.Render(env), Options{ClusterPolicies: cnps})
			if err != nil {
				t.Fatalf("seed %d env %q: %v", seed, env, err)
			}
			if !r.Exact() {
				t.Fatalf("seed %d env %q not exact (%d pods):\nmissing %v\nexcess %v", seed, env, r.Pods, r.Missing, r.Excess)
			}
		}
	}
	t.Logf("cluster policies checked: %v", kinds)
	for _, name := range []string{policy.BaselineDenyIngressName, policy.BaselineDenyEgressName, policy.BaselineDenyName, "v1alpha1 environments", "netdep-allow-dns", "netdep-deny-blocks",
		"netdep-allow-scrape", "netdep-allow-scrape-egress", "netdep-isolate"} {
		if kinds[name] < n/10 {
			t.Errorf("%s appeared in %d environments only: the property hardly tests it", name, kinds[name])
		}
	}
}

// TestWrongGuardrailObjectsAreCaught: verify compares the cluster policies
// with the project file, not with themselves. Each mutation of one
// generated ClusterNetworkPolicy of examples/guardrails makes that
// environment differ.
func TestWrongGuardrailObjectsAreCaught(t *testing.T) {
	spec, probs := schema.Load([]string{filepath.Join("..", "..", "examples", "guardrails")})
	if len(probs.Errors()) > 0 {
		t.Fatal(probs)
	}
	set, err := policy.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, env, policy string
		mutate            func(p *v1beta1.ClusterNetworkPolicy)
	}{
		{"drop the metadata deny", "staging", "netdep-deny-metadata", nil},
		{"widen the scrape accept to every port", "staging", "netdep-allow-scrape-monitoring", func(p *v1beta1.ClusterNetworkPolicy) {
			p.Spec.Ingress[0].Protocols = nil
		}},
		{"turn the isolation deny into a pass", "staging", "netdep-isolate-payments", func(p *v1beta1.ClusterNetworkPolicy) {
			p.Spec.Ingress[0].Action = v1beta1.ClusterNetworkPolicyRuleActionPass
		}},
		{"allow every namespace into payments", "prod", "netdep-isolate-payments", func(p *v1beta1.ClusterNetworkPolicy) {
			p.Spec.Ingress[0].From[0].Namespaces.MatchExpressions[0].Values = []string{"payments", "shop", "monitoring"}
		}},
		{"drop the baseline deny", "prod", policy.BaselineDenyName, nil},
		{"drop the baseline egress rule", "prod", policy.BaselineDenyName, func(p *v1beta1.ClusterNetworkPolicy) {
			p.Spec.Egress = nil
		}},
		{"drop the baseline ingress rule", "prod", policy.BaselineDenyName, func(p *v1beta1.ClusterNetworkPolicy) {
			p.Spec.Ingress = nil
		}},
		{"drop the dns accept", "prod", "netdep-allow-dns", nil},
		{"deny the metadata address after a wider accept", "prod", "netdep-deny-metadata", func(p *v1beta1.ClusterNetworkPolicy) {
			p.Spec.Priority = 5
			p.Spec.Egress[0].Action = v1beta1.ClusterNetworkPolicyRuleActionAccept
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nps := set.Render(tc.env)
			cnps := set.RenderCluster(tc.env)
			r, err := CheckWith(spec, tc.env, nps, Options{ClusterPolicies: cnps})
			if err != nil || !r.Exact() {
				t.Fatalf("unmutated %s not exact (err %v): %+v", tc.env, err, r)
			}
			var mutated []*v1beta1.ClusterNetworkPolicy
			found := false
			for _, p := range cnps {
				if p.Name != tc.policy {
					mutated = append(mutated, p)
					continue
				}
				found = true
				if tc.mutate != nil {
					q := p.DeepCopy()
					tc.mutate(q)
					mutated = append(mutated, q)
				}
			}
			if !found {
				t.Fatalf("%s has no %s", tc.env, tc.policy)
			}
			r, err = CheckWith(spec, tc.env, nps, Options{ClusterPolicies: mutated})
			if err != nil {
				t.Fatal(err)
			}
			if r.Exact() {
				t.Fatalf("%s: verified exact", tc.name)
			}
		})
	}
}

// throughV1Alpha1 is cnps as a v1alpha1 tree holds them (policy.ToV1Alpha1
// of each, as the tree writer converts them) read back with eval's strict
// decoder.
func throughV1Alpha1(t *testing.T, cnps []*v1beta1.ClusterNetworkPolicy) []*v1beta1.ClusterNetworkPolicy {
	t.Helper()
	var docs []byte
	for _, p := range cnps {
		anps, banp, err := policy.ToV1Alpha1([]*v1beta1.ClusterNetworkPolicy{p})
		if err != nil {
			t.Fatal(err)
		}
		var obj any = banp
		if len(anps) == 1 {
			obj = anps[0]
		}
		b, err := sigsyaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(append(docs, b...), "\n---\n"...)
	}
	out, err := eval.ParseDocuments(docs).ClusterNetworkPolicies()
	if err != nil {
		t.Fatalf("reading the v1alpha1 objects back: %v\n%s", err, docs)
	}
	return out
}
