package e2e

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// The guardrails fixture is what it claims: its ClusterNetworkPolicies
// become four AdminNetworkPolicies and the BaselineAdminNetworkPolicy; the
// declared graph and netdep's evaluator over the v1beta1 objects agree on
// every flow the run probes (so on real packets a difference is the
// agent's, or the conversion's); and the NetworkPolicies alone would decide
// the guarded flows the other way, so an agent that ignored a tier, or a
// conversion that turned a Deny into an Allow, fails it.
func TestGuardrailsFixture(t *testing.T) {
	sc, err := LoadFixture("testdata/scenarios/guardrails")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sc.APIs(), []API{AdminNetworkPolicy, BaselineAdminNetworkPolicy}; !slices.Equal(got, want) {
		t.Errorf("APIs = %v, want %v", got, want)
	}
	var kinds []string
	for _, o := range sc.Objects {
		kinds = append(kinds, o.GetKind()+"/"+o.GetName())
	}
	if want := []string{"AdminNetworkPolicy/metadata-deny", "AdminNetworkPolicy/vault-isolation", "AdminNetworkPolicy/dns",
		"AdminNetworkPolicy/monitoring-scrape", "BaselineAdminNetworkPolicy/default"}; !slices.Equal(kinds, want) {
		t.Errorf("objects = %v, want %v", kinds, want)
	}
	if len(sc.Oracles) != 2 {
		t.Fatalf("oracles: want the declared graph and the evaluator, got %d", len(sc.Oracles))
	}
	graph, ev := sc.Oracles[0], sc.Oracles[1]
	u := sc.Universe
	if u.Endpoint("external/metadata") == nil {
		t.Fatal("no host on the metadata address")
	}
	flows := Flows(u)
	differ := 0
	for _, f := range flows {
		if g, e := graph.Allowed(f), ev.Allowed(f); g != e {
			differ++
			if differ <= 10 {
				t.Errorf("%s -> %s %s: declared graph %v, evaluator %v", f.From.ID(), f.To.ID(), f.Probe, g, e)
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d flows: the oracles disagree", differ, len(flows))
	}

	npOnly, err := NewEvalOracle(u, nil, sc.Policies)
	if err != nil {
		t.Fatal(err)
	}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	tests := []struct {
		name, from, to string
		port           int32
		proto          corev1.Protocol
		graph, npOnly  bool
	}{
		{"Admin Deny metadata over a NetworkPolicy allow, TCP", "shop/frontend", "external/metadata", 80, tcp, false, true},
		{"Admin Deny metadata over a NetworkPolicy allow, UDP", "shop/frontend", "external/metadata", 123, udp, false, true},
		{"Admin Deny metadata, Baseline pod", "shop/unlabelled", "external/metadata", 80, tcp, false, true},
		{"the NetworkPolicy allow stands elsewhere", "shop/frontend", "external/internet", 443, tcp, true, true},
		{"Admin Deny isolation over a NetworkPolicy allow", "shop/frontend", "vault/secrets", 8200, tcp, false, true},
		{"Admin Deny isolation before an Admin Accept", "monitoring/prometheus", "vault/secrets", 9090, tcp, false, false},
		{"Admin Accept scrape over NetworkPolicy isolation", "monitoring/prometheus", "shop/cart", 9090, tcp, true, false},
		{"Admin Accept scrape, Baseline pod", "monitoring/prometheus", "shop/unlabelled", 9090, tcp, true, true},
		{"Admin Accept DNS over NetworkPolicy isolation", "shop/frontend", "kube-system/coredns", 53, udp, true, false},
		{"Admin Accept DNS, TCP", "vault/secrets", "kube-system/coredns", 53, tcp, true, false},
		{"Baseline Deny egress", "shop/unlabelled", "monitoring/prometheus", 9091, tcp, false, true},
		{"Baseline Deny ingress", "monitoring/prometheus", "vault/unlabelled", 9091, tcp, false, true},
		{"Baseline has no ingress peer for outside addresses", "external/internet", "shop/unlabelled", 4999, tcp, true, true},
		{"NetworkPolicy decides for the pods it selects", "shop/frontend", "shop/cart", 7070, tcp, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Flow{From: u.Endpoint(tt.from), To: u.Endpoint(tt.to), Probe: Probe{tt.port, tt.proto}}
			if f.From == nil || f.To == nil {
				t.Fatalf("unknown endpoint %s or %s", tt.from, tt.to)
			}
			if !slices.ContainsFunc(flows, func(g Flow) bool { return g.From == f.From && g.To == f.To && g.Probe == f.Probe }) {
				t.Errorf("the run does not probe %s -> %s %s", tt.from, tt.to, f.Probe)
			}
			if got := graph.Allowed(f); got != tt.graph {
				t.Errorf("declared graph: %v, want %v", got, tt.graph)
			}
			if got := ev.Allowed(f); got != tt.graph {
				t.Errorf("evaluator with ClusterNetworkPolicies: %v, want %v", got, tt.graph)
			}
			if got := npOnly.Allowed(f); got != tt.npOnly {
				t.Errorf("NetworkPolicy alone (evaluator): %v, want %v", got, tt.npOnly)
			}
		})
	}
}

// ClusterNetworkPolicies that policy.ToV1Alpha1 refuses (two Baseline
// policies with different subjects: the one BaselineAdminNetworkPolicy has
// one subject) leave the scenario loaded, its oracles built, and marked
// unenforceable with the converter's reason, with no objects for an agent.
func TestRefusedConversionIsUnenforceable(t *testing.T) {
	sc, err := LoadFixture("testdata/scenarios/shop")
	if err != nil {
		t.Fatal(err)
	}
	baseline := func(name, ns string) *v1beta1.ClusterNetworkPolicy {
		return &v1beta1.ClusterNetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1beta1.ClusterNetworkPolicySpec{Tier: v1beta1.BaselineTier, Priority: 1000,
				Subject: v1beta1.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}},
				Ingress: []v1beta1.ClusterNetworkPolicyIngressRule{{Name: "deny", Action: v1beta1.ClusterNetworkPolicyRuleActionDeny,
					From: []v1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}}}}},
		}
	}
	oracles := len(sc.Oracles)
	if err := sc.withClusterPolicies([]*v1beta1.ClusterNetworkPolicy{baseline("a", "shop"), baseline("b", "payments")}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sc.Unenforceable, "spec.subject: differs") {
		t.Errorf("Unenforceable = %q, want the converter's subject refusal", sc.Unenforceable)
	}
	if len(sc.Objects) != 0 || len(sc.APIs()) != 0 {
		t.Errorf("objects %d, APIs %v: want none for an agent", len(sc.Objects), sc.APIs())
	}
	if len(sc.Oracles) != oracles+1 {
		t.Errorf("oracles %d, want %d (the evaluator over the v1beta1 objects added)", len(sc.Oracles), oracles+1)
	}
}

// examples/guardrails runs in both cluster APIs: prod's tree holds the
// v1alpha1 objects, given to the agent as written (the BaselineAdmin-
// NetworkPolicy "default" among them); staging's ClusterNetworkPolicies
// are converted at load time. In both the evaluator reads what the tree
// holds, a host sits on the metadata address, and shop/cart -> it on 80 is
// denied although shop/cart's NetworkPolicy allows it (the overridden
// edge).
func TestExampleGuardrailsScenarios(t *testing.T) {
	scs, err := ExampleScenarios("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]*Scenario{}
	for _, sc := range scs {
		by[sc.Name] = sc
	}
	for _, tt := range []struct {
		name, note string
		kinds      []string
	}{
		{"example-guardrails-prod", "v1alpha1 objects enforced as written", []string{"AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}},
		{"example-guardrails-staging", "enforced as 5 v1alpha1 objects (policy.ToV1Alpha1)", []string{"AdminNetworkPolicy"}},
	} {
		sc := by[tt.name]
		if sc == nil {
			t.Fatalf("no scenario %s", tt.name)
		}
		if sc.Unenforceable != "" {
			t.Errorf("%s: unenforceable: %s", tt.name, sc.Unenforceable)
		}
		if !slices.ContainsFunc(sc.Notes, func(n string) bool { return strings.Contains(n, tt.note) }) {
			t.Errorf("%s: notes %q lack %q", tt.name, sc.Notes, tt.note)
		}
		var kinds []string
		for _, o := range sc.Objects {
			kinds = append(kinds, o.GetKind())
			if o.GetKind() == "BaselineAdminNetworkPolicy" && o.GetName() != "default" {
				t.Errorf("%s: baseline named %q", tt.name, o.GetName())
			}
		}
		slices.Sort(kinds)
		if got := slices.Compact(kinds); !slices.Equal(got, tt.kinds) {
			t.Errorf("%s: objects of kinds %v, want %v", tt.name, got, tt.kinds)
		}
		var meta *Endpoint
		for _, x := range sc.Universe.External {
			if x.IP.String() == "169.254.169.254" {
				meta = x
			}
		}
		cart := sc.Universe.Endpoint("shop/cart")
		if meta == nil || cart == nil {
			t.Fatalf("%s: no host on the metadata address, or no shop/cart", tt.name)
		}
		ev := sc.Oracles[len(sc.Oracles)-1]
		f := Flow{From: cart, To: meta, Probe: Probe{80, corev1.ProtocolTCP}}
		if ev.Allowed(f) {
			t.Errorf("%s: the evaluator allows shop/cart -> the metadata address on 80", tt.name)
		}
		npOnly, err := NewEvalOracle(sc.Universe, nil, sc.Policies)
		if err != nil {
			t.Fatal(err)
		}
		if !npOnly.Allowed(f) {
			t.Errorf("%s: NetworkPolicy alone denies shop/cart -> the metadata address on 80: the Admin Deny would not be what is probed", tt.name)
		}
	}
}
