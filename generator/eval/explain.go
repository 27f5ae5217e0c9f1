package eval

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// Query is one connection: Src opens a connection to Dst on Protocol/Port.
type Query struct {
	Src, Dst Endpoint
	Protocol corev1.Protocol // empty means TCP
	Port     int32
}

// Verdict is the answer to a Query with its reasons. A connection is
// allowed when egress is allowed at the source and ingress at the
// destination.
type Verdict struct {
	Allowed bool
	Egress  Direction // at Src
	Ingress Direction // at Dst
}

// Direction is one side's decision. A pod that no policy isolates in this
// direction is open; an isolated pod allows what at least one rule of the
// isolating policies allows (policies are a union).
type Direction struct {
	Allowed bool
	// Isolating lists the policies whose policyTypes include this direction
	// and whose podSelector selects the pod; empty when not isolated.
	Isolating []PolicyRef
	// Allowing lists the rules (spec.ingress[i] or spec.egress[i]) that
	// match the peer and the port; empty when denied.
	Allowing []RuleRef
	// Closest is the isolating policy that selects the fewest pods (the
	// first of them on a tie): the one written for this pod rather than a
	// namespace's default-deny, where a missing rule belongs.
	Closest PolicyRef

	// With ClusterNetworkPolicies (NewWithClusterPolicies); both nil
	// otherwise. The fields above always describe the NetworkPolicy tier,
	// whether or not evaluation reached it.
	//
	// Cluster is the Accept or Deny rule that decided this direction, in
	// the Admin tier or, when no NetworkPolicy isolates the pod, in the
	// Baseline tier; nil when NetworkPolicies or the default decided.
	Cluster *ClusterRuleRef
	// Pass is the Admin tier Pass rule that sent evaluation on to the
	// NetworkPolicies, nil when none matched.
	Pass *ClusterRuleRef
}

// Explain decides one connection and names the policies and rules that
// decide it.
func (e *Evaluator) Explain(q Query) Verdict {
	proto := q.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	s, d := e.endpointClass(q.Src), e.endpointClass(q.Dst)
	dstPod := d
	if q.Dst.External {
		dstPod = -1
	}
	v := Verdict{
		Egress:  e.direction(q.Src, s, d, dstPod, true, proto, q.Port),
		Ingress: e.direction(q.Dst, d, s, dstPod, false, proto, q.Port),
	}
	v.Allowed = v.Egress.Allowed && v.Ingress.Allowed
	return v
}

// direction evaluates egress at self (peer is the destination) or ingress at
// self (peer is the source). Ports always resolve on the destination pod.
func (e *Evaluator) direction(self Endpoint, selfClass, peerClass, dstPod int, egress bool, proto corev1.Protocol, port int32) Direction {
	// Addresses outside the cluster are not isolated by any policy.
	if self.External {
		return Direction{Allowed: true}
	}
	pols := e.inPols[selfClass]
	if egress {
		pols = e.egPols[selfClass]
	}
	var out Direction
	closest := -1
	passOnly := true // every rule allowing is a Calico Pass
	for _, pi := range pols {
		p := &e.pols[pi]
		out.Isolating = append(out.Isolating, p.ref)
		if n := e.selectedPods(p); closest < 0 || n < closest {
			closest, out.Closest = n, p.ref
		}
		rules := p.inRules
		if egress {
			rules = p.egRules
		}
		for i := range rules {
			r := &rules[i]
			if r.peers.has(peerClass) && e.resolve(&r.ports, dstPod).Contains(proto, port) {
				out.Allowing = append(out.Allowing, RuleRef{p.ref, int(r.index)})
				passOnly = passOnly && r.pass
			}
		}
	}
	out.Allowed = len(out.Isolating) == 0 || len(out.Allowing) > 0
	if len(e.cnps) == 0 {
		return out
	}
	admin, base := e.adminIn[selfClass], e.baseIn[selfClass]
	if egress {
		admin, base = e.adminEg[selfClass], e.baseEg[selfClass]
	}
	if r := e.clusterDecide(admin, egress, peerClass, dstPod, proto, port); r != nil {
		if r.Action != v1beta1.ClusterNetworkPolicyRuleActionPass {
			out.Cluster = r
			out.Allowed = r.Action == v1beta1.ClusterNetworkPolicyRuleActionAccept
			return out
		}
		out.Pass = r
	}
	if len(out.Isolating) > 0 && !(out.Allowed && passOnly) {
		return out // the NetworkPolicy tier decides for pods it selects
	}
	if r := e.clusterDecide(base, egress, peerClass, dstPod, proto, port); r != nil {
		// A Baseline Pass goes on to the default: allowed.
		if r.Action != v1beta1.ClusterNetworkPolicyRuleActionPass {
			out.Cluster = r
			out.Allowed = r.Action == v1beta1.ClusterNetworkPolicyRuleActionAccept
		}
	}
	return out
}

// selectedPods is how many pods p selects.
func (e *Evaluator) selectedPods(p *cpolicy) int {
	n := 0
	for _, c := range p.selList {
		n += len(e.classes[c].pods)
	}
	return n
}

// String explains v in one line per direction, for people.
func (v Verdict) String() string {
	var b strings.Builder
	if v.Allowed {
		b.WriteString("allowed")
	} else {
		b.WriteString("denied")
	}
	for _, d := range []struct {
		name string
		dir  Direction
	}{{"egress", v.Egress}, {"ingress", v.Ingress}} {
		b.WriteString("\n  " + d.name + ": ")
		switch {
		case d.dir.Cluster != nil && d.dir.Allowed:
			b.WriteString("allowed by " + d.dir.Cluster.String())
		case d.dir.Cluster != nil:
			b.WriteString("denied by " + d.dir.Cluster.String())
		case len(d.dir.Isolating) == 0:
			b.WriteString("not isolated")
		case d.dir.Allowed:
			b.WriteString("allowed by " + joinRefs(d.dir.Allowing))
		default:
			b.WriteString(fmt.Sprintf("isolated by %s; no rule matches", joinRefs(d.dir.Isolating)))
		}
		if d.dir.Pass != nil && d.dir.Cluster == nil {
			b.WriteString(" (passed on by " + d.dir.Pass.String() + ")")
		}
	}
	return b.String()
}

func joinRefs[T fmt.Stringer](refs []T) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}
