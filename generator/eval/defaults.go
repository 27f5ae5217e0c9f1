package eval

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// DefaultNamespace is the namespace of a policy whose manifest names none:
// where `kubectl apply` puts it with a default context.
const DefaultNamespace = "default"

// Default returns a copy of p with the API server's defaults applied, as a
// cluster would store it (k8s.io/kubernetes pkg/apis/networking/v1
// defaults.go):
//
//   - spec.policyTypes, when empty, becomes [Ingress], plus Egress when
//     spec.egress has at least one rule. A policy that lists only Ingress
//     keeps any egress rules, and they do nothing.
//   - every port's protocol, when unset, becomes TCP.
//
// An empty namespace becomes DefaultNamespace. Nothing else changes: in
// particular nil and empty slices and selectors keep their distinct meanings.
func Default(p *networkingv1.NetworkPolicy) *networkingv1.NetworkPolicy {
	p = p.DeepCopy()
	if p.Namespace == "" {
		p.Namespace = DefaultNamespace
	}
	if len(p.Spec.PolicyTypes) == 0 {
		p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(p.Spec.Egress) != 0 {
			p.Spec.PolicyTypes = append(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
	for i := range p.Spec.Ingress {
		defaultPorts(p.Spec.Ingress[i].Ports)
	}
	for i := range p.Spec.Egress {
		defaultPorts(p.Spec.Egress[i].Ports)
	}
	return p
}

func defaultPorts(ports []networkingv1.NetworkPolicyPort) {
	for i := range ports {
		if ports[i].Protocol == nil {
			tcp := corev1.ProtocolTCP
			ports[i].Protocol = &tcp
		}
	}
}
