package verify

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// The guardrail checks. A guardrail promises something whatever the teams'
// NetworkPolicies say, so comparing connections alone would miss a wrong
// guardrail that today's NetworkPolicies happen to hide (an isolation deny
// behind a namespace's own default deny). Two more directions compare each
// side of every pod with the project file's guardrails, in three worlds:
//
//   - ClusterIngress, ClusterEgress: the ClusterNetworkPolicies on their own,
//     no NetworkPolicy anywhere: the Admin tier, then the Baseline tier
//     (default deny), then allowed. This is what a team deleting its
//     policies gets.
//   - OpenIngress, OpenEgress: the Admin tier over NetworkPolicies that
//     allow everything: everything but what the Admin Denies deny, which a
//     team's policies cannot open.
//   - ClosedIngress, ClosedEgress: the Admin tier over NetworkPolicies that
//     deny everything: exactly what the Admin Accepts let through, which a
//     team's policies cannot take away.
const (
	ClusterIngress = "cluster-ingress"
	ClusterEgress  = "cluster-egress"
	OpenIngress    = "admin-open-ingress"
	OpenEgress     = "admin-open-egress"
	ClosedIngress  = "admin-closed-ingress"
	ClosedEgress   = "admin-closed-egress"
)

// checkGuardrails adds the differences of the guardrail checks to c.r; it
// does nothing when neither the environment nor the manifests have
// guardrails.
//
// Without guardrails in the project file the checks are not run: cluster
// policies read with foreign manifests are then judged by the connection
// and side checks alone, as any policy is.
func (c *checker) checkGuardrails(cnps []*v1beta1.ClusterNetworkPolicy) error {
	c.overridden()
	if c.d.env.Guardrails == nil {
		return nil
	}
	u := c.w.Universe
	alone, err := eval.NewWithClusterPolicies(u, nil, cnps)
	if err != nil {
		return err
	}
	open, err := eval.NewWithClusterPolicies(u, everyNamespace(u, true), cnps)
	if err != nil {
		return err
	}
	closed, err := eval.NewWithClusterPolicies(u, everyNamespace(u, false), cnps)
	if err != nil {
		return err
	}
	main := c.ev
	defer func() { c.ev = main }()
	c.ev = alone
	c.compareTier(alone, ClusterIngress, ClusterEgress, c.d.clusterSide)
	c.ev = open
	c.compareTier(open, OpenIngress, OpenEgress, func(self int, peer eval.Endpoint, externals []eval.External, egress bool) eval.PortSet {
		accepted, open := c.d.adminSide(self, peer, externals, egress)
		return accepted.Union(open)
	})
	c.ev = closed
	c.compareTier(closed, ClosedIngress, ClosedEgress, func(self int, peer eval.Endpoint, externals []eval.External, egress bool) eval.PortSet {
		accepted, _ := c.d.adminSide(self, peer, externals, egress)
		return accepted
	})
	return nil
}

// compareTier compares both sides of every pod, over every peer, as ev
// evaluates them with what want declares.
func (c *checker) compareTier(ev *eval.Evaluator, inDir, egDir string, want func(self int, peer eval.Endpoint, externals []eval.External, egress bool) eval.PortSet) {
	nPods := len(c.w.Universe.Pods)
	for i := 0; i < nPods; i++ {
		for _, egress := range []bool{false, true} {
			side, dir := ev.IngressSide(i), inDir
			if egress {
				side, dir = ev.EgressSide(i), egDir
			}
			got := map[eval.Endpoint]eval.PortSet{}
			for _, a := range side {
				got[a.Peer] = a.Ports
			}
			for p := 0; p < nPods+len(c.externals); p++ {
				peer := eval.PodEndpoint(p)
				if p >= nPods {
					peer = eval.ExternalEndpoint(p - nPods)
				}
				if p == i {
					continue
				}
				have, ok := got[peer]
				if side == nil {
					have, ok = eval.AllPorts(), true
				}
				if !ok {
					have = eval.PortSet{}
				}
				w := want(i, peer, c.externals, egress)
				if w.Equal(have) {
					continue
				}
				src, dst := peer, eval.PodEndpoint(i)
				sideDir := Ingress
				if egress {
					src, dst, sideDir = dst, peer, Egress
				}
				for _, m := range []struct {
					missing bool
					ps      eval.PortSet
				}{{true, w.Subtract(have)}, {false, have.Subtract(w)}} {
					if m.ps.IsEmpty() {
						continue
					}
					d := c.difference(sideDir, src, dst, m.ps)
					d.Direction = dir
					if m.missing {
						c.r.Missing = append(c.r.Missing, d)
					} else {
						c.r.Excess = append(c.r.Excess, d)
					}
				}
			}
		}
	}
}

// clusterSide is what the guardrails alone declare for one side: the Admin
// tier's decisions, then the Baseline default deny where the environment
// puts it (which cannot deny ingress from outside the cluster: the API's
// ingress peers are pods), then everything.
func (d *declared) clusterSide(self int, peer eval.Endpoint, externals []eval.External, egress bool) eval.PortSet {
	accepted, open := d.adminSide(self, peer, externals, egress)
	if d.env.BaselineDeny(d.spec.Namespace(d.w.Universe.Pods[self].Namespace)) && d.isolated(self, egress) && (egress || !peer.External) {
		return accepted
	}
	return accepted.Union(open)
}

// everyNamespace is one policy per namespace of u that isolates every pod
// both ways and admits everything (allow) or nothing.
func everyNamespace(u eval.Universe, allow bool) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, ns := range u.Namespaces {
		p := &networkingv1.NetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: "netdep-verify-every-pod", Namespace: ns.Name},
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			},
		}
		if allow {
			p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
			p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{}}
		}
		out = append(out, p)
	}
	return out
}

// Overridden is a declared edge marked overriddenBy a deny guardrail: the
// dependency file still declares it, and the guardrail is expected to win.
type Overridden struct {
	// Source is where the edge is declared (file:line:col).
	Source string `json:"source"`
	// Edge is "ns/svc -> peer ports", as the dependency file says it.
	Edge string `json:"edge"`
	// Guardrail is the guardrail's name.
	Guardrail string `json:"guardrail"`
}

// overridden lists the environment's overridden edges in c.r, once per
// entry.
func (c *checker) overridden() {
	seen := map[schema.Pos]bool{}
	for i := range c.d.env.Rules {
		r := &c.d.env.Rules[i]
		if r.OverriddenBy == "" || seen[r.Source] {
			continue
		}
		seen[r.Source] = true
		c.r.Overridden = append(c.r.Overridden, Overridden{Source: r.Source.String(), Edge: edgeText(r), Guardrail: r.OverriddenBy})
	}
}

// edgeText is a declared rule as its entry says it: "ns/svc -> peer ports".
func edgeText(r *schema.Rule) string {
	var peer string
	switch r.Peer.Kind {
	case schema.PeerService:
		peer = r.Peer.Service.ID()
	case schema.PeerCIDR:
		peer = r.Peer.CIDR
	default:
		peer = r.Peer.Namespace + "/" + world.PeerPodName(r.Peer.Selector)
	}
	src, dst := r.Service.ID(), peer
	if r.Direction == schema.Ingress {
		src, dst = peer, r.Service.ID()
	}
	return fmt.Sprintf("%s -> %s %s", src, dst, portSet(r.Ports, r.AnyPort))
}
