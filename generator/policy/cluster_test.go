package policy

import (
	"slices"
	"testing"

	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/schema"
)

func cnpNames(ps []*v1beta1.ClusterNetworkPolicy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func npNames(set *Set, env string) []string {
	var out []string
	for _, p := range set.Render(env) {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}

// TestBaselineDenyRespectsIsolate: the Baseline deny of each direction
// selects exactly the managed namespaces isolated that way (an
// ingress-only namespace keeps its egress), and replaces the default-deny
// NetworkPolicies only where the environment says baseline.
func TestBaselineDenyRespectsIsolate(t *testing.T) {
	b := newSpec("dev", "prod", "qa")
	both := b.ns("both", true, true, true)
	b.svc(both, "api", nil)
	in := b.ns("ingress-only", true, true, false)
	b.svc(in, "web", nil)
	b.ns("outside", false, false, false)
	deny := map[string]schema.DefaultDeny{"dev": schema.DenyNetworkPolicy, "prod": schema.DenyBaseline, "qa": schema.DenyBoth}
	for _, e := range b.spec.Environments {
		e.Guardrails = &schema.Guardrails{DefaultDeny: deny[e.Name]}
	}
	set, err := Generate(b.spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.ClusterBase) != 0 {
		t.Errorf("base cluster policies %v, expected none (dev has none)", cnpNames(set.ClusterBase))
	}
	for _, env := range []string{"prod", "qa"} {
		got := set.RenderCluster(env)
		if want := []string{BaselineDenyEgressName, BaselineDenyIngressName}; !slices.Equal(cnpNames(got), want) {
			t.Fatalf("%s: cluster policies %v, expected %v", env, cnpNames(got), want)
		}
		if v := got[0].Spec.Subject.Namespaces.MatchLabels[NamespaceLabel]; v != "both" || got[0].Spec.Tier != v1beta1.BaselineTier {
			t.Errorf("%s: egress deny selects %+v in tier %s, expected namespace both in Baseline", env, got[0].Spec.Subject.Namespaces, got[0].Spec.Tier)
		}
		if vs := got[1].Spec.Subject.Namespaces.MatchExpressions[0].Values; !slices.Equal(vs, []string{"both", "ingress-only"}) {
			t.Errorf("%s: ingress deny selects %v", env, vs)
		}
		if got[0].Annotations[SyncWaveAnnotation] != DenyWave {
			t.Errorf("%s: baseline deny in wave %q, expected default-deny's", env, got[0].Annotations[SyncWaveAnnotation])
		}
	}
	for env, want := range map[string]bool{"dev": true, "prod": false, "qa": true} {
		if has := slices.Contains(npNames(set, env), "both/default-deny"); has != want {
			t.Errorf("%s: default-deny NetworkPolicy present %v, expected %v", env, has, want)
		}
	}
}

// TestGuardrailPolicies: an Admin guardrail becomes one policy with one
// rule named after it, Accepts in the allows' wave, Denies in
// default-deny's; identical in every environment, it goes to the base.
func TestGuardrailPolicies(t *testing.T) {
	b := newSpec("dev", "prod")
	b.ns("shop", true, true, true)
	metadata := &schema.Guardrail{Name: "deny-metadata", Kind: schema.GuardrailDenyCIDRs, Deny: true, Priority: 700,
		SubjectNamespaces: []string{"shop"}, Egress: true, Peers: []schema.Peer{{Kind: schema.PeerCIDR, CIDR: "169.254.169.254/32"}}, AnyPort: true}
	dns := &schema.Guardrail{Name: "allow-dns", Kind: schema.GuardrailDNS, Priority: 10, SubjectNamespaces: []string{"shop"}, Egress: true,
		Peers: defaultDNS().Peers, Ports: defaultDNS().Ports}
	b.spec.Environments[0].Guardrails = &schema.Guardrails{DefaultDeny: schema.DenyNetworkPolicy, Admin: []*schema.Guardrail{dns, metadata}}
	b.spec.Environments[1].Guardrails = &schema.Guardrails{DefaultDeny: schema.DenyNetworkPolicy, Admin: []*schema.Guardrail{metadata}}
	set, err := Generate(b.spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := cnpNames(set.ClusterBase); !slices.Equal(got, []string{"netdep-deny-metadata"}) {
		t.Fatalf("base %v, expected the metadata deny only", got)
	}
	if got := cnpNames(set.ClusterOverlay("dev")); !slices.Equal(got, []string{"netdep-allow-dns"}) {
		t.Fatalf("dev overlay %v, expected the dns accept", got)
	}
	m := set.ClusterBase[0]
	r := m.Spec.Egress[0]
	if m.Spec.Tier != v1beta1.AdminTier || m.Spec.Priority != 700 || r.Name != "deny-metadata" || r.Action != v1beta1.ClusterNetworkPolicyRuleActionDeny ||
		len(r.To) != 1 || !slices.Equal(r.To[0].Networks, []v1beta1.CIDR{"169.254.169.254/32"}) || r.Protocols != nil || m.Annotations[SyncWaveAnnotation] != DenyWave {
		t.Errorf("metadata deny rendered as %+v", m)
	}
	d := set.ClusterOverlay("dev")[0]
	if d.Annotations[SyncWaveAnnotation] != AllowWave || len(d.Spec.Egress[0].Protocols) != 2 || d.Spec.Egress[0].To[0].Pods == nil {
		t.Errorf("dns accept rendered as %+v", d)
	}
}
