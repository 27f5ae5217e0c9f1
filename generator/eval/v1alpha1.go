package eval

import (
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	v1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// AdminNetworkPolicy and BaselineAdminNetworkPolicy
// (policy.networking.k8s.io/v1alpha1) are evaluated as the
// ClusterNetworkPolicies (v1beta1) they are equivalent to, so that one
// evaluator serves both APIs. The conversion is exact, the inverse of
// generator/policy's ToV1Alpha1:
//
//   - an AdminNetworkPolicy is an Admin-tier ClusterNetworkPolicy of the
//     same name, priority, subject and rules in order; Allow becomes
//     Accept, Deny and Pass stay;
//   - the BaselineAdminNetworkPolicy (its CRD admits only the name
//     "default") is the Baseline tier: its rules in order, Allow becoming
//     Accept. v1beta1 admits 25 rules per direction and policy where
//     v1alpha1 admits 100, so a longer baseline is split, in order, into
//     policies named default, default-2, ..., default-4 of one priority
//     (ties are broken by name);
//   - ports become protocols: portNumber and portRange (protocol TCP when
//     omitted, as the CRD defaults it) and namedPort.
//
// The converted objects carry V1Alpha1KindAnnotation, so that a verdict
// names the object as written ("AdminNetworkPolicy netdep-deny-metadata
// rule deny-metadata, tier Admin").

// PolicyV1alpha1 is the API version of AdminNetworkPolicy and
// BaselineAdminNetworkPolicy.
const PolicyV1alpha1 = "policy.networking.k8s.io/v1alpha1"

// V1Alpha1KindAnnotation, on a ClusterNetworkPolicy the evaluator made
// from a v1alpha1 object, is that object's kind.
const V1Alpha1KindAnnotation = "netdep.io/evaluated-from-kind"

// BaselineAdminName is the one name a BaselineAdminNetworkPolicy may have.
const BaselineAdminName = "default"

// baselinePriority is the priority of the policies a
// BaselineAdminNetworkPolicy becomes: one tier of its own, so any.
const baselinePriority = 1000

// maxClusterRules is v1beta1's limit of rules per direction.
const maxClusterRules = 25

// FromAdminNetworkPolicy is the Admin-tier ClusterNetworkPolicy a is
// equivalent to. What has no v1beta1 equivalent (more than 25 rules in a
// direction, an unknown action) is an error at a's field.
func FromAdminNetworkPolicy(a *v1alpha1.AdminNetworkPolicy) (*v1beta1.ClusterNetworkPolicy, field.ErrorList) {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	p := &v1beta1.ClusterNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "ClusterNetworkPolicy"},
		ObjectMeta: fromMeta(a.ObjectMeta, "AdminNetworkPolicy"),
		Spec: v1beta1.ClusterNetworkPolicySpec{
			Tier:     v1beta1.AdminTier,
			Priority: a.Spec.Priority,
			Subject:  fromSubject(a.Spec.Subject),
		},
	}
	for _, d := range []struct {
		dir string
		n   int
	}{{"ingress", len(a.Spec.Ingress)}, {"egress", len(a.Spec.Egress)}} {
		if d.n > maxClusterRules {
			errs = append(errs, field.Invalid(spec.Child(d.dir), d.n, fmt.Sprintf("%d rules: ClusterNetworkPolicy v1beta1, which netdep evaluates it as, admits %d per direction", d.n, maxClusterRules)))
		}
	}
	for i, r := range a.Spec.Ingress {
		p.Spec.Ingress = append(p.Spec.Ingress, v1beta1.ClusterNetworkPolicyIngressRule{
			Name:      r.Name,
			Action:    fromAction(string(r.Action), spec.Child("ingress").Index(i).Child("action"), true, &errs),
			From:      fromIngressPeers(r.From),
			Protocols: fromPorts(r.Ports, spec.Child("ingress").Index(i).Child("ports"), &errs),
		})
	}
	for i, r := range a.Spec.Egress {
		to := make([]v1beta1.ClusterNetworkPolicyEgressPeer, 0, len(r.To))
		for _, peer := range r.To {
			to = append(to, v1beta1.ClusterNetworkPolicyEgressPeer{
				Namespaces:  peer.Namespaces.DeepCopy(),
				Pods:        fromPods(peer.Pods),
				Nodes:       peer.Nodes.DeepCopy(),
				Networks:    fromCIDRs(peer.Networks),
				DomainNames: fromDomainNames(peer.DomainNames),
			})
		}
		p.Spec.Egress = append(p.Spec.Egress, v1beta1.ClusterNetworkPolicyEgressRule{
			Name:      r.Name,
			Action:    fromAction(string(r.Action), spec.Child("egress").Index(i).Child("action"), true, &errs),
			To:        to,
			Protocols: fromPorts(r.Ports, spec.Child("egress").Index(i).Child("ports"), &errs),
		})
	}
	return p, errs
}

// FromBaselineAdminNetworkPolicy is the Baseline tier b is equivalent to:
// one ClusterNetworkPolicy named after b, or more when a direction has
// over 25 rules (see the package's note above). Its name must be
// "default", as the CRD requires.
func FromBaselineAdminNetworkPolicy(b *v1alpha1.BaselineAdminNetworkPolicy) ([]*v1beta1.ClusterNetworkPolicy, field.ErrorList) {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if b.Name != BaselineAdminName {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), b.Name, "a BaselineAdminNetworkPolicy must be named \"default\" (its CRD admits one per cluster)"))
	}
	var in []v1beta1.ClusterNetworkPolicyIngressRule
	var eg []v1beta1.ClusterNetworkPolicyEgressRule
	for i, r := range b.Spec.Ingress {
		in = append(in, v1beta1.ClusterNetworkPolicyIngressRule{
			Name:      r.Name,
			Action:    fromAction(string(r.Action), spec.Child("ingress").Index(i).Child("action"), false, &errs),
			From:      fromIngressPeers(r.From),
			Protocols: fromPorts(r.Ports, spec.Child("ingress").Index(i).Child("ports"), &errs),
		})
	}
	for i, r := range b.Spec.Egress {
		to := make([]v1beta1.ClusterNetworkPolicyEgressPeer, 0, len(r.To))
		for _, peer := range r.To {
			to = append(to, v1beta1.ClusterNetworkPolicyEgressPeer{
				Namespaces: peer.Namespaces.DeepCopy(),
				Pods:       fromPods(peer.Pods),
				Nodes:      peer.Nodes.DeepCopy(),
				Networks:   fromCIDRs(peer.Networks),
			})
		}
		eg = append(eg, v1beta1.ClusterNetworkPolicyEgressRule{
			Name:      r.Name,
			Action:    fromAction(string(r.Action), spec.Child("egress").Index(i).Child("action"), false, &errs),
			To:        to,
			Protocols: fromPorts(r.Ports, spec.Child("egress").Index(i).Child("ports"), &errs),
		})
	}
	var out []*v1beta1.ClusterNetworkPolicy
	for k := 0; k == 0 || k*maxClusterRules < max(len(in), len(eg)); k++ {
		name := b.Name
		if k > 0 {
			name = fmt.Sprintf("%s-%d", b.Name, k+1)
		}
		p := &v1beta1.ClusterNetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "ClusterNetworkPolicy"},
			ObjectMeta: fromMeta(b.ObjectMeta, "BaselineAdminNetworkPolicy"),
			Spec: v1beta1.ClusterNetworkPolicySpec{
				Tier:     v1beta1.BaselineTier,
				Priority: baselinePriority,
				Subject:  fromSubject(b.Spec.Subject),
				Ingress:  chunk(in, k),
				Egress:   chunk(eg, k),
			},
		}
		p.Name = name
		out = append(out, p)
	}
	return out, errs
}

func chunk[T any](rules []T, k int) []T {
	lo, hi := k*maxClusterRules, min((k+1)*maxClusterRules, len(rules))
	if lo >= hi {
		return nil
	}
	return rules[lo:hi]
}

func fromMeta(m metav1.ObjectMeta, kind string) metav1.ObjectMeta {
	ann := maps.Clone(m.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	ann[V1Alpha1KindAnnotation] = kind
	return metav1.ObjectMeta{Name: m.Name, Labels: maps.Clone(m.Labels), Annotations: ann}
}

func fromAction(a string, path *field.Path, admin bool, errs *field.ErrorList) v1beta1.ClusterNetworkPolicyRuleAction {
	switch {
	case a == "Allow":
		return v1beta1.ClusterNetworkPolicyRuleActionAccept
	case a == "Deny":
		return v1beta1.ClusterNetworkPolicyRuleActionDeny
	case a == "Pass" && admin:
		return v1beta1.ClusterNetworkPolicyRuleActionPass
	}
	want := []string{"Allow", "Deny"}
	if admin {
		want = append(want, "Pass")
	}
	*errs = append(*errs, field.NotSupported(path, a, want))
	return v1beta1.ClusterNetworkPolicyRuleAction(a)
}

func fromSubject(s v1alpha1.AdminNetworkPolicySubject) v1beta1.ClusterNetworkPolicySubject {
	return v1beta1.ClusterNetworkPolicySubject{Namespaces: s.Namespaces.DeepCopy(), Pods: fromPods(s.Pods)}
}

func fromPods(p *v1alpha1.NamespacedPod) *v1beta1.NamespacedPod {
	if p == nil {
		return nil
	}
	return &v1beta1.NamespacedPod{NamespaceSelector: *p.NamespaceSelector.DeepCopy(), PodSelector: *p.PodSelector.DeepCopy()}
}

func fromIngressPeers(from []v1alpha1.AdminNetworkPolicyIngressPeer) []v1beta1.ClusterNetworkPolicyIngressPeer {
	if from == nil {
		return nil
	}
	out := make([]v1beta1.ClusterNetworkPolicyIngressPeer, 0, len(from))
	for _, peer := range from {
		out = append(out, v1beta1.ClusterNetworkPolicyIngressPeer{Namespaces: peer.Namespaces.DeepCopy(), Pods: fromPods(peer.Pods)})
	}
	return out
}

// fromPorts converts ports to protocols: nil (every port) stays nil, an
// empty list stays empty (which validation refuses, as the CRD does).
func fromPorts(ports *[]v1alpha1.AdminNetworkPolicyPort, path *field.Path, errs *field.ErrorList) []v1beta1.ClusterNetworkPolicyProtocol {
	if ports == nil {
		return nil
	}
	out := make([]v1beta1.ClusterNetworkPolicyProtocol, 0, len(*ports))
	for k, p := range *ports {
		n := 0
		for _, set := range []bool{p.NamedPort != nil, p.PortNumber != nil, p.PortRange != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			*errs = append(*errs, field.Invalid(path.Index(k), n, "exactly one of portNumber, portRange and namedPort must be set"))
		}
		var pr v1beta1.ClusterNetworkPolicyProtocol
		var proto corev1.Protocol
		var dp *v1beta1.Port
		switch {
		case p.NamedPort != nil:
			pr.DestinationNamedPort = *p.NamedPort
		case p.PortNumber != nil:
			proto, dp = p.PortNumber.Protocol, &v1beta1.Port{Number: p.PortNumber.Port}
		case p.PortRange != nil:
			proto, dp = p.PortRange.Protocol, &v1beta1.Port{Range: &v1beta1.PortRange{Start: p.PortRange.Start, End: p.PortRange.End}}
		}
		if dp != nil {
			switch proto {
			case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
			default:
				*errs = append(*errs, field.NotSupported(path.Index(k).Child("protocol"), proto, []string{"TCP", "UDP", "SCTP"}))
			}
			switch proto {
			case corev1.ProtocolUDP:
				pr.UDP = &v1beta1.ClusterNetworkPolicyProtocolUDP{DestinationPort: dp}
			case corev1.ProtocolSCTP:
				pr.SCTP = &v1beta1.ClusterNetworkPolicyProtocolSCTP{DestinationPort: dp}
			default: // TCP, and the CRD's default when omitted
				pr.TCP = &v1beta1.ClusterNetworkPolicyProtocolTCP{DestinationPort: dp}
			}
		}
		out = append(out, pr)
	}
	return out
}

func fromCIDRs(in []v1alpha1.CIDR) []v1beta1.CIDR {
	if in == nil {
		return nil
	}
	out := make([]v1beta1.CIDR, len(in))
	for i, c := range in {
		out[i] = v1beta1.CIDR(c)
	}
	return out
}

func fromDomainNames(in []v1alpha1.DomainName) []v1beta1.DomainName {
	if in == nil {
		return nil
	}
	out := make([]v1beta1.DomainName, len(in))
	for i, d := range in {
		out[i] = v1beta1.DomainName(d)
	}
	return out
}
