package eval

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// DefaultNamespace is the namespace of a policy whose manifest names none:
// where `kubectl apply` puts it with a default context.
const DefaultNamespace = "default"

// Default returns p with the API server's defaults applied, as a cluster
// would store it (k8s.io/kubernetes pkg/apis/networking/v1 defaults.go): p
// itself when it needs none, as netdep's own policies never do (so treat the
// result as read-only), else a copy, leaving p as it was.
//
//   - spec.policyTypes, when empty, becomes [Ingress], plus Egress when
//     spec.egress has at least one rule. A policy that lists only Ingress
//     keeps any egress rules, and they do nothing.
//   - every port's protocol, when unset, becomes TCP.
//
// An empty namespace becomes DefaultNamespace. Nothing else changes: in
// particular nil and empty slices and selectors keep their distinct meanings.
func Default(p *networkingv1.NetworkPolicy) *networkingv1.NetworkPolicy {
	if defaulted(p) {
		// Copying every policy was over a quarter of verify's live heap
		// at 10,000 services.
		return p
	}
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

// defaulted reports whether Default would change nothing in p.
func defaulted(p *networkingv1.NetworkPolicy) bool {
	if p.Namespace == "" || len(p.Spec.PolicyTypes) == 0 {
		return false
	}
	for _, r := range p.Spec.Ingress {
		if !protocolsSet(r.Ports) {
			return false
		}
	}
	for _, r := range p.Spec.Egress {
		if !protocolsSet(r.Ports) {
			return false
		}
	}
	return true
}

func protocolsSet(ports []networkingv1.NetworkPolicyPort) bool {
	for _, p := range ports {
		if p.Protocol == nil {
			return false
		}
	}
	return true
}
