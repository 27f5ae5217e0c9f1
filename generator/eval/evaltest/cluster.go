package evaltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/netdep/netdep/generator/eval"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// clusterCIDRs are the networks ClusterNetworkPolicy egress rules draw
// from: 10.0.0.0/16 holds the pods' IPs (RandomOptions.PodIPs).
var clusterCIDRs = []v1beta1.CIDR{"10.0.0.0/16", "10.0.1.0/24", "10.0.0.0/8", "0.0.0.0/0", "192.168.0.0/16", "8.8.8.0/24", "2001:db8::/32", "::/0"}

// RandomClusterPolicies returns up to n valid ClusterNetworkPolicies
// (policy.networking.k8s.io/v1beta1) for c's universe: both tiers, every
// action, few distinct priorities so that ties happen, namespaces, pods and
// networks peers, port numbers, ranges and named ports. No nodes or
// domainNames peers: package eval does not evaluate them.
func RandomClusterPolicies(rng *rand.Rand, n int) []*v1beta1.ClusterNetworkPolicy {
	g := gen{rng: rng}
	var out []*v1beta1.ClusterNetworkPolicy
	for i := range rng.IntN(n + 1) {
		p := &v1beta1.ClusterNetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "policy.networking.k8s.io/v1beta1", Kind: "ClusterNetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cnp%d", i)},
		}
		p.Spec.Tier = v1beta1.AdminTier
		if g.chance(2) {
			p.Spec.Tier = v1beta1.BaselineTier
		}
		p.Spec.Priority = []int32{0, 10, 10, 50, 1000}[rng.IntN(5)]
		if g.chance(2) {
			p.Spec.Subject.Namespaces = g.selector(nsKeys, nsVals)
		} else {
			p.Spec.Subject.Pods = g.namespacedPod()
		}
		for range rng.IntN(4) {
			r := v1beta1.ClusterNetworkPolicyIngressRule{Action: g.action(), Protocols: g.clusterProtocols(true)}
			if g.chance(2) {
				r.Name = fmt.Sprintf("in%d", len(p.Spec.Ingress))
			}
			for range 1 + rng.IntN(2) {
				var peer v1beta1.ClusterNetworkPolicyIngressPeer
				if g.chance(2) {
					peer.Namespaces = g.selector(nsKeys, nsVals)
				} else {
					peer.Pods = g.namespacedPod()
				}
				r.From = append(r.From, peer)
			}
			p.Spec.Ingress = append(p.Spec.Ingress, r)
		}
		for range rng.IntN(4) {
			networks := g.chance(2)
			r := v1beta1.ClusterNetworkPolicyEgressRule{Action: g.action(), Protocols: g.clusterProtocols(!networks)}
			if g.chance(2) {
				r.Name = fmt.Sprintf("eg%d", len(p.Spec.Egress))
			}
			for range 1 + rng.IntN(2) {
				var peer v1beta1.ClusterNetworkPolicyEgressPeer
				switch {
				case networks && g.chance(2):
					for _, k := range rng.Perm(len(clusterCIDRs))[:1+rng.IntN(2)] {
						peer.Networks = append(peer.Networks, clusterCIDRs[k])
					}
				case g.chance(2):
					peer.Namespaces = g.selector(nsKeys, nsVals)
				default:
					peer.Pods = g.namespacedPod()
				}
				r.To = append(r.To, peer)
			}
			p.Spec.Egress = append(p.Spec.Egress, r)
		}
		out = append(out, p)
	}
	return out
}

func (g gen) action() v1beta1.ClusterNetworkPolicyRuleAction {
	return []v1beta1.ClusterNetworkPolicyRuleAction{
		v1beta1.ClusterNetworkPolicyRuleActionAccept,
		v1beta1.ClusterNetworkPolicyRuleActionDeny,
		v1beta1.ClusterNetworkPolicyRuleActionPass,
	}[g.rng.IntN(3)]
}

func (g gen) namespacedPod() *v1beta1.NamespacedPod {
	p := &v1beta1.NamespacedPod{PodSelector: *g.selector(labelKeys, labelVals)}
	if g.chance(3) {
		p.NamespaceSelector = metav1.LabelSelector{MatchLabels: map[string]string{eval.NamespaceNameLabel: nsNames[g.rng.IntN(len(nsNames))]}}
	} else {
		p.NamespaceSelector = *g.selector(nsKeys, nsVals)
	}
	return p
}

func (g gen) clusterProtocols(named bool) []v1beta1.ClusterNetworkPolicyProtocol {
	if g.chance(3) {
		return nil
	}
	var out []v1beta1.ClusterNetworkPolicyProtocol
	for range 1 + g.rng.IntN(3) {
		var port v1beta1.Port
		if g.chance(3) {
			from := probePorts[g.rng.IntN(len(probePorts))]
			port.Range = &v1beta1.PortRange{Start: from, End: from + 1 + int32(g.rng.IntN(9000))}
		} else {
			port.Number = probePorts[g.rng.IntN(len(probePorts))]
		}
		var p v1beta1.ClusterNetworkPolicyProtocol
		switch g.rng.IntN(4) {
		case 0:
			p.TCP = &v1beta1.ClusterNetworkPolicyProtocolTCP{DestinationPort: &port}
		case 1:
			p.UDP = &v1beta1.ClusterNetworkPolicyProtocolUDP{DestinationPort: &port}
		case 2:
			p.SCTP = &v1beta1.ClusterNetworkPolicyProtocolSCTP{DestinationPort: &port}
		case 3:
			if !named {
				p.TCP = &v1beta1.ClusterNetworkPolicyProtocolTCP{DestinationPort: &port}
				break
			}
			p.DestinationNamedPort = []string{"http", "dns", "dns-tcp", "metrics", "sctp", "nope"}[g.rng.IntN(6)]
		}
		out = append(out, p)
	}
	return out
}
