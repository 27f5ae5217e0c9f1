package verify

import (
	"path/filepath"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

// repoRoot is the repository: go test runs these tests in
// generator/verify, and this is read before any test changes directory.
var repoRoot = func() string {
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return abs
}()

// loadGenerated loads the dependency files under dir and generates their
// policies, failing the test on any problem.
func loadGenerated(t *testing.T, dir string) (*schema.Spec, *policy.Set) {
	t.Helper()
	spec, probs := schema.Load([]string{dir})
	if len(probs.Errors()) > 0 {
		t.Fatal(probs)
	}
	set, err := policy.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	return spec, set
}

func loadExample(t *testing.T, name string) (*schema.Spec, *policy.Set) {
	t.Helper()
	t.Chdir(repoRoot)
	spec, probs := schema.Load([]string{filepath.Join("examples", name)})
	if len(probs.Errors()) > 0 {
		t.Fatalf("loading %s:\n%v", name, probs)
	}
	set, err := policy.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	return spec, set
}

func TestExamplesAreExact(t *testing.T) {
	for _, ex := range []string{"seed", "shop"} {
		spec, set := loadExample(t, ex)
		// Every object the set holds: the shop's prod also needs its
		// CiliumNetworkPolicy, its dev is staged.
		reports, _, err := Run(spec, spec.EnvNames(), FromSet(set), nil)
		if err != nil {
			t.Fatalf("%s: %v", ex, err)
		}
		for i, env := range spec.EnvNames() {
			r := reports[i]
			if !r.Exact() {
				t.Errorf("%s/%s not exact:\nmissing %v\nexcess %v", ex, env, r.Missing, r.Excess)
			}
			if r.Pods == 0 || r.Policies == 0 {
				t.Errorf("%s/%s checked an empty world: %+v", ex, env, r)
			}
		}
	}
}

// mutate copies policies and changes one, as a hand edit or a generator bug
// would.
func mutate(ps []*networkingv1.NetworkPolicy, ns, name string, fn func(*networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, p := range ps {
		if p.Namespace == ns && p.Name == name {
			out = append(out, fn(p.DeepCopy())...)
			continue
		}
		out = append(out, p)
	}
	return out
}

func TestMutationsAreCaught(t *testing.T) {
	spec, set := loadExample(t, "shop")
	base := set.Render("dev")
	tests := []struct {
		name        string
		ns, policy  string
		fn          func(*networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy
		wantMissing string // substring of one missing difference, "" for none
		wantExcess  string
	}{{
		name: "delete a service policy", ns: "storefront", policy: "cart",
		fn:          func(p *networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy { return nil },
		wantMissing: "storefront/frontend -> storefront/cart 7070/TCP",
	}, {
		// The ingress controller's egress is open (its namespace is not
		// managed), so widening frontend's ingress is a real excess.
		name: "widen a port to a range", ns: "storefront", policy: "frontend",
		fn: func(p *networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
			end := int32(8090)
			p.Spec.Ingress[0].Ports[0].EndPort = &end
			return []*networkingv1.NetworkPolicy{p}
		},
		wantExcess: "ingress-nginx/controller -> storefront/frontend 8081-8090/TCP",
	}, {
		name: "split a namespace+pod peer into two OR'd peers", ns: "storefront", policy: "frontend",
		fn: func(p *networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
			for i, r := range p.Spec.Ingress {
				var peers []networkingv1.NetworkPolicyPeer
				for _, peer := range r.From {
					if peer.NamespaceSelector != nil && peer.PodSelector != nil {
						peers = append(peers,
							networkingv1.NetworkPolicyPeer{NamespaceSelector: peer.NamespaceSelector},
							networkingv1.NetworkPolicyPeer{PodSelector: peer.PodSelector})
						continue
					}
					peers = append(peers, peer)
				}
				p.Spec.Ingress[i].From = peers
			}
			return []*networkingv1.NetworkPolicy{p}
		},
		wantExcess: "ingress-nginx/(unlabelled) -> storefront/frontend 8080/TCP",
	}, {
		name: "drop allow-dns", ns: "checkout", policy: "allow-dns",
		fn:          func(p *networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy { return nil },
		wantMissing: "checkout/checkout -> kube-system/(pods k8s-app=kube-dns) 53/TCP,53/UDP",
	}, {
		// catalog isolates ingress only, so its pods' egress is open and a
		// too-wide ingress peer shows.
		name: "empty podSelector in a peer admits the whole namespace", ns: "catalog", policy: "catalog",
		fn: func(p *networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
			for i, r := range p.Spec.Ingress {
				for j, peer := range r.From {
					if peer.NamespaceSelector == nil {
						p.Spec.Ingress[i].From[j].PodSelector = &metav1.LabelSelector{}
					}
				}
			}
			return []*networkingv1.NetworkPolicy{p}
		},
		wantExcess: "catalog/(unlabelled) -> catalog/catalog 3550/TCP",
	}, {
		name: "drop policyTypes lets the API server default them", ns: "payments", policy: "payment",
		// Without policyTypes and with egress rules the default is
		// [Ingress, Egress]: the same meaning, so nothing may differ.
		fn: func(p *networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
			p.Spec.PolicyTypes = nil
			return []*networkingv1.NetworkPolicy{p}
		},
	}, {
		name: "default-deny removed opens unlabelled pods", ns: "payments", policy: "default-deny",
		fn:         func(p *networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy { return nil },
		wantExcess: "netdep-outside/(unlabelled) -> payments/(unlabelled) all",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Check(spec, "dev", mutate(base, tc.ns, tc.policy, tc.fn))
			if err != nil {
				t.Fatal(err)
			}
			check := func(kind string, got []Difference, want string) {
				if want == "" {
					if len(got) > 0 {
						t.Errorf("unexpected %s: %v", kind, got)
					}
					return
				}
				for _, d := range got {
					if strings.Contains(d.Source+" -> "+d.Destination+" "+d.Ports, want) {
						if d.Reason == "" {
							t.Errorf("%s %v has no reason", kind, d)
						}
						return
					}
				}
				t.Errorf("no %s matching %q in %v", kind, want, got)
			}
			check("missing", r.Missing, tc.wantMissing)
			check("excess", r.Excess, tc.wantExcess)
		})
	}
}

// TestOneSidedWideningIsCaught: a hand edit that widens one side of a
// connection while the other side still blocks the extra traffic is excess
// on that side, named with the direction and the policy responsible. The
// connection check alone says "exact" for each of these (issue 13, hole 1).
func TestOneSidedWideningIsCaught(t *testing.T) {
	spec, set := loadExample(t, "shop")
	base := set.Render("dev")
	tests := []struct {
		name       string
		ns, policy string
		fn         func(*networkingv1.NetworkPolicy)
		want       Difference // Reason is matched as a substring
	}{{
		name: "postgres admits its whole namespace on every port", ns: "checkout", policy: "orders-db",
		fn: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}}
		},
		want: Difference{Direction: Ingress, Source: "checkout/checkout", Destination: "checkout/orders-db",
			Ports: "1-5431/TCP,5433-65535/TCP,1-65535/UDP,1-65535/SCTP", Policy: "checkout/orders-db",
			Reason: "ingress at checkout/orders-db allowed by checkout/orders-db rule spec.ingress[0]"},
	}, {
		name: "a callee's port widened to a range", ns: "storefront", policy: "cart",
		fn: func(p *networkingv1.NetworkPolicy) {
			end := int32(7080)
			p.Spec.Ingress[0].Ports[0].EndPort = &end
		},
		want: Difference{Direction: Ingress, Source: "storefront/frontend", Destination: "storefront/cart",
			Ports: "7071-7080/TCP", Policy: "storefront/cart",
			Reason: "ingress at storefront/cart allowed by storefront/cart rule spec.ingress[0]"},
	}, {
		name: "a caller's egress opened to every port", ns: "storefront", policy: "cart",
		fn: func(p *networkingv1.NetworkPolicy) { p.Spec.Egress[0].Ports = nil },
		want: Difference{Direction: Egress, Source: "storefront/cart", Destination: "storefront/cart-redis",
			Ports: "1-6378/TCP,6380-65535/TCP,1-65535/UDP,1-65535/SCTP", Policy: "storefront/cart",
			Reason: "egress at storefront/cart allowed by storefront/cart rule spec.egress[0]"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Check(spec, "dev", mutate(base, tc.ns, tc.policy, func(p *networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
				tc.fn(p)
				return []*networkingv1.NetworkPolicy{p}
			}))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Missing) > 0 {
				t.Errorf("unexpected missing: %v", r.Missing)
			}
			for _, d := range r.Excess {
				if d.Direction == Connection {
					t.Errorf("the connection check should not see a one-sided widening: %+v", d)
				}
			}
			for _, d := range r.Excess {
				if d.Direction == tc.want.Direction && d.Source == tc.want.Source && d.Destination == tc.want.Destination {
					if d.Ports != tc.want.Ports || d.Policy != tc.want.Policy || !strings.Contains(d.Reason, tc.want.Reason) {
						t.Errorf("got %+v\nwant %+v", d, tc.want)
					}
					return
				}
			}
			t.Errorf("no %s excess %s -> %s in %+v", tc.want.Direction, tc.want.Source, tc.want.Destination, r.Excess)
		})
	}
}

// TestManagedDNSNamespaceKeepsDNS: a spec that manages the namespace the
// cluster DNS lives in isolates its ingress; the DNS pods must still admit
// DNS from every pod, and verify must count DNS that the DNS pods' ingress
// denies as missing (issue 13, hole 3: it said "exact" while every lookup
// failed).
func TestManagedDNSNamespaceKeepsDNS(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"netdep.yaml": "netdep: v1\ncluster:\n  dns: {namespace: kube-system, selector: {k8s-app: kube-dns}, ports: [53/UDP, 53/TCP]}\nenvironments:\n  dev: {}\n",
		"shop.yaml":   "netdep: v1\nnamespace: shop\nservices:\n  web:\n    ports: {http: 8080}\n",
		"kube-system.yaml": "netdep: v1\nnamespace: kube-system\nservices:\n" +
			"  metrics:\n    ports: {https: 4443}\n    from: [shop/web]\n",
	})
	spec, set := loadGenerated(t, dir)
	policies := set.Render("dev")
	r, err := Check(spec, "dev", policies)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Exact() {
		t.Errorf("generated tree of a managed DNS namespace is not exact:\nmissing %v\nexcess %v", r.Missing, r.Excess)
	}
	// Without the DNS pods' ingress, DNS from the shop and from
	// kube-system itself is missing.
	var without []*networkingv1.NetworkPolicy
	found := false
	for _, p := range policies {
		if p.Namespace == "kube-system" && p.Name == policy.AllowDNSIngressName {
			found = true
			continue
		}
		without = append(without, p)
	}
	if !found {
		t.Fatalf("no %s policy in kube-system", policy.AllowDNSIngressName)
	}
	r, err = Check(spec, "dev", without)
	if err != nil {
		t.Fatal(err)
	}
	want := "shop/web -> kube-system/(pods k8s-app=kube-dns) 53/TCP,53/UDP"
	for _, d := range r.Missing {
		if d.Source+" -> "+d.Destination+" "+d.Ports == want {
			return
		}
	}
	t.Errorf("no missing %q in %v", want, r.Missing)
}
