package evaltest

import (
	"fmt"
	"math/rand/v2"

	"github.com/netdep/netdep/generator/eval"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Org returns an organisation shaped like netdep's generated output, with
// about `workloads` services (one pod each) in namespaces of 20: per
// namespace a default-deny (both directions) and an allow-dns, per service
// one policy selecting it with an ingress rule per distinct port set of its
// callers (2-8 peers, a fifth of them in other namespaces, namespaceSelector
// and podSelector in the same peer), the matching egress rules, a scrape
// rule for Prometheus, and for some services a CIDR rule. The universe adds
// kube-system (CoreDNS) and monitoring (Prometheus), unmanaged, and one
// unlabeled pod per namespace. Deterministic for a seed.
func Org(workloads int, seed uint64) (eval.Universe, []*networkingv1.NetworkPolicy) {
	rng := rand.New(rand.NewPCG(seed, 42))
	const perNS = 20
	nNS := max(1, (workloads+perNS-1)/perNS)
	type svc struct {
		ns, name string
		ports    []corev1.ContainerPort
		callers  []int
		callees  []int
	}
	var svcs []svc
	var u eval.Universe
	u.Namespaces = append(u.Namespaces,
		eval.Namespace{Name: "kube-system"},
		eval.Namespace{Name: "monitoring", Labels: map[string]string{"purpose": "observability"}})
	u.Pods = append(u.Pods,
		eval.Pod{Namespace: "kube-system", Name: "coredns", Labels: map[string]string{"k8s-app": "kube-dns"},
			Ports: []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", ContainerPort: 53}}},
		eval.Pod{Namespace: "monitoring", Name: "prometheus", Labels: map[string]string{"app": "prometheus"}})
	for n := 0; n < nNS; n++ {
		ns := fmt.Sprintf("team-%03d", n)
		u.Namespaces = append(u.Namespaces, eval.Namespace{Name: ns, Labels: map[string]string{"tier": []string{"frontend", "backend", "data"}[n%3]}})
		u.Pods = append(u.Pods, eval.Pod{Namespace: ns, Name: "debug"})
		for i := 0; i < perNS && len(svcs) < workloads; i++ {
			s := svc{ns: ns, name: fmt.Sprintf("svc-%02d", i)}
			s.ports = []corev1.ContainerPort{{Name: "http", ContainerPort: []int32{8080, 8080, 80, 3000}[rng.IntN(4)]}}
			if rng.IntN(3) == 0 {
				s.ports = append(s.ports, corev1.ContainerPort{Name: "grpc", ContainerPort: 9090})
			}
			s.ports = append(s.ports, corev1.ContainerPort{Name: "metrics", ContainerPort: 9100})
			svcs = append(svcs, s)
		}
	}
	for i := range svcs {
		nCalls := 2 + rng.IntN(4)
		for c := 0; c < nCalls; c++ {
			var j int
			if rng.IntN(5) == 0 {
				j = rng.IntN(len(svcs))
			} else {
				base := i / perNS * perNS
				j = base + rng.IntN(min(perNS, len(svcs)-base))
			}
			if j == i {
				continue
			}
			svcs[i].callees = append(svcs[i].callees, j)
			svcs[j].callers = append(svcs[j].callers, i)
		}
	}
	for _, s := range svcs {
		u.Pods = append(u.Pods, eval.Pod{Namespace: s.ns, Name: s.name + "-0", Labels: map[string]string{"app": s.name, "version": "v1"}, Ports: s.ports})
	}

	var ps []*networkingv1.NetworkPolicy
	both := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	for n := 0; n < nNS; n++ {
		ns := fmt.Sprintf("team-%03d", n)
		ps = append(ps,
			policy(ns, "default-deny", metav1.LabelSelector{}, both, nil, nil),
			policy(ns, "allow-dns", metav1.LabelSelector{}, []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, nil,
				[]networkingv1.NetworkPolicyEgressRule{{
					To:    []networkingv1.NetworkPolicyPeer{peerOf(ns, "kube-system", map[string]string{"k8s-app": "kube-dns"})},
					Ports: []networkingv1.NetworkPolicyPort{numPort(53, corev1.ProtocolUDP), numPort(53, corev1.ProtocolTCP)},
				}}))
	}
	appPorts := func(s svc) []networkingv1.NetworkPolicyPort {
		var out []networkingv1.NetworkPolicyPort
		for _, p := range s.ports {
			if p.Name != "metrics" {
				out = append(out, numPort(p.ContainerPort, corev1.ProtocolTCP))
			}
		}
		return out
	}
	for i, s := range svcs {
		var in []networkingv1.NetworkPolicyIngressRule
		if len(s.callers) > 0 {
			r := networkingv1.NetworkPolicyIngressRule{Ports: appPorts(s)}
			for _, c := range dedupe(s.callers) {
				r.From = append(r.From, peerOf(s.ns, svcs[c].ns, map[string]string{"app": svcs[c].name}))
			}
			in = append(in, r)
		}
		in = append(in, networkingv1.NetworkPolicyIngressRule{
			From:  []networkingv1.NetworkPolicyPeer{peerOf(s.ns, "monitoring", map[string]string{"app": "prometheus"})},
			Ports: []networkingv1.NetworkPolicyPort{numPort(9100, corev1.ProtocolTCP)},
		})
		if i%10 == 0 {
			// a public frontend, reached by name
			http := intstr.FromString("http")
			in = append(in, networkingv1.NetworkPolicyIngressRule{
				From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}},
				Ports: []networkingv1.NetworkPolicyPort{{Port: &http}},
			})
		}
		var eg []networkingv1.NetworkPolicyEgressRule
		byPorts := map[string]int{}
		for _, c := range dedupe(s.callees) {
			ports := appPorts(svcs[c])
			key := fmt.Sprint(ports)
			k, ok := byPorts[key]
			if !ok {
				k = len(eg)
				byPorts[key] = k
				eg = append(eg, networkingv1.NetworkPolicyEgressRule{Ports: ports})
			}
			eg[k].To = append(eg[k].To, peerOf(s.ns, svcs[c].ns, map[string]string{"app": svcs[c].name}))
		}
		if i%7 == 0 {
			eg = append(eg, networkingv1.NetworkPolicyEgressRule{
				To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24", Except: []string{"203.0.113.8/29"}}}},
				Ports: []networkingv1.NetworkPolicyPort{numPort(443, corev1.ProtocolTCP)},
			})
		}
		ps = append(ps, policy(s.ns, s.name, metav1.LabelSelector{MatchLabels: map[string]string{"app": s.name}}, both, in, eg))
	}
	return u, ps
}

func dedupe(xs []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func policy(ns, name string, sel metav1.LabelSelector, types []networkingv1.PolicyType, in []networkingv1.NetworkPolicyIngressRule, eg []networkingv1.NetworkPolicyEgressRule) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app.kubernetes.io/managed-by": "netdep"}},
		Spec:       networkingv1.NetworkPolicySpec{PodSelector: sel, PolicyTypes: types, Ingress: in, Egress: eg},
	}
}

// peerOf is netdep's peer: the pod selector alone in the policy's own
// namespace, else namespaceSelector and podSelector in the same peer.
func peerOf(policyNS, ns string, labels map[string]string) networkingv1.NetworkPolicyPeer {
	p := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: labels}}
	if ns != policyNS {
		p.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{eval.NamespaceNameLabel: ns}}
	}
	return p
}

func numPort(n int32, proto corev1.Protocol) networkingv1.NetworkPolicyPort {
	v := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Port: &v, Protocol: &proto}
}
