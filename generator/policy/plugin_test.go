package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netdep/netdep/schema"
)

func hostRule(s *schema.Service, host string, ports ...schema.Port) schema.Rule {
	return schema.Rule{Service: s, Direction: schema.Egress, Peer: schema.Peer{Kind: schema.PeerHost, Host: host}, Ports: ports, AnyPort: len(ports) == 0}
}

// TestCiliumHosts: one CiliumNetworkPolicy per service with host calls,
// names grouped by port set and sorted, a wildcard as matchPattern, the
// DNS rule naming every host of the policy (pods and addresses in rules of
// their own), additive both ways; no NetworkPolicy names a host; a
// namespace that does not isolate egress gets none.
func TestCiliumHosts(t *testing.T) {
	b := newSpec("prod")
	env := b.spec.Environments[0]
	env.Plugin = schema.PluginCilium
	env.DNS.Peers = append(env.DNS.Peers, schema.Peer{Kind: schema.PeerCIDR, CIDR: "169.254.20.10/32"},
		schema.Peer{Kind: schema.PeerCIDR, CIDR: "10.96.0.0/12", Except: []string{"10.96.0.1/32"}})
	pay := b.ns("payments", true, true, true)
	open := b.ns("web", true, true, false)
	payment := b.svc(pay, "payment", nil, tcp(8443))
	front := b.svc(open, "front", nil, tcp(80))
	b.rule(nil, hostRule(payment, "api.stripe.com", tcp(443)))
	b.rule(nil, hostRule(payment, "*.googleapis.com", tcp(443)))
	b.rule(nil, hostRule(payment, "any.example.net"))
	b.rule(nil, hostRule(front, "api.stripe.com", tcp(443)))
	set, err := Generate(b.spec)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	dnsPorts := []CiliumPortRule{{
		Ports: []CiliumPortProtocol{{Port: "53", Protocol: "UDP"}, {Port: "53", Protocol: "TCP"}},
		Rules: &CiliumL7Rules{DNS: []CiliumFQDNSelector{{MatchPattern: "*.googleapis.com"}, {MatchName: "any.example.net"}, {MatchName: "api.stripe.com"}}},
	}}
	want := []*CiliumNetworkPolicy{{
		TypeMeta: metav1.TypeMeta{APIVersion: "cilium.io/v2", Kind: "CiliumNetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "payment.hosts", Namespace: "payments",
			Labels:      map[string]string{ManagedByLabel: ManagedByValue},
			Annotations: map[string]string{SourceAnnotation: "payments.yaml", SyncWaveAnnotation: AllowWave}},
		Spec: CiliumRule{
			EndpointSelector:  CiliumSelector{MatchLabels: map[string]string{"app": "payment"}},
			EnableDefaultDeny: &CiliumDefaultDeny{Egress: &off, Ingress: &off},
			Egress: []CiliumEgressRule{
				{ToFQDNs: []CiliumFQDNSelector{{MatchName: "any.example.net"}}}, // any port: no toPorts, "*" sorts first
				{ToFQDNs: []CiliumFQDNSelector{{MatchPattern: "*.googleapis.com"}, {MatchName: "api.stripe.com"}},
					ToPorts: []CiliumPortRule{{Ports: []CiliumPortProtocol{{Port: "443", Protocol: "TCP"}}}}},
				{ToEndpoints: []CiliumSelector{{MatchLabels: map[string]string{"k8s-app": "kube-dns", CiliumNamespaceLabel: "kube-system"}}}, ToPorts: dnsPorts},
				{ToCIDR: []string{"169.254.20.10/32"}, ToCIDRSet: []CiliumCIDRRule{{CIDR: "10.96.0.0/12", Except: []string{"10.96.0.1/32"}}}, ToPorts: dnsPorts},
			},
		},
	}}
	if d := cmp.Diff(want, set.RenderCilium("prod")); d != "" {
		t.Errorf("CiliumNetworkPolicies (-want +got):\n%s", d)
	}
	for _, np := range set.Render("prod") {
		for _, r := range np.Spec.Egress {
			for _, p := range r.To {
				if p.IPBlock == nil && p.PodSelector == nil && p.NamespaceSelector == nil {
					t.Errorf("%s/%s: an empty peer (a host rule rendered as v1?)", np.Namespace, np.Name)
				}
			}
		}
	}
	if p := find(t, set.Render("prod"), "payments", "payment"); len(p.Spec.Egress) != 0 {
		t.Errorf("payments/payment egress %v, want none: its only calls are hosts", p.Spec.Egress)
	}
}

// TestCiliumAuditSameObjects: mode audit on cilium emits what enforce does
// (Cilium cannot stage; the agent's audit mode decides) and is not staged.
func TestCiliumAuditSameObjects(t *testing.T) {
	b := newSpec("dev", "prod")
	for _, e := range b.spec.Environments {
		e.Plugin = schema.PluginCilium
	}
	b.spec.Environments[0].Mode = schema.ModeAudit
	pay := b.ns("payments", true, true, true)
	payment := b.svc(pay, "payment", nil, tcp(8443))
	b.rule(nil, hostRule(payment, "api.stripe.com", tcp(443)))
	set, err := Generate(b.spec)
	if err != nil {
		t.Fatal(err)
	}
	if set.Staged("dev") || !set.PluginObjects("dev").Audit {
		t.Errorf("dev: staged %v, audit %v; want not staged, audit", set.Staged("dev"), set.PluginObjects("dev").Audit)
	}
	if d := cmp.Diff(set.RenderCilium("prod"), set.RenderCilium("dev")); d != "" || len(set.RenderCilium("dev")) != 1 {
		t.Errorf("dev (audit) and prod (enforce) differ or are empty (-prod +dev):\n%s", d)
	}
}

// TestCalicoLogDenied: netdep-log-denied in every managed isolated
// namespace, types and rules only for the isolated directions, after the
// Kubernetes policies; none without log: denied, none in an unmanaged or
// unisolated namespace; in audit mode the environment is staged and
// RenderStaged holds every NetworkPolicy and Calico policy, staged.
func TestCalicoLogDenied(t *testing.T) {
	b := newSpec("dev", "prod", "test")
	b.spec.ProjectFile = "netdep.yaml"
	for _, e := range b.spec.Environments {
		e.Plugin = schema.PluginCalico
	}
	b.spec.Environments[0].LogDenied = true
	b.spec.Environments[0].Mode = schema.ModeAudit
	b.spec.Environments[1].LogDenied = true
	both := b.ns("payments", true, true, true)
	in := b.ns("shop", true, true, false)
	b.ns("open", true, false, false)
	b.ns("ext", false, true, true)
	b.svc(both, "payment", nil, tcp(8443))
	b.svc(in, "checkout", nil, tcp(8080))
	set, err := Generate(b.spec)
	if err != nil {
		t.Fatal(err)
	}
	order := float64(LogDeniedOrder)
	logDeny := []CalicoRule{{Action: "Log"}, {Action: "Deny"}}
	mk := func(ns string, types []string, ingress, egress []CalicoRule) *CalicoNetworkPolicy {
		return &CalicoNetworkPolicy{
			TypeMeta: metav1.TypeMeta{APIVersion: "projectcalico.org/v3", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: "netdep-log-denied", Namespace: ns,
				Labels:      map[string]string{ManagedByLabel: ManagedByValue},
				Annotations: map[string]string{SourceAnnotation: "netdep.yaml", SyncWaveAnnotation: DenyWave}},
			Spec: CalicoPolicySpec{Order: &order, Selector: "all()", Types: types, Ingress: ingress, Egress: egress},
		}
	}
	want := []*CalicoNetworkPolicy{mk("payments", []string{"Ingress", "Egress"}, logDeny, logDeny), mk("shop", []string{"Ingress"}, logDeny, nil)}
	for _, env := range []string{"dev", "prod"} {
		if d := cmp.Diff(want, set.RenderCalico(env)); d != "" {
			t.Errorf("%s (-want +got):\n%s", env, d)
		}
	}
	if got := set.RenderCalico("test"); len(got) != 0 {
		t.Errorf("test has no log: denied but %d calico policies", len(got))
	}
	if !set.Staged("dev") || set.Staged("prod") || set.Staged("test") {
		t.Errorf("staged: dev %v prod %v test %v, want only dev", set.Staged("dev"), set.Staged("prod"), set.Staged("test"))
	}
	knps, cnps := set.RenderStaged("dev")
	if len(knps) != len(set.Render("dev")) || len(cnps) != 2 {
		t.Fatalf("RenderStaged(dev): %d staged kubernetes, %d staged calico; want %d and 2", len(knps), len(cnps), len(set.Render("dev")))
	}
	for i, np := range set.Render("dev") {
		k := knps[i]
		if k.Kind != "StagedKubernetesNetworkPolicy" || k.Name != np.Name || k.Namespace != np.Namespace ||
			!cmp.Equal(k.Spec, np.Spec) || !cmp.Equal(k.Annotations, np.Annotations) || !cmp.Equal(k.Labels, np.Labels) {
			t.Errorf("staged %s/%s is not the NetworkPolicy staged: %+v", np.Namespace, np.Name, k)
		}
	}
	if c := cnps[0]; c.Kind != "StagedNetworkPolicy" || c.Spec.StagedAction != "Set" || !cmp.Equal(c.Spec.CalicoPolicySpec, want[0].Spec) {
		t.Errorf("staged calico policy %+v", c)
	}
	if k, c := set.RenderStaged("prod"); k != nil || c != nil {
		t.Errorf("RenderStaged(prod) = %d, %d objects; prod is not staged", len(k), len(c))
	}
}

// TestHostRulesOffCilium: a host rule reaching Generate on another plugin
// (the loader refuses it) is an error, never an empty or widened peer.
func TestHostRulesOffCilium(t *testing.T) {
	for _, plugin := range []schema.Plugin{"", schema.PluginKubernetes, schema.PluginCalico} {
		b := newSpec("prod")
		b.spec.Environments[0].Plugin = plugin
		pay := b.ns("payments", true, true, true)
		payment := b.svc(pay, "payment", nil, tcp(8443))
		b.rule(nil, hostRule(payment, "api.stripe.com", tcp(443)))
		if _, err := Generate(b.spec); err == nil || !strings.Contains(err.Error(), "cannot allow egress by DNS name") {
			t.Errorf("plugin %q: Generate = %v, want the host refused", plugin, err)
		}
	}
	b := newSpec("prod")
	b.spec.Environments[0].Plugin = schema.PluginCilium
	b.spec.Environments[0].DNS = nil
	pay := b.ns("payments", true, true, true)
	payment := b.svc(pay, "payment", nil, tcp(8443))
	b.rule(nil, hostRule(payment, "api.stripe.com", schema.Port{Protocol: corev1.ProtocolTCP, Port: 443}))
	if _, err := Generate(b.spec); err == nil || !strings.Contains(err.Error(), "DNS proxy") {
		t.Errorf("cilium without DNS: Generate = %v, want the DNS proxy named", err)
	}
}
