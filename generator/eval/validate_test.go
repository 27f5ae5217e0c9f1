package eval_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/netdep/netdep/generator/eval"
	networkingv1 "k8s.io/api/networking/v1"
)

func TestDefault(t *testing.T) {
	tests := []struct {
		name      string
		policy    string
		wantTypes []networkingv1.PolicyType
	}{
		{"no rules: Ingress", `spec: {podSelector: {}}`, []networkingv1.PolicyType{"Ingress"}},
		{"ingress rules only: Ingress", `spec: {podSelector: {}, ingress: [{}]}`, []networkingv1.PolicyType{"Ingress"}},
		{"egress rules: Ingress and Egress", `spec: {podSelector: {}, egress: [{}]}`, []networkingv1.PolicyType{"Ingress", "Egress"}},
		{"egress: [] is no egress rule: Ingress", `spec: {podSelector: {}, egress: []}`, []networkingv1.PolicyType{"Ingress"}},
		{"explicit types kept", `spec: {podSelector: {}, policyTypes: [Egress], ingress: [{}]}`, []networkingv1.PolicyType{"Egress"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := policies(t, "metadata: {name: p}\n"+tc.policy)[0]
			orig := p.DeepCopy()
			d := eval.Default(p)
			if diff := cmp.Diff(tc.wantTypes, d.Spec.PolicyTypes); diff != "" {
				t.Errorf("policyTypes (-want +got):\n%s", diff)
			}
			if d.Namespace != "default" {
				t.Errorf("namespace %q, want default", d.Namespace)
			}
			if diff := cmp.Diff(orig, p); diff != "" {
				t.Errorf("Default changed its argument:\n%s", diff)
			}
		})
	}
	p := eval.Default(policies(t, `
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 80}, {port: 53, protocol: UDP}]}]
  egress: [{ports: [{}]}]`)[0])
	var got []string
	for _, r := range p.Spec.Ingress {
		for _, port := range r.Ports {
			got = append(got, string(*port.Protocol))
		}
	}
	got = append(got, string(*p.Spec.Egress[0].Ports[0].Protocol))
	if diff := cmp.Diff([]string{"TCP", "UDP", "TCP"}, got); diff != "" {
		t.Errorf("protocols (-want +got):\n%s", diff)
	}
	// A policy that needs no default is returned as it is; one that needs
	// any is copied.
	complete := policies(t, `
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress: [{ports: [{port: 80, protocol: TCP}]}]
  egress: [{ports: [{port: 53, protocol: UDP}]}]`)[0]
	if eval.Default(complete) != complete {
		t.Error("Default copied a policy that needs no default")
	}
	for name, spoil := range map[string]func(*networkingv1.NetworkPolicy){
		"namespace":     func(p *networkingv1.NetworkPolicy) { p.Namespace = "" },
		"policyTypes":   func(p *networkingv1.NetworkPolicy) { p.Spec.PolicyTypes = nil },
		"ingress proto": func(p *networkingv1.NetworkPolicy) { p.Spec.Ingress[0].Ports[0].Protocol = nil },
		"egress proto":  func(p *networkingv1.NetworkPolicy) { p.Spec.Egress[0].Ports[0].Protocol = nil },
	} {
		p := complete.DeepCopy()
		spoil(p)
		orig := p.DeepCopy()
		if d := eval.Default(p); d == p || !cmp.Equal(orig, p) {
			t.Errorf("%s missing: Default returned its argument (%v) or changed it", name, d == p)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []string // error texts, in order
	}{
		{"valid", `{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}], ports: [{port: 80, endPort: 90}, {port: http}]}]}`, nil},
		{"empty peer", `{podSelector: {}, ingress: [{from: [{}]}]}`,
			[]string{"spec.ingress[0].from[0]: Required value: must specify a peer"}},
		{"ipBlock with a selector", `{podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}`,
			[]string{"spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer"}},
		{"endPort below port", `{podSelector: {}, ingress: [{ports: [{port: 90, endPort: 80}]}]}`,
			[]string{"spec.ingress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`"}},
		{"endPort with a named port", `{podSelector: {}, ingress: [{ports: [{port: http, endPort: 80}]}]}`,
			[]string{"spec.ingress[0].ports[0].endPort: Invalid value: 80: may not be specified when `port` is non-numeric"}},
		{"endPort without port", `{podSelector: {}, ingress: [{ports: [{endPort: 80}]}]}`,
			[]string{"spec.ingress[0].ports[0].endPort: Invalid value: 80: may not be specified when `port` is not specified"}},
		{"port out of range, bad name, bad protocol", `{podSelector: {}, ingress: [{ports: [{port: 0}, {port: HTTP_x}, {port: 1, protocol: ICMP}]}]}`,
			[]string{
				"spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
				`spec.ingress[0].ports[1].port: Invalid value: "HTTP_x": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
				`spec.ingress[0].ports[2].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"`,
			}},
		{"except not inside cidr, host bits", `{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24, 10.0.0.0/16]}}, {ipBlock: {cidr: 10.0.0.1/8}}]}]}`,
			[]string{
				`spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of ` + "`cidr`",
				`spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "10.0.0.0/16": must be a strict subset of ` + "`cidr`",
				`spec.ingress[0].from[1].ipBlock.cidr: Invalid value: "10.0.0.1/8": must not have bits set beyond the prefix length`,
			}},
		{"bad selector", `{podSelector: {matchExpressions: [{key: app, operator: In}]}}`,
			[]string{"spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"}},
		{"bad policyType", `{podSelector: {}, policyTypes: [Ingress, egress]}`,
			[]string{`spec.policyTypes[1]: Unsupported value: "egress": supported values: "Ingress", "Egress"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := eval.Default(policies(t, "metadata: {name: p, namespace: shop}\nspec: "+tc.spec)[0])
			var got []string
			for _, err := range eval.Validate(p) {
				got = append(got, err.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRejectsInvalidPolicies(t *testing.T) {
	ps := policies(t, `
metadata: {name: p, namespace: shop}
spec: {podSelector: {}, ingress: [{from: [{}]}]}
---
metadata: {name: p, namespace: shop}
spec: {podSelector: {}}`)
	_, err := eval.New(universe(), ps)
	want := "networkpolicy shop/p: spec.ingress[0].from[0]: Required value: must specify a peer\nnetworkpolicy shop/p: defined twice"
	if err == nil || err.Error() != want {
		t.Errorf("New error:\n%v\nwant:\n%s", err, want)
	}
}

func TestExternals(t *testing.T) {
	ps := policies(t, `
metadata: {name: p, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.8/29]}}]
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
    ports: [{port: 443}]`)
	u := universe()
	u.Addresses = []netip.Prefix{netip.MustParsePrefix("198.51.100.7/32")}
	e, err := eval.New(u, ps)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range e.Externals() {
		var s []string
		for _, p := range x.Prefixes {
			s = append(s, p.String())
		}
		got = append(got, strings.Join(s, " "))
	}
	// The except 203.0.113.8/29 is outside the first block and inside the
	// second, like most of the Internet: one class with it.
	if a, b := e.ExternalFor(netip.MustParseAddr("203.0.113.9")), e.ExternalFor(netip.MustParseAddr("8.8.8.8")); a != b {
		t.Errorf("203.0.113.9 and 8.8.8.8 in different classes %v, %v", a, b)
	}
	for _, tc := range []struct{ addr, prefixes string }{
		{"10.2.3.4", "10.0.0.0/8"},
		{"203.0.113.200", "203.0.113.0/29 203.0.113.16/28 203.0.113.32/27 203.0.113.64/26 203.0.113.128/25"},
		{"2001:db8::1", "::/0"},
	} {
		x := e.ExternalFor(netip.MustParseAddr(tc.addr))
		if got := got[x.Index]; got != tc.prefixes {
			t.Errorf("class of %s: %s, want %s", tc.addr, got, tc.prefixes)
		}
	}
	// 198.51.100.7 is its own class: the caller asked for it.
	a := e.ExternalFor(netip.MustParseAddr("198.51.100.7"))
	if p := e.Externals()[a.Index].Prefixes; len(p) != 1 || p[0].String() != "198.51.100.7/32" {
		t.Errorf("class of 198.51.100.7: %v", p)
	}
	reach := e.Reachability()
	src, _ := e.PodIndex("shop", "a")
	for _, tc := range []struct {
		addr string
		want string
	}{
		{"203.0.113.1", "all"},
		{"203.0.113.9", "443/TCP"},
		{"10.1.1.1", "none"},
		{"8.8.8.8", "443/TCP"},
		{"2001:db8::1", "none"},
	} {
		got := reach.Ports(eval.PodEndpoint(src), e.ExternalFor(netip.MustParseAddr(tc.addr))).String()
		if got != tc.want {
			t.Errorf("shop/a -> %s: %s, want %s", tc.addr, got, tc.want)
		}
	}
	if len(got) != 5 {
		t.Errorf("%d classes, want 5 (the rest of IPv4, 10/8, the /24 minus except, the caller's /32, ::/0):\n%s", len(got), strings.Join(got, "\n"))
	}
}
