package policy

import (
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netdep/netdep/schema"
)

// builder assembles resolved specs by hand so these tests exercise the
// generator alone.
type builder struct {
	spec *schema.Spec
}

func newSpec(envs ...string) *builder {
	b := &builder{spec: &schema.Spec{}}
	if len(envs) == 0 {
		envs = []string{""}
	}
	for _, e := range envs {
		b.spec.Environments = append(b.spec.Environments, &schema.Environment{Name: e, DNS: defaultDNS()})
	}
	return b
}

func defaultDNS() *schema.DNS {
	return &schema.DNS{
		Peers: []schema.Peer{{Kind: schema.PeerSelector, Namespace: "kube-system", Selector: map[string]string{"k8s-app": "kube-dns"}}},
		Ports: []schema.Port{{Protocol: corev1.ProtocolUDP, Port: 53}, {Protocol: corev1.ProtocolTCP, Port: 53}},
	}
}

func (b *builder) ns(name string, managed, in, eg bool) *schema.Namespace {
	ns := &schema.Namespace{Name: name, Managed: managed, IsolateIngress: in, IsolateEgress: eg, Sources: []string{name + ".yaml"}}
	b.spec.Namespaces = append(b.spec.Namespaces, ns)
	return ns
}

func (b *builder) svc(ns *schema.Namespace, name string, envs []string, ports ...schema.Port) *schema.Service {
	s := &schema.Service{Namespace: ns.Name, Name: name, Selector: map[string]string{"app": name}, Ports: ports,
		Environments: envs, Source: schema.Pos{File: ns.Name + ".yaml", Line: 3, Column: 3}}
	ns.Services = append(ns.Services, s)
	for _, e := range b.spec.Environments {
		if envs == nil || contains(envs, e.Name) {
			e.Services = append(e.Services, s)
		}
	}
	return s
}

// edge adds the two rules of A -> B:ports in the given environments (nil: all).
func (b *builder) edge(from, to *schema.Service, envs []string, ports ...schema.Port) {
	for _, e := range b.spec.Environments {
		if envs != nil && !contains(envs, e.Name) {
			continue
		}
		e.Rules = append(e.Rules,
			schema.Rule{Service: from, Direction: schema.Egress, Peer: schema.Peer{Kind: schema.PeerService, Service: to}, Ports: ports},
			schema.Rule{Service: to, Direction: schema.Ingress, Peer: schema.Peer{Kind: schema.PeerService, Service: from}, Ports: ports})
	}
}

func (b *builder) rule(envs []string, r schema.Rule) {
	for _, e := range b.spec.Environments {
		if envs == nil || contains(envs, e.Name) {
			e.Rules = append(e.Rules, r)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func tcp(p int32) schema.Port { return schema.Port{Protocol: corev1.ProtocolTCP, Port: p} }

func npPort(proto corev1.Protocol, p int32) networkingv1.NetworkPolicyPort {
	port := intstr.FromInt32(p)
	return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &port}
}

func meta(ns, name, source, wave string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns,
		Labels:      map[string]string{ManagedByLabel: ManagedByValue},
		Annotations: map[string]string{SourceAnnotation: source, SyncWaveAnnotation: wave}}
}

var typeMeta = metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}

func find(t *testing.T, ps []*networkingv1.NetworkPolicy, ns, name string) *networkingv1.NetworkPolicy {
	t.Helper()
	for _, p := range ps {
		if p.Namespace == ns && p.Name == name {
			return p
		}
	}
	t.Fatalf("no policy %s/%s among %v", ns, name, names(ps))
	return nil
}

func names(ps []*networkingv1.NetworkPolicy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}

// TestSeed is the policy the project started from: only trusted-app may reach
// my-app, on TCP 80, and egress stays unmanaged.
func TestSeed(t *testing.T) {
	b := newSpec()
	ns := b.ns("default", true, true, false)
	myApp := b.svc(ns, "my-app", nil, schema.Port{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80})
	trusted := b.svc(ns, "trusted-app", nil)
	b.edge(trusted, myApp, nil, tcp(80))

	set, err := Generate(b.spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []*networkingv1.NetworkPolicy{
		{TypeMeta: typeMeta, ObjectMeta: meta("default", "allow-egress", "default.yaml", AllowWave),
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress:      []networkingv1.NetworkPolicyEgressRule{{}},
			}},
		{TypeMeta: typeMeta, ObjectMeta: meta("default", "default-deny", "default.yaml", DenyWave),
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}},
		{TypeMeta: typeMeta, ObjectMeta: meta("default", "my-app", "default.yaml", AllowWave),
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "my-app"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "trusted-app"}}}},
					Ports: []networkingv1.NetworkPolicyPort{npPort(corev1.ProtocolTCP, 80)},
				}},
			}},
		{TypeMeta: typeMeta, ObjectMeta: meta("default", "trusted-app", "default.yaml", AllowWave),
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "trusted-app"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			}},
	}
	if diff := cmp.Diff(want, set.Base); diff != "" {
		t.Errorf("base (-want +got):\n%s", diff)
	}
	if len(set.Environments) != 0 || len(set.Overlays) != 0 {
		t.Errorf("implicit environment must produce a base only, got overlays %v", set.Environments)
	}
}

func TestPeers(t *testing.T) {
	mkSpec := func() (*builder, *schema.Service, *schema.Service, *schema.Service) {
		b := newSpec()
		shop := b.ns("shop", true, true, true)
		pay := b.ns("payments", true, true, true)
		front := b.svc(shop, "frontend", nil, tcp(8080))
		cart := b.svc(shop, "cart", nil, tcp(7070), schema.Port{Protocol: corev1.ProtocolUDP, Port: 7071})
		gw := b.svc(pay, "gateway", nil, tcp(8443))
		return b, front, cart, gw
	}
	tests := []struct {
		name  string
		build func(b *builder, front, cart, gw *schema.Service)
		ns    string
		pol   string
		want  networkingv1.NetworkPolicySpec
	}{{
		// Two peers with the same ports share one rule.
		name: "peers with one port set share a rule",
		build: func(b *builder, front, cart, gw *schema.Service) {
			b.edge(front, cart, nil, tcp(7070))
			b.edge(gw, cart, nil, tcp(7070))
		},
		ns: "shop", pol: "cart",
		want: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "cart"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{
					{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}},
					// namespaceSelector AND podSelector in ONE peer.
					{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceLabel: "payments"}},
						PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "gateway"}}},
				},
				Ports: []networkingv1.NetworkPolicyPort{npPort(corev1.ProtocolTCP, 7070)},
			}},
		},
	}, {
		name: "distinct port sets get distinct rules",
		build: func(b *builder, front, cart, gw *schema.Service) {
			b.edge(front, cart, nil, tcp(7070), schema.Port{Protocol: corev1.ProtocolUDP, Port: 7071})
			b.edge(gw, cart, nil, tcp(7070))
		},
		ns: "shop", pol: "cart",
		want: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "cart"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{
					{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceLabel: "payments"}},
						PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "gateway"}}},
				},
				Ports: []networkingv1.NetworkPolicyPort{npPort(corev1.ProtocolTCP, 7070)},
			}, {
				From: []networkingv1.NetworkPolicyPeer{
					{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}},
				},
				Ports: []networkingv1.NetworkPolicyPort{npPort(corev1.ProtocolTCP, 7070), npPort(corev1.ProtocolUDP, 7071)},
			}},
		},
	}, {
		name: "cidr and raw peers on the egress side, any port written as no ports",
		build: func(b *builder, front, cart, gw *schema.Service) {
			b.rule(nil, schema.Rule{Service: gw, Direction: schema.Egress,
				Peer:  schema.Peer{Kind: schema.PeerCIDR, CIDR: "203.0.113.0/24", Except: []string{"203.0.113.8/29"}},
				Ports: []schema.Port{tcp(443)}})
			b.rule(nil, schema.Rule{Service: gw, Direction: schema.Egress,
				Peer:    schema.Peer{Kind: schema.PeerSelector, Namespace: "monitoring"},
				AnyPort: true})
		},
		ns: "payments", pol: "gateway",
		want: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "gateway"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				// nil selector: every pod of monitoring, so no podSelector.
				To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceLabel: "monitoring"}}}},
			}, {
				To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24", Except: []string{"203.0.113.8/29"}}}},
				Ports: []networkingv1.NetworkPolicyPort{npPort(corev1.ProtocolTCP, 443)},
			}},
		},
	}, {
		name: "a range keeps its endPort",
		build: func(b *builder, front, cart, gw *schema.Service) {
			b.edge(front, gw, nil, schema.Port{Protocol: corev1.ProtocolTCP, Port: 9000, EndPort: 9100})
		},
		ns: "shop", pol: "frontend",
		want: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceLabel: "payments"}},
					PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "gateway"}}}},
				Ports: func() []networkingv1.NetworkPolicyPort {
					p := npPort(corev1.ProtocolTCP, 9000)
					end := int32(9100)
					p.EndPort = &end
					return []networkingv1.NetworkPolicyPort{p}
				}(),
			}},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, front, cart, gw := mkSpec()
			tc.build(b, front, cart, gw)
			set, err := Generate(b.spec)
			if err != nil {
				t.Fatal(err)
			}
			got := find(t, set.Base, tc.ns, tc.pol)
			if diff := cmp.Diff(tc.want, got.Spec); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNamespacePolicies(t *testing.T) {
	b := newSpec()
	b.ns("both", true, true, true)
	b.ns("ingress-only", true, true, false)
	b.ns("unmanaged", false, true, true)
	set, err := Generate(b.spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(set.Base), []string{"both/allow-dns", "both/default-deny", "ingress-only/allow-egress", "ingress-only/default-deny"}; !cmp.Equal(want, got) {
		t.Fatalf("policies = %v, want %v", got, want)
	}
	dns := find(t, set.Base, "both", "allow-dns")
	wantDNS := networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		Egress: []networkingv1.NetworkPolicyEgressRule{{
			To: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceLabel: "kube-system"}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
			}},
			Ports: []networkingv1.NetworkPolicyPort{npPort(corev1.ProtocolTCP, 53), npPort(corev1.ProtocolUDP, 53)},
		}},
	}
	if diff := cmp.Diff(wantDNS, dns.Spec); diff != "" {
		t.Errorf("allow-dns (-want +got):\n%s", diff)
	}
	deny := find(t, set.Base, "ingress-only", "default-deny")
	if diff := cmp.Diff([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, deny.Spec.PolicyTypes); diff != "" {
		t.Errorf("ingress-only default-deny policyTypes (-want +got):\n%s", diff)
	}
	if deny.Annotations[SyncWaveAnnotation] != DenyWave || dns.Annotations[SyncWaveAnnotation] != AllowWave {
		t.Errorf("default-deny must sync after the allows: deny wave %q, allow wave %q",
			deny.Annotations[SyncWaveAnnotation], dns.Annotations[SyncWaveAnnotation])
	}
	// The pod selector of a namespace-wide policy is {} (all pods), never a
	// nil map that could be mistaken for "no pods" by a reader.
	if deny.Spec.PodSelector.MatchLabels != nil || deny.Spec.PodSelector.MatchExpressions != nil {
		t.Errorf("default-deny must select every pod, got %v", deny.Spec.PodSelector)
	}
}

func TestIngressOnlyDropsEgress(t *testing.T) {
	b := newSpec()
	ns := b.ns("shop", true, true, false)
	a := b.svc(ns, "a", nil, tcp(80))
	c := b.svc(ns, "c", nil, tcp(80))
	b.edge(a, c, nil, tcp(80))
	set, err := Generate(b.spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range set.Base {
		if p.Name == AllowEgressName {
			continue
		}
		if len(p.Spec.Egress) > 0 {
			t.Errorf("%s has egress rules in an ingress-only namespace", p.Name)
		}
		for _, pt := range p.Spec.PolicyTypes {
			if pt == networkingv1.PolicyTypeEgress {
				t.Errorf("%s isolates egress in an ingress-only namespace", p.Name)
			}
		}
	}
	// allow-egress: every pod, egress isolated with one rule that allows
	// every destination on every port (an empty rule, not no rule: no rule
	// would deny all egress).
	open := find(t, set.Base, "shop", AllowEgressName)
	wantOpen := networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		Egress:      []networkingv1.NetworkPolicyEgressRule{{}},
	}
	if diff := cmp.Diff(wantOpen, open.Spec); diff != "" {
		t.Errorf("allow-egress (-want +got):\n%s", diff)
	}
	if open.Annotations[SyncWaveAnnotation] != AllowWave {
		t.Errorf("allow-egress must sync with the allows, got wave %q", open.Annotations[SyncWaveAnnotation])
	}
	if got := find(t, set.Base, "shop", "c").Spec.Ingress; len(got) != 1 {
		t.Errorf("c must admit a: %v", got)
	}
}

func TestEnvironmentSplit(t *testing.T) {
	b := newSpec("dev", "prod", "staging")
	ns := b.ns("shop", true, true, true)
	front := b.svc(ns, "frontend", nil, tcp(8080))
	cart := b.svc(ns, "cart", nil, tcp(7070))
	debug := b.svc(ns, "debug", []string{"dev"}, tcp(9000))
	canary := b.svc(ns, "canary", []string{"prod"}, tcp(8080))
	b.edge(front, cart, nil, tcp(7070))
	b.edge(front, debug, []string{"dev"}, tcp(9000))
	b.edge(canary, cart, []string{"prod"}, tcp(7070))
	// prod resolves through NodeLocal DNSCache.
	b.spec.Environments[1].DNS = &schema.DNS{
		Peers: []schema.Peer{{Kind: schema.PeerCIDR, CIDR: "169.254.20.10/32"}},
		Ports: defaultDNS().Ports,
	}
	set, err := Generate(b.spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(set.Base), []string{"shop/cart", "shop/default-deny", "shop/frontend"}; !cmp.Equal(want, got) {
		t.Errorf("base = %v, want %v", got, want)
	}
	wantOverlays := map[string][]string{
		"dev":     {"shop/allow-dns", "shop/debug", "shop/frontend.dev"},
		"prod":    {"shop/allow-dns", "shop/canary", "shop/cart.prod"},
		"staging": {"shop/allow-dns"},
	}
	for env, want := range wantOverlays {
		if got := names(set.Overlay(env)); !cmp.Equal(want, got) {
			t.Errorf("overlay %s = %v, want %v", env, got, want)
		}
	}
	extra := find(t, set.Overlay("dev"), "shop", "frontend.dev")
	if diff := cmp.Diff([]networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, extra.Spec.PolicyTypes); diff != "" {
		t.Errorf("additive policy names only the directions it adds (-want +got):\n%s", diff)
	}
	if len(extra.Spec.Egress) != 1 || extra.Spec.Egress[0].To[0].PodSelector.MatchLabels["app"] != "debug" {
		t.Errorf("frontend.dev must add exactly the debug edge: %+v", extra.Spec.Egress)
	}
	base := find(t, set.Base, "shop", "frontend")
	if len(base.Spec.Egress) != 1 || base.Spec.Egress[0].To[0].PodSelector.MatchLabels["app"] != "cart" {
		t.Errorf("base frontend must hold only the shared cart edge: %+v", base.Spec.Egress)
	}
}

// TestDeterminism: the order rules and services arrive in never changes the
// output.
func TestDeterminism(t *testing.T) {
	build := func(seed int64) *Set {
		b := newSpec("a", "b")
		ns := b.ns("shop", true, true, true)
		other := b.ns("other", true, true, true)
		var svcs []*schema.Service
		for _, n := range []string{"s1", "s2", "s3", "s4", "s5"} {
			svcs = append(svcs, b.svc(ns, n, nil, tcp(80), tcp(81)))
			svcs = append(svcs, b.svc(other, n, nil, tcp(80), tcp(81)))
		}
		for i, s := range svcs {
			b.edge(s, svcs[(i+3)%len(svcs)], nil, tcp(80))
			b.edge(s, svcs[(i+5)%len(svcs)], []string{"b"}, tcp(81))
		}
		r := rand.New(rand.NewSource(seed))
		for _, e := range b.spec.Environments {
			r.Shuffle(len(e.Rules), func(i, j int) { e.Rules[i], e.Rules[j] = e.Rules[j], e.Rules[i] })
		}
		set, err := Generate(b.spec)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	first := build(1)
	for seed := int64(2); seed < 10; seed++ {
		if diff := cmp.Diff(first, build(seed)); diff != "" {
			t.Fatalf("seed %d changed the output (-first +got):\n%s", seed, diff)
		}
	}
}

// TestNamesStable: adding a service and an edge renames nothing else, so a
// sync never deletes and recreates an unrelated policy (which would open a
// window without it).
func TestNamesStable(t *testing.T) {
	build := func(extra bool) map[string]bool {
		b := newSpec("dev", "prod")
		ns := b.ns("shop", true, true, true)
		a := b.svc(ns, "a", nil, tcp(80))
		c := b.svc(ns, "c", nil, tcp(80))
		b.edge(a, c, []string{"dev"}, tcp(80))
		if extra {
			n := b.svc(ns, "new", nil, tcp(81))
			b.edge(n, a, nil, tcp(80))
			b.edge(n, c, []string{"prod"}, tcp(80))
		}
		set, err := Generate(b.spec)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, p := range set.Base {
			names["base/"+p.Namespace+"/"+p.Name] = true
		}
		for i, env := range set.Environments {
			for _, p := range set.Overlays[i] {
				names[env+"/"+p.Namespace+"/"+p.Name] = true
			}
		}
		return names
	}
	before, after := build(false), build(true)
	for n := range before {
		if !after[n] {
			t.Errorf("policy %s disappeared when an unrelated service was added", n)
		}
	}
	if len(after) <= len(before) {
		t.Errorf("the new service added no policy: %v", after)
	}
}
