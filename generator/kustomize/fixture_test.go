package kustomize

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netdep/netdep/generator/policy"
)

// Hand-built policies: small, but covering what the serialiser must keep
// apart (an empty podSelector {} versus an absent one, a namespaceSelector
// and podSelector ANDed in one peer, ipBlock except, UDP, endPort).

func meta(ns, name, wave string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace:   ns,
		Name:        name,
		Labels:      map[string]string{policy.ManagedByLabel: policy.ManagedByValue},
		Annotations: map[string]string{policy.SourceAnnotation: ns + "/deps.yaml", policy.SyncWaveAnnotation: wave},
	}
}

func port(proto corev1.Protocol, n int32) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &p}
}

func defaultDeny(ns string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: meta(ns, "default-deny", policy.DenyWave),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		},
	}
}

func allowDNS(ns string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: meta(ns, "allow-dns", policy.AllowWave),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolUDP, 53), port(corev1.ProtocolTCP, 53)},
			}},
		},
	}
}

func service(ns, name string, in []networkingv1.NetworkPolicyIngressRule, out []networkingv1.NetworkPolicyEgressRule) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: meta(ns, name, policy.AllowWave),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     in,
			Egress:      out,
		},
	}
}

func peer(ns, app string) networkingv1.NetworkPolicyPeer {
	p := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}}
	if ns != "" {
		p.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}
	}
	return p
}

// testSet has two environments; dev and prod each add one policy.
func testSet() *policy.Set {
	rangePort := port(corev1.ProtocolTCP, 9000)
	end := int32(9100)
	rangePort.EndPort = &end
	frontend := service("shop", "frontend",
		[]networkingv1.NetworkPolicyIngressRule{{
			From:  []networkingv1.NetworkPolicyPeer{peer("ingress-nginx", "controller")},
			Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 8080)},
		}},
		[]networkingv1.NetworkPolicyEgressRule{
			{To: []networkingv1.NetworkPolicyPeer{peer("", "cart")}, Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 7070)}},
			{To: []networkingv1.NetworkPolicyPeer{peer("payments", "gateway")}, Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 8443)}},
			{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24", Except: []string{"203.0.113.8/29"}}}}, Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 443)}},
		})
	cart := service("shop", "cart",
		[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{peer("", "frontend")}, Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 7070)}}},
		nil)
	gateway := service("payments", "gateway",
		[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{peer("shop", "frontend")}, Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 8443), rangePort}}},
		nil)
	debug := service("shop", "debug",
		[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{peer("", "frontend")}, Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 9000)}}},
		nil)
	audit := service("payments", "audit.v2", nil,
		[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.9.0.0/16"}}}, Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolSCTP, 3868)}}})
	return &policy.Set{
		Environments: []string{"dev", "prod"},
		Base: []*networkingv1.NetworkPolicy{
			allowDNS("payments"), defaultDeny("payments"), gateway,
			allowDNS("shop"), cart, defaultDeny("shop"), frontend,
		},
		Overlays: [][]*networkingv1.NetworkPolicy{
			{debug},
			{audit},
		},
	}
}

// baseOnlySet has no environments: only a base is written.
func baseOnlySet() *policy.Set {
	return &policy.Set{Base: []*networkingv1.NetworkPolicy{allowDNS("shop"), defaultDeny("shop")}}
}
