package eval

import (
	"slices"

	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// One side of the policies on its own. A connection is allowed when the
// source's egress and the destination's ingress both allow it; Reachability
// answers for the pair. The sides answer for one end each, with the other
// end assumed open: what a pod's ingress rules admit from every source as
// if every source's egress were open, and what its egress rules let it
// reach as if every destination's ingress were open. A side that is wider
// than declared is a hole even when the other side hides it today: relax
// the other side, or put the peer in a namespace nobody isolates, and the
// extra traffic is live.

// Admit is one peer of a side and the ports that side allows with it.
type Admit struct {
	Peer  Endpoint
	Ports PortSet
}

// IsolatedIngress reports whether a policy isolates pod i for ingress.
func (e *Evaluator) IsolatedIngress(pod int) bool {
	return e.ingressIso.has(e.podClass[pod])
}

// IsolatedEgress reports whether a policy isolates pod i for egress.
func (e *Evaluator) IsolatedEgress(pod int) bool {
	return e.egressIso.has(e.podClass[pod])
}

// OpenIngress reports whether one of the ingress rules of the policies
// isolating pod i admits every source on every port (a rule without from
// and ports, as `ingress: [{}]`): the pod is isolated, yet its ingress is
// restricted by nothing. NetworkPolicies only; false for a pod no policy
// isolates.
func (e *Evaluator) OpenIngress(pod int) bool { return e.openSide(e.inPols[e.podClass[pod]], false) }

// OpenEgress is OpenIngress for egress (`egress: [{}]`, an allow-egress
// policy over a namespace's default deny).
func (e *Evaluator) OpenEgress(pod int) bool { return e.openSide(e.egPols[e.podClass[pod]], true) }

func (e *Evaluator) openSide(pols []int32, egress bool) bool {
	for _, pi := range pols {
		rules := e.pols[pi].inRules
		if egress {
			rules = e.pols[pi].egRules
		}
		for _, r := range rules {
			if r.allPeers && r.ports.all {
				return true
			}
		}
	}
	return false
}

// IngressSide returns the sources pod dst's ingress admits and on which
// ports (resolved on dst), whatever the sources' egress says; nil when no
// policy isolates dst for ingress (it admits everyone on every port).
// Sources are sorted, pods by index, then address classes; dst itself is
// left out.
//
// With ClusterNetworkPolicies the side goes through the tiers; it is nil
// when neither a NetworkPolicy nor a ClusterNetworkPolicy with ingress rules
// selects dst.
func (e *Evaluator) IngressSide(dst int) []Admit {
	c := e.podClass[dst]
	if len(e.cnps) > 0 {
		return e.clusterSide(false, c, PodEndpoint(dst))
	}
	if !e.ingressIso.has(c) {
		return nil
	}
	acc := map[int]PortSet{}
	for _, pi := range e.inPols[c] {
		for ri := range e.pols[pi].inRules {
			r := &e.pols[pi].inRules[ri]
			ps := e.resolve(&r.ports, c)
			if ps.IsEmpty() {
				continue
			}
			r.peers.each(func(s int) { acc[s] = acc[s].Union(ps) })
		}
	}
	return e.expandSide(acc, PodEndpoint(dst))
}

// EgressSide returns the destinations pod src's egress lets it reach and on
// which ports (resolved on each destination), whatever the destinations'
// ingress says; nil when no policy isolates src for egress. Destinations are
// sorted as IngressSide's sources; src itself is left out.
// With ClusterNetworkPolicies, as IngressSide.
func (e *Evaluator) EgressSide(src int) []Admit {
	c := e.podClass[src]
	if len(e.cnps) > 0 {
		return e.clusterSide(true, c, PodEndpoint(src))
	}
	if !e.egressIso.has(c) {
		return nil
	}
	acc := map[int]PortSet{}
	for _, pi := range e.egPols[c] {
		for ri := range e.pols[pi].egRules {
			r := &e.pols[pi].egRules[ri]
			r.peers.each(func(d int) {
				if ps := e.resolve(&r.ports, d); !ps.IsEmpty() {
					acc[d] = acc[d].Union(ps)
				}
			})
		}
	}
	return e.expandSide(acc, PodEndpoint(src))
}

// clusterSide is IngressSide or EgressSide through the tiers.
func (e *Evaluator) clusterSide(egress bool, c int, self Endpoint) []Admit {
	if egress && !e.egressIso.has(c) && !e.clusterEg.has(c) ||
		!egress && !e.ingressIso.has(c) && !e.clusterIn.has(c) {
		return nil
	}
	acc := map[int]PortSet{}
	for peer := 0; peer < e.nEP; peer++ {
		if ps := e.sidePorts(egress, c, peer); !ps.IsEmpty() {
			acc[peer] = ps
		}
	}
	return e.expandSide(acc, self)
}

// expandSide turns ports per endpoint class into ports per endpoint, self
// excepted, sorted.
func (e *Evaluator) expandSide(acc map[int]PortSet, self Endpoint) []Admit {
	out := []Admit{}
	for cl, ps := range acc {
		for _, m := range e.members(cl) {
			if m != self {
				out = append(out, Admit{Peer: m, Ports: ps})
			}
		}
	}
	sortAdmits(out)
	return out
}

func sortAdmits(as []Admit) {
	slices.SortFunc(as, func(a, b Admit) int { return compareEndpoints(a.Peer, b.Peer) })
}

// DenyTier reports which ClusterNetworkPolicy tier isolates pod i in one
// direction, "" for none: the first rule of its Admin policies that matches
// every peer on every port is a Deny or, when no NetworkPolicy isolates
// the pod that way (the Baseline tier is asked only then), the first such
// rule of its Baseline policies is. Every peer is every pod, and for
// egress every address as well (ingress peers of a ClusterNetworkPolicy
// are pods only, so a Baseline default deny leaves ingress from outside
// the cluster open; Reachability says so). A catch-all Accept decides the
// other way; a catch-all Admin Pass hands over to the NetworkPolicies. The
// rules before it are the exceptions a default deny has, as a
// NetworkPolicy's allow rules are.
func (e *Evaluator) DenyTier(pod int, egress bool) v1beta1.Tier {
	c := e.podClass[pod]
	if len(e.cnps) == 0 {
		return ""
	}
	admin, base, iso := e.adminIn[c], e.baseIn[c], e.ingressIso.has(c)
	if egress {
		admin, base, iso = e.adminEg[c], e.baseEg[c], e.egressIso.has(c)
	}
	every := e.nPod
	if egress {
		every = e.nEP
	}
	// decide walks one tier: the action of its first catch-all rule.
	decide := func(list []int32) (v1beta1.ClusterNetworkPolicyRuleAction, bool) {
		for _, ci := range list {
			rules := e.cnps[ci].inRules
			if egress {
				rules = e.cnps[ci].egRules
			}
			for i := range rules {
				r := &rules[i]
				if r.ports.all && r.peers.hasRange(0, every) {
					return r.action, true
				}
			}
		}
		return "", false
	}
	if a, ok := decide(admin); ok && a != v1beta1.ClusterNetworkPolicyRuleActionPass {
		if a == v1beta1.ClusterNetworkPolicyRuleActionDeny {
			return v1beta1.AdminTier
		}
		return ""
	}
	if iso {
		return ""
	}
	if a, ok := decide(base); ok && a == v1beta1.ClusterNetworkPolicyRuleActionDeny {
		return v1beta1.BaselineTier
	}
	return ""
}
