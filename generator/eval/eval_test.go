package eval_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/netdep/netdep/generator/eval"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// policies parses "---"-separated NetworkPolicy specs written as users do,
// so that nil and empty fields read exactly as in a manifest.
func policies(t testing.TB, docs string) []*networkingv1.NetworkPolicy {
	t.Helper()
	var out []*networkingv1.NetworkPolicy
	for _, d := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(d) == "" {
			continue
		}
		p := &networkingv1.NetworkPolicy{}
		if err := yaml.UnmarshalStrict([]byte(d), p); err != nil {
			t.Fatalf("bad test policy: %v\n%s", err, d)
		}
		out = append(out, p)
	}
	return out
}

func port(name string, n int32, proto corev1.Protocol) corev1.ContainerPort {
	return corev1.ContainerPort{Name: name, ContainerPort: n, Protocol: proto}
}

// universe: namespaces shop (team=a), pay (team=b), ops (no labels); pods with
// labels and ports chosen so that every rule below can tell them apart.
func universe() eval.Universe {
	return eval.Universe{
		Namespaces: []eval.Namespace{
			{Name: "shop", Labels: map[string]string{"team": "a"}},
			{Name: "pay", Labels: map[string]string{"team": "b"}},
			{Name: "ops"},
		},
		Pods: []eval.Pod{
			{Namespace: "shop", Name: "a", Labels: map[string]string{"app": "a", "tier": "web"},
				Ports: []corev1.ContainerPort{port("http", 80, ""), port("dns", 53, corev1.ProtocolUDP)},
				IPs:   []netip.Addr{netip.MustParseAddr("10.0.0.5")}},
			{Namespace: "shop", Name: "b", Labels: map[string]string{"app": "b"},
				Ports: []corev1.ContainerPort{port("http", 8080, corev1.ProtocolTCP)}},
			{Namespace: "pay", Name: "a", Labels: map[string]string{"app": "a"},
				Ports: []corev1.ContainerPort{port("http", 80, "")}},
			{Namespace: "pay", Name: "c", Labels: map[string]string{"app": "c", "tier": "db"},
				Ports: []corev1.ContainerPort{port("http", 8080, ""), port("sctp", 5000, corev1.ProtocolSCTP)}},
			{Namespace: "ops", Name: "a", Labels: map[string]string{"app": "a"}},
		},
	}
}

type check struct {
	src, dst string // "ns/pod" or an address
	proto    corev1.Protocol
	port     int32
	want     bool
}

func endpoint(t testing.TB, e *eval.Evaluator, u eval.Universe, s string) (eval.Endpoint, refEndpoint) {
	t.Helper()
	if a, err := netip.ParseAddr(s); err == nil {
		return e.ExternalFor(a), refEndpoint{addr: a}
	}
	ns, name, _ := strings.Cut(s, "/")
	i, ok := e.PodIndex(ns, name)
	if !ok {
		t.Fatalf("no pod %s", s)
	}
	return eval.PodEndpoint(i), refEndpoint{pod: &u.Pods[i]}
}

// runChecks asks every check three ways: Explain, the whole matrix
// (Reachability) and the naive reference evaluator.
func runChecks(t *testing.T, u eval.Universe, ps []*networkingv1.NetworkPolicy, checks []check) {
	t.Helper()
	e, err := eval.New(u, ps)
	if err != nil {
		t.Fatal(err)
	}
	reach := e.Reachability()
	ref := newReference(u, ps)
	for _, c := range checks {
		proto := c.proto
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		src, rsrc := endpoint(t, e, u, c.src)
		dst, rdst := endpoint(t, e, u, c.dst)
		v := e.Explain(eval.Query{Src: src, Dst: dst, Protocol: proto, Port: c.port})
		if v.Allowed != c.want {
			t.Errorf("Explain %s -> %s %d/%s = %v, want %v\n%s", c.src, c.dst, c.port, proto, v.Allowed, c.want, v)
		}
		if got := reach.Ports(src, dst).Contains(proto, c.port); got != c.want {
			t.Errorf("Reachability %s -> %s %d/%s = %v, want %v (ports %s)", c.src, c.dst, c.port, proto, got, c.want, reach.Ports(src, dst))
		}
		if got := ref.allowed(rsrc, rdst, proto, c.port); got != c.want {
			t.Errorf("reference %s -> %s %d/%s = %v, want %v", c.src, c.dst, c.port, proto, got, c.want)
		}
	}
}

func TestSemantics(t *testing.T) {
	tests := []struct {
		name     string
		policies string
		checks   []check
	}{
		{
			name: "no policy: everything open",
			checks: []check{
				{"shop/a", "pay/a", "", 80, true},
				{"shop/a", "8.8.8.8", corev1.ProtocolUDP, 53, true},
				{"8.8.8.8", "ops/a", corev1.ProtocolSCTP, 1, true},
			},
		},
		{
			name: "default deny ingress: egress stays open",
			policies: `
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}}`,
			checks: []check{
				{"pay/a", "shop/a", "", 80, false},
				{"shop/b", "shop/a", "", 80, false},
				{"shop/a", "pay/a", "", 80, true},
				{"8.8.8.8", "shop/a", "", 80, false},
			},
		},
		{
			name: "ingress [] allows nothing",
			policies: `
metadata: {name: p, namespace: shop}
spec: {podSelector: {}, ingress: []}`,
			checks: []check{{"pay/a", "shop/a", "", 80, false}},
		},
		{
			name: "ingress [{}] allows everything",
			policies: `
metadata: {name: p, namespace: shop}
spec: {podSelector: {}, ingress: [{}]}`,
			checks: []check{
				{"pay/a", "shop/a", "", 80, true},
				{"8.8.8.8", "shop/a", corev1.ProtocolUDP, 9, true},
			},
		},
		{
			name: "policyTypes defaults to Ingress+Egress when egress rules exist: ingress is isolated too",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: a}}
  egress: [{to: [{podSelector: {matchLabels: {app: b}}}]}]`,
			checks: []check{
				{"shop/a", "shop/b", "", 8080, true},
				{"shop/a", "pay/a", "", 80, false},
				{"shop/b", "shop/a", "", 80, false}, // ingress isolated by defaulting
			},
		},
		{
			name: "policyTypes [Ingress] ignores egress rules",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Ingress]
  ingress: [{}]
  egress: [{to: [{podSelector: {matchLabels: {app: b}}}]}]`,
			checks: []check{{"shop/a", "pay/a", "", 80, true}},
		},
		{
			name: "policyTypes [Egress] with no rules denies all egress, ingress open",
			policies: `
metadata: {name: p, namespace: shop}
spec: {podSelector: {matchLabels: {app: a}}, policyTypes: [Egress]}`,
			checks: []check{
				{"shop/a", "shop/b", "", 8080, false},
				{"shop/a", "8.8.8.8", "", 443, false},
				{"shop/b", "shop/a", "", 80, true},
			},
		},
		{
			name: "protocol defaults to TCP",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress: [{ports: [{port: 80}]}]`,
			checks: []check{
				{"pay/a", "shop/a", corev1.ProtocolTCP, 80, true},
				{"pay/a", "shop/a", corev1.ProtocolUDP, 80, false},
				{"pay/a", "shop/a", corev1.ProtocolTCP, 81, false},
			},
		},
		{
			name: "a port without a number is every port of its protocol",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress: [{ports: [{protocol: UDP}]}]`,
			checks: []check{
				{"pay/a", "shop/a", corev1.ProtocolUDP, 53, true},
				{"pay/a", "shop/a", corev1.ProtocolUDP, 65535, true},
				{"pay/a", "shop/a", corev1.ProtocolTCP, 53, false},
			},
		},
		{
			name: "nil namespaceSelector is the policy's namespace",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}]}]`,
			checks: []check{
				{"shop/a", "shop/b", "", 8080, true},
				{"pay/a", "shop/b", "", 8080, false},
				{"ops/a", "shop/b", "", 8080, false},
			},
		},
		{
			name: "namespaceSelector {} is every namespace",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}]}]`,
			checks: []check{
				{"shop/a", "shop/b", "", 8080, true},
				{"pay/a", "shop/b", "", 8080, true},
				{"ops/a", "shop/b", "", 8080, true},
				{"pay/c", "shop/b", "", 8080, false},
				{"8.8.8.8", "shop/b", "", 8080, false},
			},
		},
		{
			name: "nil podSelector next to a namespaceSelector is every pod there",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: b}}}]}]`,
			checks: []check{
				{"pay/a", "shop/b", "", 8080, true},
				{"pay/c", "shop/b", "", 8080, true},
				{"shop/a", "shop/b", "", 8080, false},
				{"ops/a", "shop/b", "", 8080, false},
			},
		},
		{
			name: "podSelector {} without namespaceSelector is every pod of the policy's namespace",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{from: [{podSelector: {}}]}]`,
			checks: []check{
				{"shop/a", "shop/b", "", 8080, true},
				{"pay/a", "shop/b", "", 8080, false},
			},
		},
		{
			name: "both selectors in one peer: AND",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: pay}}
      podSelector: {matchLabels: {app: a}}`,
			checks: []check{
				{"pay/a", "shop/b", "", 8080, true},
				{"pay/c", "shop/b", "", 8080, false},
				{"ops/a", "shop/b", "", 8080, false},
				{"shop/a", "shop/b", "", 8080, false},
			},
		},
		{
			name: "two peers: OR",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: pay}}
    - podSelector: {matchLabels: {app: a}}`,
			checks: []check{
				{"pay/a", "shop/b", "", 8080, true},
				{"pay/c", "shop/b", "", 8080, true},
				{"shop/a", "shop/b", "", 8080, true},
				{"ops/a", "shop/b", "", 8080, false},
			},
		},
		{
			name: "matchExpressions: NotIn matches pods without the key",
			policies: `
metadata: {name: p, namespace: pay}
spec:
  podSelector: {matchLabels: {app: c}}
  ingress:
  - from:
    - namespaceSelector: {}
      podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [web]}]}`,
			checks: []check{
				{"shop/b", "pay/c", "", 8080, true},  // no tier label
				{"pay/c", "pay/c", "", 8080, true},   // tier=db
				{"shop/a", "pay/c", "", 8080, false}, // tier=web
			},
		},
		{
			name: "matchExpressions: In, Exists, DoesNotExist",
			policies: `
metadata: {name: p, namespace: pay}
spec:
  podSelector: {matchExpressions: [{key: tier, operator: Exists}]}
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [a, b]}]}
      podSelector: {matchExpressions: [{key: tier, operator: DoesNotExist}]}`,
			checks: []check{
				{"shop/b", "pay/c", "", 8080, true},
				{"pay/a", "pay/c", "", 8080, true},
				{"shop/a", "pay/c", "", 8080, false}, // has tier
				{"ops/a", "pay/c", "", 8080, false},  // namespace ops has no team
				{"ops/a", "pay/a", "", 80, true},     // pay/a has no tier: not selected
			},
		},
		{
			name: "named port resolves on each destination pod (ingress)",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {}
  ingress: [{ports: [{port: http}]}]`,
			checks: []check{
				{"pay/a", "shop/a", "", 80, true},
				{"pay/a", "shop/a", "", 8080, false},
				{"pay/a", "shop/b", "", 8080, true},
				{"pay/a", "shop/b", "", 80, false},
			},
		},
		{
			name: "named port resolves on the destination pod for egress, never on an address",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Egress]
  egress: [{ports: [{port: http}]}]`,
			checks: []check{
				{"shop/b", "pay/a", "", 80, true},
				{"shop/b", "pay/a", "", 8080, false},
				{"shop/b", "pay/c", "", 8080, true},
				{"shop/b", "8.8.8.8", "", 80, false},
				{"shop/b", "8.8.8.8", "", 8080, false},
			},
		},
		{
			name: "named port matches name and protocol",
			policies: `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress: [{ports: [{port: dns, protocol: UDP}, {port: http, protocol: UDP}]}]`,
			checks: []check{
				{"pay/a", "shop/a", corev1.ProtocolUDP, 53, true},
				{"pay/a", "shop/a", corev1.ProtocolTCP, 53, false},
				{"pay/a", "shop/a", corev1.ProtocolUDP, 80, false}, // http is TCP
				{"pay/a", "shop/a", corev1.ProtocolTCP, 80, false},
			},
		},
		{
			name: "endPort range is inclusive",
			policies: `
metadata: {name: p, namespace: ops}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 8000, endPort: 8100}]}]`,
			checks: []check{
				{"shop/a", "ops/a", "", 7999, false},
				{"shop/a", "ops/a", "", 8000, true},
				{"shop/a", "ops/a", "", 8100, true},
				{"shop/a", "ops/a", "", 8101, false},
			},
		},
		{
			name: "ipBlock except",
			policies: `
metadata: {name: p, namespace: ops}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}]`,
			checks: []check{
				{"ops/a", "10.2.3.4", "", 443, true},
				{"ops/a", "10.1.2.3", "", 443, false},
				{"ops/a", "8.8.8.8", "", 443, false},
				{"ops/a", "shop/a", "", 80, true},    // shop/a has IP 10.0.0.5
				{"ops/a", "shop/b", "", 8080, false}, // no IP: never matched by an ipBlock
			},
		},
		{
			name: "ipBlock matches pod IPs on ingress; IPv6 block never matches IPv4",
			policies: `
metadata: {name: p, namespace: pay}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/24}}, {ipBlock: {cidr: "::/0"}}]}]`,
			checks: []check{
				{"shop/a", "pay/a", "", 80, true},
				{"shop/b", "pay/a", "", 80, false},
				{"10.0.0.200", "pay/a", "", 80, true},
				{"10.0.1.1", "pay/a", "", 80, false},
				{"2001:db8::1", "pay/a", "", 80, true},
			},
		},
		{
			name: "a rule with ports and no from admits every peer, addresses included",
			policies: `
metadata: {name: p, namespace: pay}
spec:
  podSelector: {matchLabels: {app: c}}
  ingress: [{ports: [{port: 5000, protocol: SCTP}]}]`,
			checks: []check{
				{"8.8.8.8", "pay/c", corev1.ProtocolSCTP, 5000, true},
				{"shop/b", "pay/c", corev1.ProtocolSCTP, 5000, true},
				{"shop/b", "pay/c", corev1.ProtocolTCP, 5000, false},
			},
		},
		{
			name: "egress at the source and ingress at the destination are both required",
			policies: `
metadata: {name: egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress: [{ports: [{port: 80}, {port: 8080}]}]
---
metadata: {name: ingress, namespace: pay}
spec:
  podSelector: {matchLabels: {app: c}}
  ingress: [{ports: [{port: 8080}, {port: 9090}], from: [{namespaceSelector: {}}]}]`,
			checks: []check{
				{"shop/a", "pay/c", "", 8080, true},
				{"shop/a", "pay/c", "", 9090, false}, // egress denies
				{"shop/a", "pay/c", "", 80, false},   // ingress denies
				{"shop/b", "pay/c", "", 9090, true},  // shop/b egress open
				{"8.8.8.8", "pay/c", "", 8080, false},
			},
		},
		{
			name: "policies are a union",
			policies: `
metadata: {name: one, namespace: shop}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress: [{ports: [{port: 80}], from: [{podSelector: {matchLabels: {app: b}}}]}]
---
metadata: {name: two, namespace: shop}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 53, protocol: UDP}], from: [{namespaceSelector: {}}]}]`,
			checks: []check{
				{"shop/b", "shop/a", "", 80, true},
				{"pay/a", "shop/a", "", 80, false},
				{"pay/a", "shop/a", corev1.ProtocolUDP, 53, true},
				{"shop/b", "shop/a", corev1.ProtocolUDP, 53, true},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runChecks(t, universe(), policies(t, tc.policies), tc.checks)
		})
	}
}

func TestExplainNamesRules(t *testing.T) {
	u := universe()
	ps := policies(t, `
metadata: {name: deny, namespace: pay}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
metadata: {name: c, namespace: pay}
spec:
  podSelector: {matchLabels: {app: c}}
  ingress:
  - ports: [{port: 9090}]
  - from: [{namespaceSelector: {}}]
    ports: [{port: http}]
  - from: [{namespaceSelector: {matchLabels: {team: a}}}]`)
	e, err := eval.New(u, ps)
	if err != nil {
		t.Fatal(err)
	}
	xa, _ := e.PodIndex("shop", "a")
	yc, _ := e.PodIndex("pay", "c")
	ya, _ := e.PodIndex("pay", "a")
	got := e.Explain(eval.Query{Src: eval.PodEndpoint(xa), Dst: eval.PodEndpoint(yc), Port: 8080})
	want := eval.Verdict{
		Allowed: true,
		Egress:  eval.Direction{Allowed: true},
		Ingress: eval.Direction{
			Allowed:   true,
			Isolating: []eval.PolicyRef{{Namespace: "pay", Name: "deny"}, {Namespace: "pay", Name: "c"}},
			Allowing:  []eval.RuleRef{{PolicyRef: eval.PolicyRef{Namespace: "pay", Name: "c"}, Rule: 1}, {PolicyRef: eval.PolicyRef{Namespace: "pay", Name: "c"}, Rule: 2}},
			// c selects one pod, deny the whole namespace.
			Closest: eval.PolicyRef{Namespace: "pay", Name: "c"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Explain (-want +got):\n%s", diff)
	}
	got = e.Explain(eval.Query{Src: eval.PodEndpoint(yc), Dst: eval.PodEndpoint(ya), Port: 80})
	want = eval.Verdict{
		Egress:  eval.Direction{Isolating: []eval.PolicyRef{{Namespace: "pay", Name: "deny"}}, Closest: eval.PolicyRef{Namespace: "pay", Name: "deny"}},
		Ingress: eval.Direction{Isolating: []eval.PolicyRef{{Namespace: "pay", Name: "deny"}}, Closest: eval.PolicyRef{Namespace: "pay", Name: "deny"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Explain (-want +got):\n%s", diff)
	}
	if s := got.String(); !strings.Contains(s, "isolated by pay/deny; no rule matches") {
		t.Errorf("String() = %q", s)
	}
}
