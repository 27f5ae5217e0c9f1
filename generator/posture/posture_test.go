package posture

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/verify"
)

func TestReportBlastRadius(t *testing.T) {
	// a -> b -> c -> b (b, c a cycle), c -> d in another namespace; e alone;
	// p is a probe, never counted.
	pods := []pod{
		{name: "x/a", ns: "x", subject: true}, {name: "x/b", ns: "x", subject: true},
		{name: "x/c", ns: "x", subject: true}, {name: "y/d", ns: "y", subject: true},
		{name: "y/e", ns: "y", subject: true}, {name: "y/p", ns: "y"},
	}
	adj := make([][]edge, len(pods))
	link := func(a, b int) { adj[a] = append(adj[a], edge{dst: b}) }
	link(0, 1)
	link(1, 2)
	link(2, 1)
	link(2, 3)
	egress := make([][]Peer, len(pods))
	egress[3] = []Peer{{Name: "0.0.0.0/0", Outside: true}}
	got := blastRadius(pods, adj, egress)
	want := []Blast{
		{Service: "x/a", OneHop: 1, OneHopNamespaces: 1, Transitive: 3, TransitiveNamespaces: 2, Outside: true},
		{Service: "x/c", OneHop: 2, OneHopNamespaces: 2, Transitive: 2, TransitiveNamespaces: 2, Outside: true},
		{Service: "x/b", OneHop: 1, OneHopNamespaces: 1, Transitive: 2, TransitiveNamespaces: 2, Outside: true},
		{Service: "y/d", Outside: true},
		{Service: "y/e"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("blast radius (-want +got):\n%s", d)
	}
}

func TestReportNames(t *testing.T) {
	pfx := func(ss ...string) eval.External {
		var x eval.External
		for _, s := range ss {
			x.Prefixes = append(x.Prefixes, netip.MustParsePrefix(s))
		}
		return x
	}
	for _, c := range []struct {
		x           eval.External
		want, cidrs string
	}{
		{pfx("0.0.0.0/1", "128.0.0.0/1"), "0.0.0.0-255.255.255.255", "0.0.0.0/0"},
		{pfx("10.0.0.0/8"), "10.0.0.0-10.255.255.255", "10.0.0.0/8"},
		{pfx("10.9.0.0/16", "10.0.0.0/13"), "10.0.0.0-10.7.255.255,10.9.0.0-10.9.255.255", "10.0.0.0/13, 10.9.0.0/16"},
		{pfx("172.20.0.1/32", "::/0"), "172.20.0.1-172.20.0.1,::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "172.20.0.1/32, ::/0"},
		// Everything but 10.0.0.0/8, as the evaluator splits it.
		{pfx("0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"),
			"0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255", "0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, 128.0.0.0/1"},
		// Prefixes that merge into wider ones come out merged.
		{pfx("198.51.100.0/26", "198.51.100.64/26", "::/1", "8000::/1"), "198.51.100.0-198.51.100.127,::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "198.51.100.0/25, ::/0"},
	} {
		if got := AddressName(c.x); got != c.want {
			t.Errorf("AddressName(%v) = %q, want %q", c.x.Prefixes, got, c.want)
		}
		if got := CIDRName(c.x); got != c.cidrs {
			t.Errorf("CIDRName(%v) = %q, want %q", c.x.Prefixes, got, c.cidrs)
		}
	}
	for _, c := range []struct {
		ps   eval.PortSet
		want string
	}{
		{eval.AllPorts(), "All Connections"},
		{eval.PortSet{}, "No Connections"},
		{eval.NewPortSet(eval.PortRange{Protocol: corev1.ProtocolTCP, From: 80, To: 80}), "TCP 80"},
		{eval.NewPortSet(eval.PortRange{Protocol: corev1.ProtocolUDP, From: 53, To: 53}, eval.PortRange{Protocol: corev1.ProtocolTCP, From: 8080, To: 8090},
			eval.PortRange{Protocol: corev1.ProtocolTCP, From: 443, To: 443}, eval.PortRange{Protocol: corev1.ProtocolSCTP, From: 9, To: 9}), "SCTP 9,TCP 443,8080-8090,UDP 53"},
	} {
		if got := ConnString(c.ps); got != c.want {
			t.Errorf("ConnString(%v) = %q, want %q", c.ps, got, c.want)
		}
	}
}

func examplesDir(t *testing.T, name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", name)
}

// shop is the shop example's report, its policies generated in memory.
func shop(t *testing.T, o Options) *Report {
	t.Helper()
	out, err := generator.FromPaths([]string{examplesDir(t, "shop")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := FromSpec(out.Spec, out.Spec.EnvNames(), verify.FromSet(out.Set), o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func envOf(t *testing.T, r *Report, name string) *Environment {
	for _, e := range r.Environments {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no environment %q", name)
	return nil
}

// TestReportShop checks figures the shop's dependency files decide: the
// catalog isolates ingress only, the payment service reaches only its
// provider outside the cluster, payments is reached from checkout alone (and, in prod, from order-export through exception inc-4711).
func TestReportShop(t *testing.T) {
	e := envOf(t, shop(t, Options{Source: "generated"}), "prod")
	if !cmp.Equal(e.Sensitive, []string{"payments"}) {
		t.Errorf("sensitive = %v, want the project file's [payments]", e.Sensitive)
	}
	var catalog NamespaceIsolation
	for _, n := range e.Isolation {
		if n.Namespace == "catalog" {
			catalog = n
		}
	}
	if catalog.Services == 0 || catalog.IngressIsolated != catalog.Services || catalog.EgressIsolated != 0 || !catalog.NewPodIngress || catalog.NewPodEgress {
		t.Errorf("catalog isolates ingress only, got %+v", catalog)
	}
	var payment *Egress
	for i := range e.EgressOutside {
		if e.EgressOutside[i].Service == "payments/payment" {
			payment = &e.EgressOutside[i]
		}
	}
	// The host is allowed by prod's CiliumNetworkPolicy alone.
	want := []Peer{{Name: "169.254.20.10/32", Outside: true, Ports: "53/TCP,53/UDP"}, {Name: "198.51.100.0/25", Outside: true, Ports: "443/TCP"}, {Name: "host api.stripe.com", Outside: true, Ports: "443/TCP"}}
	if payment == nil || !cmp.Equal(payment.To, want) {
		t.Errorf("payments/payment egress outside = %+v, want NodeLocal DNS, the provider's prod /25 and host api.stripe.com on 443/TCP", payment)
	}
	for _, c := range e.SensitiveFlows {
		// order-export reaches payment in prod through exception inc-4711.
		if c.Src != "checkout/checkout" && c.Src != "checkout/order-export" {
			t.Errorf("unexpected flow into payments: %+v", c)
		}
	}
	if len(e.SensitiveFlows) == 0 {
		t.Errorf("no flow into payments; checkout calls it")
	}
	for i := 1; i < len(e.BlastRadius); i++ {
		if e.BlastRadius[i-1].Transitive < e.BlastRadius[i].Transitive {
			t.Errorf("blast radius not ranked at %d: %+v before %+v", i, e.BlastRadius[i-1], e.BlastRadius[i])
		}
	}
}

// TestReportDeterministic: two runs write the same bytes in every format.
func TestReportDeterministic(t *testing.T) {
	a, b := shop(t, Options{Source: "generated"}), shop(t, Options{Source: "generated"})
	for _, f := range a.Formats() {
		var x, y bytes.Buffer
		if err := a.Write(&x, f); err != nil {
			t.Fatal(err)
		}
		if err := b.Write(&y, f); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x.Bytes(), y.Bytes()) {
			t.Errorf("format %s differs between two runs", f)
		}
	}
	if err := a.Write(&bytes.Buffer{}, "yaml"); err == nil {
		t.Errorf("an unknown format is no error")
	}
}

// TestReportCompare: comparing a report with itself changes nothing;
// with a base that lacks an exposure, the change names it.
func TestReportCompare(t *testing.T) {
	head := Compare(shop(t, Options{}), shop(t, Options{}), "main")
	for _, e := range head.Environments {
		c := e.Change
		if c == nil || *e.Base != e.Summary || len(c.NewlyExposed)+len(c.NoLongerExposed)+len(c.BlastRadius) != 0 || c.Exposed != 0 {
			t.Errorf("%s: a report compared with itself changes: %+v", e.Name, c)
		}
	}
	base := shop(t, Options{})
	for _, e := range base.Environments {
		e.Exposure = e.Exposure[1:]
		e.Summary.Exposed--
	}
	head = Compare(base, shop(t, Options{}), "main")
	e := envOf(t, head, "dev")
	if e.Change.Exposed != 1 || len(e.Change.NewlyExposed) != 1 || e.Change.NewlyExposed[0] != e.Exposure[0].Service {
		t.Errorf("change = %+v, want %s newly exposed", e.Change, e.Exposure[0].Service)
	}
}

// TestReportClusterIsolation: examples/guardrails' prod moves the default
// deny to the Baseline tier, so a new pod of every managed namespace is
// isolated for ingress by the Baseline ClusterNetworkPolicy, not by a
// NetworkPolicy (in prod's v1alpha1, the one BaselineAdminNetworkPolicy),
// and for egress too.
// staging keeps the default-deny NetworkPolicies: no tier is named.
func TestReportClusterIsolation(t *testing.T) {
	out, err := generator.FromPaths([]string{examplesDir(t, "guardrails")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := FromSpec(out.Spec, out.Spec.EnvNames(), verify.FromSet(out.Set), Options{Source: "generated"})
	if err != nil {
		t.Fatal(err)
	}
	type iso struct{ In, Eg, InTier, EgTier string }
	got := func(env string) map[string]iso {
		m := map[string]iso{}
		for _, n := range envOf(t, r, env).Isolation {
			m[n.Namespace] = iso{yesNo(n.NewPodIngress), yesNo(n.NewPodEgress), n.NewPodIngressTier, n.NewPodEgressTier}
		}
		return m
	}
	want := map[string]map[string]iso{
		"prod": {
			"kube-system": {"no", "no", "", ""},
			// v1alpha1: no allow-dns NetworkPolicy where the dns
			// guardrail accepts DNS (kube-network-policies skips the
			// baseline for any pod a NetworkPolicy selects), so the
			// Baseline tier isolates a new pod's egress too.
			"monitoring": {"yes", "yes", "Baseline", "Baseline"},
			"payments":   {"yes", "yes", "Baseline", "Baseline"},
			"shop":       {"yes", "yes", "Baseline", "Baseline"},
		},
		"staging": {
			"kube-system": {"no", "no", "", ""},
			"monitoring":  {"yes", "yes", "", ""},
			"payments":    {"yes", "yes", "", ""},
			"shop":        {"yes", "yes", "", ""},
		},
	}
	for env, w := range want {
		if d := cmp.Diff(w, got(env)); d != "" {
			t.Errorf("%s: a new pod's isolation (-want +got):\n%s", env, d)
		}
	}
	if s := envOf(t, r, "prod").Summary; s.UnisolatedNamespaces != 1 {
		t.Errorf("prod: %d namespaces with no isolation, want 1 (kube-system)", s.UnisolatedNamespaces)
	}
}

// TestReportAuditSaysSo: the shop's dev is on calico in mode: audit, so its
// figures are what is enforced without netdep's staged policies, and the
// report says so in the environment (json and markdown); prod and staging
// enforce and say nothing of it.
func TestReportAuditSaysSo(t *testing.T) {
	r := shop(t, Options{Source: "generated"})
	if a := envOf(t, r, "dev").Audit; !strings.Contains(a, "staged") {
		t.Errorf("dev audit note = %q, want it to say the policies are staged", a)
	}
	for _, env := range []string{"prod", "staging"} {
		if a := envOf(t, r, env).Audit; a != "" {
			t.Errorf("%s enforces, audit note %q", env, a)
		}
	}
	var b strings.Builder
	if err := r.Write(&b, "markdown"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "## Environment dev\n\nMode audit: ") {
		t.Errorf("markdown does not say dev is in audit mode under its heading:\n%.600s", b.String())
	}
}
