package eval_test

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/eval/evaltest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// clusterReference is the naive reference with ClusterNetworkPolicy tiers,
// written from the v1beta1 API text connection by connection: per
// direction, the Admin tier's rules by (priority, name, rule order), the
// first that matches deciding (Pass: go on to NetworkPolicies); then the
// NetworkPolicies if they isolate the pod; then the Baseline tier; then
// allow.
type clusterReference struct {
	*reference
	admin, baseline []*v1beta1.ClusterNetworkPolicy
}

func newClusterReference(u eval.Universe, nps *reference, cnps []*v1beta1.ClusterNetworkPolicy) *clusterReference {
	r := &clusterReference{reference: nps}
	sorted := slices.Clone(cnps)
	slices.SortStableFunc(sorted, func(a, b *v1beta1.ClusterNetworkPolicy) int {
		return cmp.Or(cmp.Compare(a.Spec.Priority, b.Spec.Priority), cmp.Compare(a.Name, b.Name))
	})
	for _, p := range sorted {
		if p.Spec.Tier == v1beta1.AdminTier {
			r.admin = append(r.admin, p)
		} else {
			r.baseline = append(r.baseline, p)
		}
	}
	return r
}

func (r *clusterReference) allowed(src, dst refEndpoint, proto corev1.Protocol, port int32) bool {
	return r.side(src, dst, dst, true, proto, port) && r.side(dst, src, dst, false, proto, port)
}

// decide returns the action of the first rule of tier that matches, "" if
// none does.
func (r *clusterReference) decide(tier []*v1beta1.ClusterNetworkPolicy, self, peer, dst refEndpoint, egress bool, proto corev1.Protocol, port int32) v1beta1.ClusterNetworkPolicyRuleAction {
	for _, p := range tier {
		if !r.podsPeer(p.Spec.Subject.Namespaces, p.Spec.Subject.Pods, self) {
			continue
		}
		if egress {
			for _, rule := range p.Spec.Egress {
				match := false
				for _, to := range rule.To {
					match = match || r.podsPeer(to.Namespaces, to.Pods, peer) || networksMatch(to.Networks, peer)
				}
				if match && protocolsMatch(rule.Protocols, dst, proto, port) {
					return rule.Action
				}
			}
			continue
		}
		for _, rule := range p.Spec.Ingress {
			match := false
			for _, from := range rule.From {
				match = match || r.podsPeer(from.Namespaces, from.Pods, peer)
			}
			if match && protocolsMatch(rule.Protocols, dst, proto, port) {
				return rule.Action
			}
		}
	}
	return ""
}

func (r *clusterReference) side(self, peer, dst refEndpoint, egress bool, proto corev1.Protocol, port int32) bool {
	if self.pod == nil {
		return true
	}
	switch r.decide(r.admin, self, peer, dst, egress, proto, port) {
	case v1beta1.ClusterNetworkPolicyRuleActionAccept:
		return true
	case v1beta1.ClusterNetworkPolicyRuleActionDeny:
		return false
	}
	if r.isolated(self, egress) {
		return r.direction(self, peer, dst, egress, proto, port)
	}
	return r.decide(r.baseline, self, peer, dst, egress, proto, port) != v1beta1.ClusterNetworkPolicyRuleActionDeny
}

// isolated: does a NetworkPolicy select self for this direction? The
// policies are defaulted: policyTypes is set.
func (r *clusterReference) isolated(self refEndpoint, egress bool) bool {
	return r.selects(self, egress)
}

func (r *clusterReference) selects(self refEndpoint, egress bool) bool {
	for _, p := range r.policies {
		if p.Namespace != self.pod.Namespace || !matches(&p.Spec.PodSelector, self.pod.Labels) {
			continue
		}
		for _, t := range p.Spec.PolicyTypes {
			if (t == "Egress") == egress {
				return true
			}
		}
	}
	return false
}

func (r *clusterReference) podsPeer(ns *metav1.LabelSelector, pods *v1beta1.NamespacedPod, e refEndpoint) bool {
	if e.pod == nil {
		return false
	}
	switch {
	case ns != nil:
		return matches(ns, r.nsLabels(e.pod.Namespace))
	case pods != nil:
		return matches(&pods.NamespaceSelector, r.nsLabels(e.pod.Namespace)) && matches(&pods.PodSelector, e.pod.Labels)
	}
	return false
}

func networksMatch(networks []v1beta1.CIDR, e refEndpoint) bool {
	addrs := []netip.Addr{e.addr}
	if e.pod != nil {
		addrs = e.pod.IPs
	}
	for _, n := range networks {
		for _, a := range addrs {
			if netip.MustParsePrefix(string(n)).Contains(a) {
				return true
			}
		}
	}
	return false
}

func protocolsMatch(ps []v1beta1.ClusterNetworkPolicyProtocol, dst refEndpoint, proto corev1.Protocol, port int32) bool {
	if len(ps) == 0 {
		return true
	}
	in := func(want corev1.Protocol, p *v1beta1.Port) bool {
		if want != proto {
			return false
		}
		if p.Range != nil {
			return p.Range.Start <= port && port <= p.Range.End
		}
		return p.Number == port
	}
	for _, p := range ps {
		switch {
		case p.TCP != nil && in(corev1.ProtocolTCP, p.TCP.DestinationPort),
			p.UDP != nil && in(corev1.ProtocolUDP, p.UDP.DestinationPort),
			p.SCTP != nil && in(corev1.ProtocolSCTP, p.SCTP.DestinationPort):
			return true
		case p.DestinationNamedPort != "" && dst.pod != nil:
			for _, cp := range dst.pod.Ports {
				cpProto := cmp.Or(cp.Protocol, corev1.ProtocolTCP)
				if cp.Name == p.DestinationNamedPort && cpProto == proto && cp.ContainerPort == port {
					return true
				}
			}
		}
	}
	return false
}

// TestClusterMatchesReference compares NewWithClusterPolicies (Explain and
// Reachability) with the naive tiered reference on random universes,
// NetworkPolicies and ClusterNetworkPolicies.
func TestClusterMatchesReference(t *testing.T) {
	n := *randomCases / 2
	if testing.Short() || raceEnabled {
		n = min(n, 150)
	}
	probes, allowed, decided := 0, 0, 0
	for seed := 0; seed < n; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 16))
		c := evaltest.Random(rng, evaltest.RandomOptions{PodIPs: seed%2 == 0})
		cnps := evaltest.RandomClusterPolicies(rng, 4)
		e, err := eval.NewWithClusterPolicies(c.Universe, c.Policies, cnps)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		reach := e.Reachability()
		ref := newClusterReference(c.Universe, newReference(c.Universe, c.Policies), cnps)
		type ep struct {
			e eval.Endpoint
			r refEndpoint
		}
		var eps []ep
		for i := range c.Universe.Pods {
			eps = append(eps, ep{eval.PodEndpoint(i), refEndpoint{pod: &c.Universe.Pods[i]}})
		}
		for _, a := range c.Addresses {
			eps = append(eps, ep{e.ExternalFor(a), refEndpoint{addr: a}})
		}
		for _, src := range eps {
			for _, dst := range eps {
				if src.e.External && dst.e.External {
					continue
				}
				ports := reach.Ports(src.e, dst.e)
				for _, proto := range eval.Protocols {
					for _, port := range c.Ports {
						probes++
						want := ref.allowed(src.r, dst.r, proto, port)
						if want {
							allowed++
						}
						v := e.Explain(eval.Query{Src: src.e, Dst: dst.e, Protocol: proto, Port: port})
						if v.Egress.Cluster != nil || v.Ingress.Cluster != nil {
							decided++
						}
						if v.Allowed != want || ports.Contains(proto, port) != want {
							t.Fatalf("seed %d: %v -> %v %d/%s: reference %v, Explain %v, Reachability %v (%s)\n%s",
								seed, src.r, dst.r, port, proto, want, v.Allowed, ports.Contains(proto, port), ports, v)
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases, %d probes agree (%d allowed, %d decided by a cluster rule)", n, probes, allowed, decided)
}

// sameReachability fails unless a and b allow exactly the same ports
// between every two endpoints.
func sameReachability(t *testing.T, seed int, what string, u eval.Universe, a, b *eval.Evaluator) {
	t.Helper()
	if len(a.Externals()) != len(b.Externals()) {
		t.Fatalf("seed %d %s: %d address classes, want %d", seed, what, len(b.Externals()), len(a.Externals()))
	}
	ra, rb := a.Reachability(), b.Reachability()
	var all []eval.Endpoint
	for i := range u.Pods {
		all = append(all, eval.PodEndpoint(i))
	}
	for i := range a.Externals() {
		all = append(all, eval.ExternalEndpoint(i))
	}
	for _, s := range all {
		for _, d := range all {
			if pa, pb := ra.Ports(s, d), rb.Ports(s, d); !pa.Equal(pb) {
				t.Fatalf("seed %d %s: %v -> %v: New %s, NewWithClusterPolicies %s", seed, what, s, d, pa, pb)
			}
		}
	}
	if !slices.EqualFunc(ra.Flows(), rb.Flows(), func(x, y eval.Flow) bool { return x.Src == y.Src && x.Dst == y.Dst && x.Ports.Equal(y.Ports) }) {
		t.Fatalf("seed %d %s: Flows differ", seed, what)
	}
}

// TestClusterNoneIsNew: with no ClusterNetworkPolicies, or only ones that
// cannot change a verdict (an Admin tier that selects nobody or passes
// everything on, a Baseline tier that accepts everything), the tiered
// evaluator answers exactly as New, on evaltest's random cases. The
// inert ones force the tiered code paths.
func TestClusterNoneIsNew(t *testing.T) {
	all := metav1.LabelSelector{}
	nobody := metav1.LabelSelector{MatchLabels: map[string]string{"no-such-label": "x"}}
	everyone := func(action v1beta1.ClusterNetworkPolicyRuleAction) ([]v1beta1.ClusterNetworkPolicyIngressRule, []v1beta1.ClusterNetworkPolicyEgressRule) {
		return []v1beta1.ClusterNetworkPolicyIngressRule{{Action: action, From: []v1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: &all}}}},
			[]v1beta1.ClusterNetworkPolicyEgressRule{{Action: action, To: []v1beta1.ClusterNetworkPolicyEgressPeer{{Namespaces: &all}, {Networks: []v1beta1.CIDR{"0.0.0.0/0", "::/0"}}}}}
	}
	cnp := func(name string, tier v1beta1.Tier, subject *metav1.LabelSelector, action v1beta1.ClusterNetworkPolicyRuleAction) *v1beta1.ClusterNetworkPolicy {
		p := &v1beta1.ClusterNetworkPolicy{}
		p.Name, p.Spec.Tier, p.Spec.Subject.Namespaces = name, tier, subject
		p.Spec.Ingress, p.Spec.Egress = everyone(action)
		return p
	}
	inert := map[string][]*v1beta1.ClusterNetworkPolicy{
		"none":            nil,
		"empty":           {},
		"admin-nobody":    {cnp("deny-nobody", v1beta1.AdminTier, &nobody, v1beta1.ClusterNetworkPolicyRuleActionDeny)},
		"admin-pass":      {cnp("pass-all", v1beta1.AdminTier, &all, v1beta1.ClusterNetworkPolicyRuleActionPass)},
		"baseline-accept": {cnp("accept-all", v1beta1.BaselineTier, &all, v1beta1.ClusterNetworkPolicyRuleActionAccept)},
	}
	names := []string{"none", "empty", "admin-nobody", "admin-pass", "baseline-accept"}
	n := 300
	if testing.Short() || raceEnabled {
		n = 60
	}
	for seed := 0; seed < n; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 17))
		c := evaltest.Random(rng, evaltest.RandomOptions{PodIPs: seed%2 == 0})
		c.Universe.Addresses = append(c.Universe.Addresses, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
		want, err := eval.New(c.Universe, c.Policies)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, name := range names {
			got, err := eval.NewWithClusterPolicies(c.Universe, c.Policies, inert[name])
			if err != nil {
				t.Fatalf("seed %d %s: %v", seed, name, err)
			}
			sameReachability(t, seed, name, c.Universe, want, got)
			for i := range c.Universe.Pods {
				if want.IsolatedIngress(i) {
					if a, b := want.IngressSide(i), got.IngressSide(i); !sameAdmits(a, b) {
						t.Fatalf("seed %d %s: IngressSide(%d): New %v, tiered %v", seed, name, i, a, b)
					}
				}
				if want.IsolatedEgress(i) {
					if a, b := want.EgressSide(i), got.EgressSide(i); !sameAdmits(a, b) {
						t.Fatalf("seed %d %s: EgressSide(%d): New %v, tiered %v", seed, name, i, a, b)
					}
				}
			}
		}
	}
}

func sameAdmits(a, b []eval.Admit) bool {
	return slices.EqualFunc(a, b, func(x, y eval.Admit) bool { return x.Peer == y.Peer && x.Ports.Equal(y.Ports) })
}
