package evaltest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/netdep/netdep/generator/eval"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Case is one random universe with its policies and the connections worth
// probing.
type Case struct {
	Universe  eval.Universe
	Policies  []*networkingv1.NetworkPolicy
	Addresses []netip.Addr // addresses outside the cluster to probe
	Ports     []int32      // port numbers to probe (with every protocol)
}

var (
	nsNames    = []string{"x", "y", "z", "w"}
	labelKeys  = []string{"app", "tier", "team"}
	labelVals  = []string{"a", "b", "c", ""}
	nsKeys     = []string{"team", "env"}
	nsVals     = []string{"a", "b", "prod"}
	probePorts = []int32{53, 80, 81, 5000, 8080, 9090, 9100}
	// containerPorts are the ports pods may listen on. Names repeat with
	// different numbers ("http" is 80 on some pods and 8080 on others) so
	// that named ports must resolve per destination pod.
	containerPorts = []corev1.ContainerPort{
		{Name: "http", ContainerPort: 80},
		{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
		{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
		{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
		{Name: "metrics", ContainerPort: 9090},
		{Name: "sctp", ContainerPort: 5000, Protocol: corev1.ProtocolSCTP},
		{ContainerPort: 9100},
	}
	cidrs = []struct {
		cidr   string
		except []string
	}{
		{"10.0.0.0/16", []string{"10.0.1.0/24"}},
		{"10.0.1.0/24", nil},
		{"10.0.0.0/8", []string{"10.0.2.0/24", "10.0.1.0/26"}},
		{"0.0.0.0/0", nil},
		{"0.0.0.0/0", []string{"10.0.0.0/8"}},
		{"192.168.0.0/16", nil},
		{"10.0.0.0/30", nil},
		{"2001:db8::/32", nil},
	}
	probeAddrs = []string{"10.0.1.9", "10.0.3.1", "10.200.0.1", "192.168.4.4", "8.8.8.8", "2001:db8::1"}
)

// RandomOptions tune Random.
type RandomOptions struct {
	// PodIPs gives every pod one IPv4 address in 10.0.0.0/16 so that
	// ipBlocks may match pods.
	PodIPs bool
	// NoNotIn and NoEmptyValues leave out selectors cyclonus reads
	// differently from the API server (see tests/cyclonus).
	NoNotIn       bool
	NoEmptyValues bool
}

// Random returns a reproducible random case for rng. Policies are valid as
// the API server would store them after defaulting, but often not yet
// defaulted (no policyTypes, no protocol), and use nil and empty fields
// alike.
func Random(rng *rand.Rand, opt RandomOptions) Case {
	g := gen{rng: rng, opt: opt}
	var c Case
	nNS := 1 + rng.IntN(len(nsNames))
	for i := 0; i < nNS; i++ {
		ns := eval.Namespace{Name: nsNames[i], Labels: g.labels(nsKeys, nsVals)}
		c.Universe.Namespaces = append(c.Universe.Namespaces, ns)
		nPods := 1 + rng.IntN(4)
		for j := 0; j < nPods; j++ {
			p := eval.Pod{Namespace: ns.Name, Name: fmt.Sprintf("p%d", j), Labels: g.labels(labelKeys, labelVals)}
			used := map[string]bool{}
			for _, k := range rng.Perm(len(containerPorts))[:rng.IntN(4)] {
				cp := containerPorts[k]
				proto := cp.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				num := fmt.Sprint(cp.ContainerPort, proto)
				if (cp.Name != "" && used[cp.Name]) || used[num] {
					continue
				}
				used[cp.Name], used[num] = true, true
				p.Ports = append(p.Ports, cp)
			}
			if opt.PodIPs {
				p.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(i), byte(j + 1)})}
			}
			c.Universe.Pods = append(c.Universe.Pods, p)
		}
	}
	nPol := rng.IntN(6)
	for i := 0; i < nPol; i++ {
		c.Policies = append(c.Policies, g.policy(fmt.Sprintf("np%d", i), nsNames[rng.IntN(nNS)]))
	}
	for _, a := range probeAddrs {
		c.Addresses = append(c.Addresses, netip.MustParseAddr(a))
	}
	c.Ports = probePorts
	return c
}

type gen struct {
	rng *rand.Rand
	opt RandomOptions
}

func (g gen) chance(n int) bool { return g.rng.IntN(n) == 0 }

func (g gen) labels(keys, vals []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if g.chance(2) {
			v := vals[g.rng.IntN(len(vals))]
			if v == "" && g.opt.NoEmptyValues {
				v = vals[0]
			}
			out[k] = v
		}
	}
	return out
}

func (g gen) selector(keys, vals []string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{}
	switch g.rng.IntN(4) {
	case 0: // {}
	case 1:
		s.MatchLabels = g.labels(keys, vals)
		if len(s.MatchLabels) == 0 {
			s.MatchLabels = nil
		}
	default:
		s.MatchLabels = g.labels(keys[:1], vals)
		if len(s.MatchLabels) == 0 {
			s.MatchLabels = nil
		}
		for n := g.rng.IntN(3); n > 0; n-- {
			ops := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist}
			if g.opt.NoNotIn {
				ops = []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist}
			}
			r := metav1.LabelSelectorRequirement{Key: keys[g.rng.IntN(len(keys))], Operator: ops[g.rng.IntN(len(ops))]}
			if r.Operator == metav1.LabelSelectorOpIn || r.Operator == metav1.LabelSelectorOpNotIn {
				for _, k := range g.rng.Perm(len(vals))[:1+g.rng.IntN(2)] {
					if vals[k] == "" && g.opt.NoEmptyValues {
						continue
					}
					r.Values = append(r.Values, vals[k])
				}
				if len(r.Values) == 0 {
					r.Values = []string{vals[0]}
				}
			}
			s.MatchExpressions = append(s.MatchExpressions, r)
		}
	}
	return s
}

func (g gen) policy(name, ns string) *networkingv1.NetworkPolicy {
	p := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
	}
	p.Spec.PodSelector = *g.selector(labelKeys, labelVals)
	switch g.rng.IntN(4) {
	case 0: // nil: defaulted from the rules
	case 1:
		p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	case 2:
		p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	case 3:
		p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	}
	nIn, nEg := g.rng.IntN(4)-1, g.rng.IntN(4)-1 // -1: nil, 0: empty list
	if nIn >= 0 {
		p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{}
		for i := 0; i < nIn; i++ {
			p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{Ports: g.ports(), From: g.peers()})
		}
	}
	if nEg >= 0 {
		p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{}
		for i := 0; i < nEg; i++ {
			p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{Ports: g.ports(), To: g.peers()})
		}
	}
	return p
}

func (g gen) ports() []networkingv1.NetworkPolicyPort {
	if g.chance(3) {
		if g.chance(2) {
			return []networkingv1.NetworkPolicyPort{}
		}
		return nil
	}
	var out []networkingv1.NetworkPolicyPort
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		var p networkingv1.NetworkPolicyPort
		if !g.chance(3) {
			protos := []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
			proto := protos[g.rng.IntN(len(protos))]
			p.Protocol = &proto
		}
		switch g.rng.IntN(5) {
		case 0: // every port of the protocol
		case 1, 2:
			v := intstr.FromInt32(probePorts[g.rng.IntN(len(probePorts))])
			p.Port = &v
		case 3:
			names := []string{"http", "dns", "dns-tcp", "metrics", "sctp", "nope"}
			v := intstr.FromString(names[g.rng.IntN(len(names))])
			p.Port = &v
		case 4:
			from := probePorts[g.rng.IntN(len(probePorts))]
			v := intstr.FromInt32(from)
			end := from + int32(g.rng.IntN(9000))
			p.Port, p.EndPort = &v, &end
		}
		out = append(out, p)
	}
	return out
}

func (g gen) peers() []networkingv1.NetworkPolicyPeer {
	if g.chance(3) {
		if g.chance(2) {
			return []networkingv1.NetworkPolicyPeer{}
		}
		return nil
	}
	var out []networkingv1.NetworkPolicyPeer
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		var p networkingv1.NetworkPolicyPeer
		switch g.rng.IntN(4) {
		case 0:
			p.PodSelector = g.selector(labelKeys, labelVals)
		case 1:
			p.NamespaceSelector = g.selector(nsKeys, nsVals)
		case 2:
			p.PodSelector = g.selector(labelKeys, labelVals)
			p.NamespaceSelector = g.selector(nsKeys, nsVals)
			if g.chance(3) {
				p.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{eval.NamespaceNameLabel: nsNames[g.rng.IntN(len(nsNames))]}}
			}
		case 3:
			b := cidrs[g.rng.IntN(len(cidrs))]
			p.IPBlock = &networkingv1.IPBlock{CIDR: b.cidr, Except: b.except}
		}
		out = append(out, p)
	}
	return out
}
