package eval_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netdep/netdep/generator/eval"
	corev1 "k8s.io/api/core/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

func clusterDocs(t *testing.T, docs string) *eval.Evaluator {
	t.Helper()
	ds := eval.ParseDocuments([]byte(docs))
	nps, err := ds.Policies()
	if err != nil {
		t.Fatal(err)
	}
	cnps, err := ds.ClusterNetworkPolicies()
	if err != nil {
		t.Fatal(err)
	}
	e, err := eval.NewWithClusterPolicies(universe(), nps, cnps)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func podEP(t *testing.T, e *eval.Evaluator, id string) eval.Endpoint {
	t.Helper()
	ns, name, _ := strings.Cut(id, "/")
	i, ok := e.PodIndex(ns, name)
	if !ok {
		t.Fatalf("no pod %s", id)
	}
	return eval.PodEndpoint(i)
}

const guardrails = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-in, namespace: pay}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: [{}]
---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: metadata-deny}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {}}
  egress:
  - name: no-metadata
    action: Deny
    to: [{networks: [169.254.169.254/32]}]
---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: isolate-pay}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {team: b}}}
  ingress:
  - name: dns-from-shop
    action: Accept
    from: [{namespaces: {matchLabels: {team: a}}}]
    protocols: [{destinationNamedPort: http}]
  - action: Pass
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}}]
  - name: no-shop
    action: Deny
    from: [{namespaces: {matchLabels: {team: a}}}]
---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: baseline}
spec:
  tier: Baseline
  priority: 0
  subject: {namespaces: {}}
  ingress:
  - name: default-deny
    action: Deny
    from: [{namespaces: {}}]
`

func TestClusterExplain(t *testing.T) {
	e := clusterDocs(t, guardrails)
	for _, c := range []struct {
		src, dst string
		proto    corev1.Protocol
		port     int32
		want     string
	}{
		// Admin Accept on the destination's named port (pay/a: http 80).
		{"shop/b", "pay/a", "", 80, "allowed\n  egress: not isolated\n  ingress: allowed by ClusterNetworkPolicy isolate-pay rule dns-from-shop, tier Admin"},
		// Admin Deny beats the NetworkPolicy that allows everything.
		{"shop/b", "pay/a", "", 8080, "denied\n  egress: not isolated\n  ingress: denied by ClusterNetworkPolicy isolate-pay rule no-shop, tier Admin"},
		// Pass defers to the NetworkPolicy, which allows.
		{"shop/a", "pay/c", "", 443, "allowed\n  egress: not isolated\n  ingress: allowed by pay/allow-all-in[0] (passed on by ClusterNetworkPolicy isolate-pay rule ingress[1], tier Admin)"},
		// The Baseline deny applies where no NetworkPolicy isolates...
		{"pay/a", "shop/a", "", 80, "denied\n  egress: not isolated\n  ingress: denied by ClusterNetworkPolicy baseline rule default-deny, tier Baseline"},
		// ...and not where one does.
		{"pay/c", "pay/a", "", 80, "allowed\n  egress: not isolated\n  ingress: allowed by pay/allow-all-in[0]"},
	} {
		v := e.Explain(eval.Query{Src: podEP(t, e, c.src), Dst: podEP(t, e, c.dst), Protocol: c.proto, Port: c.port})
		if v.String() != c.want {
			t.Errorf("%s -> %s %d:\n%s\nwant\n%s", c.src, c.dst, c.port, v, c.want)
		}
	}
	// Networks: the metadata address is denied to every pod, other
	// addresses are not.
	md := e.ExternalFor(netip.MustParseAddr("169.254.169.254"))
	v := e.Explain(eval.Query{Src: podEP(t, e, "ops/a"), Dst: md, Port: 80})
	if v.Allowed || v.Egress.Cluster == nil || v.Egress.Cluster.Policy != "metadata-deny" || !v.Egress.Cluster.Egress || v.Egress.Cluster.Action != v1beta1.ClusterNetworkPolicyRuleActionDeny {
		t.Errorf("metadata: %+v", v)
	}
	reach := e.Reachability()
	if ps := reach.Ports(podEP(t, e, "ops/a"), md); !ps.IsEmpty() {
		t.Errorf("metadata reachable on %s", ps)
	}
	other := e.ExternalFor(netip.MustParseAddr("169.254.169.253"))
	if ps := reach.Ports(podEP(t, e, "ops/a"), other); !ps.IsAll() {
		t.Errorf("169.254.169.253 reachable on %s, want all", ps)
	}
	// Reachability agrees with Explain on the named port rule: shop/b
	// reaches pay/a (http=80) on 80/TCP only.
	if got := reach.Ports(podEP(t, e, "shop/b"), podEP(t, e, "pay/a")).String(); got != "80/TCP" {
		t.Errorf("shop/b -> pay/a: %s, want 80/TCP", got)
	}
	// Sides follow the tiers: pay/a's ingress admits shop/b on 80/TCP only.
	for _, a := range e.IngressSide(podEP(t, e, "pay/a").Index) {
		if a.Peer == podEP(t, e, "shop/b") && a.Ports.String() != "80/TCP" {
			t.Errorf("IngressSide(pay/a) admits shop/b on %s", a.Ports)
		}
	}
	if s := e.IngressSide(podEP(t, e, "ops/a").Index); s == nil {
		t.Errorf("IngressSide(ops/a) is nil; the Baseline tier selects it")
	}
}

func TestClusterRefusesWhatItDoesNotEvaluate(t *testing.T) {
	ds := eval.ParseDocuments([]byte(`
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: egress-extras}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  egress:
  - action: Accept
    to: [{domainNames: ["*.example.com"]}]
  - action: Deny
    to: [{nodes: {}}]
`))
	cnps, err := ds.ClusterNetworkPolicies()
	if err != nil {
		t.Fatalf("valid objects must decode: %v", err)
	}
	_, err = eval.NewWithClusterPolicies(universe(), nil, cnps)
	for _, want := range []string{
		"clusternetworkpolicy egress-extras: spec.egress[0].to[0].domainNames: Forbidden: domainNames peers are not evaluated",
		"clusternetworkpolicy egress-extras: spec.egress[1].to[0].nodes: Forbidden: nodes peers are not evaluated",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

func TestDecodeClusterNetworkPolicies(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: x}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress:
  - action: Allow
    from: [{namespaces: {}}]
`, `9:13: document 1: spec.ingress[0].action: clusternetworkpolicy x: unsupported value: "Allow": supported values: "Accept", "Deny", "Pass"`},
		{`apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: x}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  egress:
  - action: Deny
    to: [{networks: [10.0.0.1/8]}]
    protocols: [{tcp: {destinationPort: {range: {start: 90, end: 80}}}}]
`, "11:49: document 1: spec.egress[0].protocols[0].tcp.destinationPort.range: clusternetworkpolicy x: invalid value: \"\": Start port must be less than End port\n" +
			"10:22: document 1: spec.egress[0].to[0].networks[0]: clusternetworkpolicy x: invalid value: \"10.0.0.1/8\": Invalid CIDR format provided"},
		{`apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: x}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}, pods: {podSelector: {}}}
  ingres: []
`, "8:3: document 1: spec: unknown field \"ingres\""},
		{`apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: x}
`, `1:1: document 1: apiVersion: unsupported apiVersion "policy.networking.k8s.io/v1alpha2" for ClusterNetworkPolicy (want policy.networking.k8s.io/v1beta1)`},
	} {
		_, err := eval.ParseDocuments([]byte(c.doc)).ClusterNetworkPolicies()
		if err == nil || err.Error() != c.want {
			t.Errorf("got  %v\nwant %s", err, c.want)
		}
	}
	// Policies() is not disturbed by ClusterNetworkPolicies, and the other
	// way round; a List is expanded.
	ds := eval.ParseDocuments([]byte(`apiVersion: v1
kind: List
items:
- apiVersion: policy.networking.k8s.io/v1beta1
  kind: ClusterNetworkPolicy
  metadata: {name: x}
  spec: {tier: Baseline, priority: 3, subject: {namespaces: {}}}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: y, namespace: shop}
  spec: {podSelector: {}}
`))
	nps, err1 := ds.Policies()
	cnps, err2 := ds.ClusterNetworkPolicies()
	if err1 != nil || err2 != nil || len(nps) != 1 || len(cnps) != 1 || cnps[0].Spec.Priority != 3 || cnps[0].Spec.Tier != v1beta1.BaselineTier {
		t.Errorf("List: %v %v %v %v", nps, cnps, err1, err2)
	}
}

// TestClusterDenyTier: the guardrails' Baseline deny-all isolates the
// ingress of pods no NetworkPolicy isolates (ops/a, shop/*), not pay/*
// (allow-all-in isolates them; the Baseline tier is not asked) and no
// egress (no catch-all there: the metadata deny names one address). An
// Admin catch-all Deny isolates whatever the NetworkPolicies say; a
// catch-all Accept before it leaves the pod open.
func TestClusterDenyTier(t *testing.T) {
	e := clusterDocs(t, guardrails)
	for _, c := range []struct {
		pod    string
		egress bool
		want   v1beta1.Tier
	}{
		{"ops/a", false, v1beta1.BaselineTier},
		{"shop/a", false, v1beta1.BaselineTier},
		{"pay/a", false, ""},
		{"ops/a", true, ""},
	} {
		if got := e.DenyTier(podEP(t, e, c.pod).Index, c.egress); got != c.want {
			t.Errorf("DenyTier(%s, egress %v) = %q, want %q", c.pod, c.egress, got, c.want)
		}
	}
	admin := guardrails + `---
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: lockdown}
spec:
  tier: Admin
  priority: 50
  subject: {namespaces: {matchLabels: {team: b}}}
  egress:
  - {name: open-shop, action: Accept, to: [{namespaces: {matchLabels: {team: a}}}]}
  - {name: all, action: Deny, to: [{namespaces: {}}, {networks: [0.0.0.0/0, "::/0"]}]}
  ingress:
  - {name: all, action: Accept, from: [{namespaces: {}}]}
`
	e = clusterDocs(t, admin)
	if got := e.DenyTier(podEP(t, e, "pay/a").Index, true); got != v1beta1.AdminTier {
		t.Errorf("pay/a egress: %q, want Admin (an Accept of some peers is an exception)", got)
	}
	if got := e.DenyTier(podEP(t, e, "pay/a").Index, false); got != "" {
		t.Errorf("pay/a ingress: %q, want none (a catch-all Accept comes first)", got)
	}
	if got := e.DenyTier(podEP(t, e, "shop/a").Index, true); got != "" {
		t.Errorf("shop/a egress: %q, want none (not a subject)", got)
	}
}
