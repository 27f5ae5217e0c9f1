package eval_test

import (
	"net/netip"
	"slices"

	"github.com/netdep/netdep/generator/eval"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// reference is a deliberately naive evaluator written straight from the
// NetworkPolicy API reference, pair by pair, with no classes, bitsets or
// indexes. The fast evaluator must agree with it everywhere.
type reference struct {
	u        eval.Universe
	policies []*networkingv1.NetworkPolicy // defaulted
}

type refEndpoint struct {
	pod  *eval.Pod
	addr netip.Addr
}

func newReference(u eval.Universe, ps []*networkingv1.NetworkPolicy) *reference {
	r := &reference{u: u}
	for _, p := range ps {
		r.policies = append(r.policies, eval.Default(p))
	}
	return r
}

func matches(s *metav1.LabelSelector, l map[string]string) bool {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		panic(err)
	}
	return sel.Matches(labels.Set(l))
}

func (r *reference) nsLabels(ns string) map[string]string {
	out := map[string]string{}
	for _, n := range r.u.Namespaces {
		if n.Name == ns {
			for k, v := range n.Labels {
				out[k] = v
			}
		}
	}
	out[eval.NamespaceNameLabel] = ns
	return out
}

func (r *reference) allowed(src, dst refEndpoint, proto corev1.Protocol, port int32) bool {
	return r.direction(src, dst, dst, true, proto, port) && r.direction(dst, src, dst, false, proto, port)
}

func (r *reference) direction(self, peer, dst refEndpoint, egress bool, proto corev1.Protocol, port int32) bool {
	if self.pod == nil {
		return true
	}
	isolated := false
	for _, p := range r.policies {
		if p.Namespace != self.pod.Namespace || !matches(&p.Spec.PodSelector, self.pod.Labels) {
			continue
		}
		want := networkingv1.PolicyTypeIngress
		if egress {
			want = networkingv1.PolicyTypeEgress
		}
		if !slices.Contains(p.Spec.PolicyTypes, want) {
			continue
		}
		isolated = true
		if egress {
			for _, rule := range p.Spec.Egress {
				if r.peerMatch(p.Namespace, rule.To, peer) && portMatch(rule.Ports, dst, proto, port) {
					return true
				}
			}
		} else {
			for _, rule := range p.Spec.Ingress {
				if r.peerMatch(p.Namespace, rule.From, peer) && portMatch(rule.Ports, dst, proto, port) {
					return true
				}
			}
		}
	}
	return !isolated
}

func (r *reference) peerMatch(policyNS string, peers []networkingv1.NetworkPolicyPeer, e refEndpoint) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if p.IPBlock != nil {
			addrs := []netip.Addr{e.addr}
			if e.pod != nil {
				addrs = e.pod.IPs
			}
			for _, a := range addrs {
				if inBlock(p.IPBlock, a) {
					return true
				}
			}
			continue
		}
		if e.pod == nil {
			continue
		}
		if p.NamespaceSelector == nil {
			if e.pod.Namespace != policyNS {
				continue
			}
		} else if !matches(p.NamespaceSelector, r.nsLabels(e.pod.Namespace)) {
			continue
		}
		if p.PodSelector == nil || matches(p.PodSelector, e.pod.Labels) {
			return true
		}
	}
	return false
}

func inBlock(b *networkingv1.IPBlock, a netip.Addr) bool {
	if !netip.MustParsePrefix(b.CIDR).Contains(a) {
		return false
	}
	for _, e := range b.Except {
		if netip.MustParsePrefix(e).Contains(a) {
			return false
		}
	}
	return true
}

func portMatch(ports []networkingv1.NetworkPolicyPort, dst refEndpoint, proto corev1.Protocol, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if *p.Protocol != proto {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String:
			if dst.pod == nil {
				continue
			}
			for _, cp := range dst.pod.Ports {
				cpProto := cp.Protocol
				if cpProto == "" {
					cpProto = corev1.ProtocolTCP
				}
				if cp.Name == p.Port.StrVal && cpProto == proto && cp.ContainerPort == port {
					return true
				}
			}
		case p.EndPort != nil:
			if p.Port.IntVal <= port && port <= *p.EndPort {
				return true
			}
		default:
			if p.Port.IntVal == port {
				return true
			}
		}
	}
	return false
}
