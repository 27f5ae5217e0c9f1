package policy

import (
	"reflect"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/schema"
)

// Names of the Baseline-tier default deny ClusterNetworkPolicies, one per
// isolated direction (a namespace isolated for ingress only must not lose
// its egress); in v1alpha1 mode one for both directions.
const (
	BaselineDenyIngressName = "netdep-default-deny-ingress"
	BaselineDenyEgressName  = "netdep-default-deny-egress"
	// BaselineDenyName is the one Baseline deny of v1alpha1 mode (both
	// directions, one subject: the BaselineAdminNetworkPolicy's).
	BaselineDenyName = "netdep-default-deny"
	// ClusterRuleDefaultDeny names the one rule of each.
	ClusterRuleDefaultDeny = "default-deny"
)

func baselineDenyIngress() []v1beta1.ClusterNetworkPolicyIngressRule {
	return []v1beta1.ClusterNetworkPolicyIngressRule{{Name: ClusterRuleDefaultDeny,
		Action: v1beta1.ClusterNetworkPolicyRuleActionDeny,
		From:   []v1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}}}}
}

func baselineDenyEgress() []v1beta1.ClusterNetworkPolicyEgressRule {
	return []v1beta1.ClusterNetworkPolicyEgressRule{{Name: ClusterRuleDefaultDeny,
		Action: v1beta1.ClusterNetworkPolicyRuleActionDeny,
		To: []v1beta1.ClusterNetworkPolicyEgressPeer{
			{Namespaces: &metav1.LabelSelector{}},
			{Networks: []v1beta1.CIDR{"0.0.0.0/0", "::/0"}},
		}}}
}

// ClusterPolicies builds the ClusterNetworkPolicies of one environment:
// the Baseline-tier default deny when the environment puts it there, and
// one Admin-tier policy per guardrail, sorted by name.
func ClusterPolicies(spec *schema.Spec, env *schema.Environment) []*v1beta1.ClusterNetworkPolicy {
	var out []*v1beta1.ClusterNetworkPolicy
	source := spec.ProjectFile
	if env.DefaultDeny().Baseline() {
		var in, eg, both []string
		for _, ns := range spec.Namespaces {
			if !env.BaselineDeny(ns) {
				continue
			}
			if ns.IsolateIngress {
				in = append(in, ns.Name)
			}
			if ns.IsolateEgress {
				eg = append(eg, ns.Name)
			}
			if ns.IsolateIngress && ns.IsolateEgress {
				both = append(both, ns.Name)
			}
		}
		if env.ClusterAPI() == schema.APIV1alpha1 {
			// One policy, one subject: it becomes the one
			// BaselineAdminNetworkPolicy (BaselineDeny covers only the
			// namespaces isolated both ways).
			if len(both) > 0 {
				p := clusterPolicy(BaselineDenyName, v1beta1.BaselineTier, schema.PriorityBaseline, source, DenyWave)
				p.Spec.Subject.Namespaces = namespacesIn(both)
				p.Spec.Ingress = baselineDenyIngress()
				p.Spec.Egress = baselineDenyEgress()
				out = append(out, p)
			}
		} else {
			if len(in) > 0 {
				p := clusterPolicy(BaselineDenyIngressName, v1beta1.BaselineTier, schema.PriorityBaseline, source, DenyWave)
				p.Spec.Subject.Namespaces = namespacesIn(in)
				p.Spec.Ingress = baselineDenyIngress()
				out = append(out, p)
			}
			if len(eg) > 0 {
				p := clusterPolicy(BaselineDenyEgressName, v1beta1.BaselineTier, schema.PriorityBaseline, source, DenyWave)
				p.Spec.Subject.Namespaces = namespacesIn(eg)
				p.Spec.Egress = baselineDenyEgress()
				out = append(out, p)
			}
		}
	}
	for _, g := range env.AdminGuardrails() {
		out = append(out, guardrailPolicy(g, source))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func clusterPolicy(name string, tier v1beta1.Tier, priority int32, source, wave string) *v1beta1.ClusterNetworkPolicy {
	return &v1beta1.ClusterNetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "ClusterNetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      map[string]string{ManagedByLabel: ManagedByValue},
			Annotations: map[string]string{SourceAnnotation: source, SyncWaveAnnotation: wave},
		},
		Spec: v1beta1.ClusterNetworkPolicySpec{Tier: tier, Priority: priority},
	}
}

// guardrailPolicy is one Admin-tier guardrail as a policy with one rule
// named after it. Accepts sync with the allows, Denies with default-deny.
func guardrailPolicy(g *schema.Guardrail, source string) *v1beta1.ClusterNetworkPolicy {
	wave := AllowWave
	action := v1beta1.ClusterNetworkPolicyRuleActionAccept
	if g.Deny {
		wave, action = DenyWave, v1beta1.ClusterNetworkPolicyRuleActionDeny
	}
	p := clusterPolicy(g.ObjectName(), v1beta1.AdminTier, g.Priority, source, wave)
	switch {
	case g.SubjectPods != nil:
		p.Spec.Subject.Pods = namespacedPod(g.SubjectPods.Namespace, g.SubjectPods.Selector)
	default:
		p.Spec.Subject.Namespaces = namespacesIn(g.SubjectNamespaces)
	}
	protos := protocols(g.Ports, g.AnyPort)
	if g.Egress {
		var to []v1beta1.ClusterNetworkPolicyEgressPeer
		var networks []v1beta1.CIDR
		switch {
		case g.PeerNamespaces != nil:
			to = append(to, v1beta1.ClusterNetworkPolicyEgressPeer{Namespaces: namespacesIn(g.PeerNamespaces)})
		case g.PeerNamespacesExcept != nil:
			to = append(to, v1beta1.ClusterNetworkPolicyEgressPeer{Namespaces: namespacesNotIn(g.PeerNamespacesExcept)})
		}
		for _, peer := range g.Peers {
			switch peer.Kind {
			case schema.PeerCIDR:
				networks = append(networks, v1beta1.CIDR(peer.CIDR))
			case schema.PeerSelector:
				ns, pods := selectorPeer(peer)
				to = append(to, v1beta1.ClusterNetworkPolicyEgressPeer{Namespaces: ns, Pods: pods})
			}
		}
		if networks != nil {
			to = append(to, v1beta1.ClusterNetworkPolicyEgressPeer{Networks: networks})
		}
		p.Spec.Egress = []v1beta1.ClusterNetworkPolicyEgressRule{{Name: g.Name, Action: action, To: to, Protocols: protos}}
		return p
	}
	var from []v1beta1.ClusterNetworkPolicyIngressPeer
	switch {
	case g.PeerNamespaces != nil:
		from = append(from, v1beta1.ClusterNetworkPolicyIngressPeer{Namespaces: namespacesIn(g.PeerNamespaces)})
	case g.PeerNamespacesExcept != nil:
		from = append(from, v1beta1.ClusterNetworkPolicyIngressPeer{Namespaces: namespacesNotIn(g.PeerNamespacesExcept)})
	}
	for _, peer := range g.Peers {
		if peer.Kind == schema.PeerSelector {
			ns, pods := selectorPeer(peer)
			from = append(from, v1beta1.ClusterNetworkPolicyIngressPeer{Namespaces: ns, Pods: pods})
		}
	}
	p.Spec.Ingress = []v1beta1.ClusterNetworkPolicyIngressRule{{Name: g.Name, Action: action, From: from, Protocols: protos}}
	return p
}

// selectorPeer is pods of one namespace: the whole namespace when the peer
// has no selector, else those pods.
func selectorPeer(p schema.Peer) (*metav1.LabelSelector, *v1beta1.NamespacedPod) {
	if p.Selector == nil {
		return &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceLabel: p.Namespace}}, nil
	}
	return nil, namespacedPod(p.Namespace, p.Selector)
}

func namespacedPod(ns string, sel map[string]string) *v1beta1.NamespacedPod {
	return &v1beta1.NamespacedPod{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{NamespaceLabel: ns}},
		PodSelector:       metav1.LabelSelector{MatchLabels: copyLabels(sel)},
	}
}

// namespacesIn selects the namespaces of those names (one name is written
// as matchLabels, the way NetworkPolicy peers are).
func namespacesIn(names []string) *metav1.LabelSelector {
	if len(names) == 1 {
		return &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceLabel: names[0]}}
	}
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: NamespaceLabel, Operator: metav1.LabelSelectorOpIn, Values: append([]string(nil), names...)}}}
}

func namespacesNotIn(names []string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: NamespaceLabel, Operator: metav1.LabelSelectorOpNotIn, Values: append([]string(nil), names...)}}}
}

// protocols renders ports; nil (every port) for any.
func protocols(ports []schema.Port, any bool) []v1beta1.ClusterNetworkPolicyProtocol {
	if any {
		return nil
	}
	var out []v1beta1.ClusterNetworkPolicyProtocol
	for _, p := range ports {
		dp := &v1beta1.Port{Number: p.Port}
		if p.EndPort > p.Port {
			dp = &v1beta1.Port{Range: &v1beta1.PortRange{Start: p.Port, End: p.EndPort}}
		}
		var pr v1beta1.ClusterNetworkPolicyProtocol
		switch p.Protocol {
		case corev1.ProtocolUDP:
			pr.UDP = &v1beta1.ClusterNetworkPolicyProtocolUDP{DestinationPort: dp}
		case corev1.ProtocolSCTP:
			pr.SCTP = &v1beta1.ClusterNetworkPolicyProtocolSCTP{DestinationPort: dp}
		default:
			pr.TCP = &v1beta1.ClusterNetworkPolicyProtocolTCP{DestinationPort: dp}
		}
		out = append(out, pr)
	}
	return out
}

// splitCluster places each environment's cluster policies: one identical
// in every environment goes to the base, any other to the environments
// that have it.
func splitCluster(perEnv [][]*v1beta1.ClusterNetworkPolicy) (base []*v1beta1.ClusterNetworkPolicy, overlays [][]*v1beta1.ClusterNetworkPolicy) {
	overlays = make([][]*v1beta1.ClusterNetworkPolicy, len(perEnv))
	byName := make([]map[string]*v1beta1.ClusterNetworkPolicy, len(perEnv))
	for i, ps := range perEnv {
		byName[i] = map[string]*v1beta1.ClusterNetworkPolicy{}
		for _, p := range ps {
			byName[i][p.Name] = p
		}
	}
	for i, ps := range perEnv {
		for _, p := range ps {
			everywhere := true
			for j := range perEnv {
				if q := byName[j][p.Name]; q == nil || !reflect.DeepEqual(p, q) {
					everywhere = false
					break
				}
			}
			switch {
			case everywhere && i == 0:
				base = append(base, p)
			case !everywhere:
				overlays[i] = append(overlays[i], p)
			}
		}
	}
	return base, overlays
}
