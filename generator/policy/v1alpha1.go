package policy

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// BaselineName is the name of the one BaselineAdminNetworkPolicy a cluster
// may have (its CRD admits no other).
const BaselineName = "default"

// FromClusterPoliciesAnnotation names, on a BaselineAdminNetworkPolicy
// ToV1Alpha1 merged, the ClusterNetworkPolicies its rules came from, in
// rule order.
const FromClusterPoliciesAnnotation = "netdep.io/from-cluster-network-policies"

// v1alpha1 API limits that v1beta1 does not share: a merged baseline may
// exceed them.
const maxV1Alpha1Rules = 100

// ToV1Alpha1 converts ClusterNetworkPolicies (policy.networking.k8s.io
// v1beta1) into their AdminNetworkPolicy and BaselineAdminNetworkPolicy
// (v1alpha1) equivalents, for network plugins that enforce only the older
// API (kube-network-policies v0.8.0). The result means exactly what the
// input means; whatever has no exact v1alpha1 equivalent is an error naming
// the object and the field, never an approximation:
//
//   - Admin tier: one AdminNetworkPolicy per ClusterNetworkPolicy, same
//     name, priority, subject, rules in order; Accept becomes Allow, Deny
//     and Pass stay.
//   - Baseline tier: the singleton BaselineAdminNetworkPolicy "default",
//     its rules those of every Baseline policy in evaluation order
//     (priority, ties by name, as netdep's evaluator breaks them; then
//     written order). It has one subject, so the Baseline policies must
//     share one (a policy with no rules is left out). Accept becomes Allow;
//     Pass becomes Allow too, since the tier after Baseline is the default,
//     which allows. domainNames peers have no baseline equivalent.
//   - Peers (namespaces, pods, nodes, networks, domainNames) copy over;
//     protocols become ports: numbers (portNumber), ranges (portRange) and
//     destinationNamedPort (namedPort), each with its protocol.
//   - Labels and annotations are kept. The baseline has the union of the
//     merged policies' (one key with two values is an error) and names its
//     sources in FromClusterPoliciesAnnotation.
//
// AdminNetworkPolicies come sorted by priority, then name; every object has
// its TypeMeta set. Every problem is reported, sorted, in one error. banp is
// nil when no Baseline policy has a rule.
func ToV1Alpha1(cnps []*v1beta1.ClusterNetworkPolicy) (anps []*v1alpha1.AdminNetworkPolicy, banp *v1alpha1.BaselineAdminNetworkPolicy, err error) {
	c := &converter{}
	sorted := slices.Clone(cnps)
	slices.SortStableFunc(sorted, func(a, b *v1beta1.ClusterNetworkPolicy) int {
		if a == nil || b == nil {
			return 0
		}
		return cmp.Or(cmp.Compare(a.Spec.Priority, b.Spec.Priority), cmp.Compare(a.Name, b.Name))
	})
	names := map[string]bool{}
	var baseline []*v1beta1.ClusterNetworkPolicy
	for i, p := range sorted {
		if p == nil {
			c.errorf("", "cnps[%d]: nil ClusterNetworkPolicy", i)
			continue
		}
		c.policy = p.Name
		if p.Name == "" {
			c.errorf("metadata.name", "required")
		} else if names[p.Name] {
			c.errorf("metadata.name", "two ClusterNetworkPolicies have this name")
		}
		names[p.Name] = true
		if p.Spec.Priority < 0 || p.Spec.Priority > 1000 {
			c.errorf("spec.priority", "%d: want 0 to 1000", p.Spec.Priority)
		}
		switch p.Spec.Tier {
		case v1beta1.AdminTier:
			if a := c.admin(p); a != nil {
				anps = append(anps, a)
			}
		case v1beta1.BaselineTier:
			baseline = append(baseline, p)
		default:
			c.errorf("spec.tier", "%q: want Admin or Baseline", p.Spec.Tier)
		}
	}
	banp = c.baseline(baseline)
	if err := c.err(); err != nil {
		return nil, nil, err
	}
	return anps, banp, nil
}

// converter collects the problems of one conversion.
type converter struct {
	policy   string // the ClusterNetworkPolicy being converted
	problems []string
}

func (c *converter) errorf(path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	switch {
	case c.policy != "" && path != "":
		msg = fmt.Sprintf("clusternetworkpolicy %q: %s: %s", c.policy, path, msg)
	case c.policy != "":
		msg = fmt.Sprintf("clusternetworkpolicy %q: %s", c.policy, msg)
	case path != "":
		msg = path + ": " + msg
	}
	c.problems = append(c.problems, msg)
}

func (c *converter) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	slices.Sort(c.problems)
	c.problems = slices.Compact(c.problems)
	errs := make([]error, len(c.problems))
	for i, p := range c.problems {
		errs[i] = errors.New(p)
	}
	return errors.Join(errs...)
}

func (c *converter) admin(p *v1beta1.ClusterNetworkPolicy) *v1alpha1.AdminNetworkPolicy {
	n := len(c.problems)
	a := &v1alpha1.AdminNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "AdminNetworkPolicy"},
		ObjectMeta: keptMeta(p.ObjectMeta),
		Spec: v1alpha1.AdminNetworkPolicySpec{
			Priority: p.Spec.Priority,
			Subject:  c.subject(p.Spec.Subject),
		},
	}
	for i, r := range p.Spec.Ingress {
		path := fmt.Sprintf("spec.ingress[%d]", i)
		a.Spec.Ingress = append(a.Spec.Ingress, v1alpha1.AdminNetworkPolicyIngressRule{
			Name:   r.Name,
			Action: c.adminAction(r.Action, path),
			From:   c.ingressPeers(r.From, path),
			Ports:  c.ports(r.Protocols, path),
		})
	}
	for i, r := range p.Spec.Egress {
		path := fmt.Sprintf("spec.egress[%d]", i)
		to := make([]v1alpha1.AdminNetworkPolicyEgressPeer, 0, len(r.To))
		for j, peer := range r.To {
			pp := fmt.Sprintf("%s.to[%d]", path, j)
			c.oneOf(pp, peer.Namespaces != nil, peer.Pods != nil, peer.Nodes != nil, peer.Networks != nil, peer.DomainNames != nil)
			if peer.DomainNames != nil && r.Action != v1beta1.ClusterNetworkPolicyRuleActionAccept {
				c.errorf(pp+".domainNames", "only an Accept rule may have domainNames peers, this one is %s", r.Action)
			}
			to = append(to, v1alpha1.AdminNetworkPolicyEgressPeer{
				Namespaces:  peer.Namespaces.DeepCopy(),
				Pods:        alpha1Pods(peer.Pods),
				Nodes:       peer.Nodes.DeepCopy(),
				Networks:    cidrs(peer.Networks),
				DomainNames: domainNames(peer.DomainNames),
			})
		}
		c.nonEmpty(path+".to", len(r.To))
		a.Spec.Egress = append(a.Spec.Egress, v1alpha1.AdminNetworkPolicyEgressRule{
			Name:   r.Name,
			Action: c.adminAction(r.Action, path),
			To:     to,
			Ports:  c.ports(r.Protocols, path),
		})
	}
	if len(c.problems) > n {
		return nil
	}
	return a
}

func (c *converter) adminAction(a v1beta1.ClusterNetworkPolicyRuleAction, path string) v1alpha1.AdminNetworkPolicyRuleAction {
	switch a {
	case v1beta1.ClusterNetworkPolicyRuleActionAccept:
		return v1alpha1.AdminNetworkPolicyRuleActionAllow
	case v1beta1.ClusterNetworkPolicyRuleActionDeny:
		return v1alpha1.AdminNetworkPolicyRuleActionDeny
	case v1beta1.ClusterNetworkPolicyRuleActionPass:
		return v1alpha1.AdminNetworkPolicyRuleActionPass
	}
	c.errorf(path+".action", "%q: want Accept, Deny or Pass", a)
	return ""
}

func (c *converter) baselineAction(a v1beta1.ClusterNetworkPolicyRuleAction, path string) v1alpha1.BaselineAdminNetworkPolicyRuleAction {
	switch a {
	case v1beta1.ClusterNetworkPolicyRuleActionAccept:
		return v1alpha1.BaselineAdminNetworkPolicyRuleActionAllow
	case v1beta1.ClusterNetworkPolicyRuleActionDeny:
		return v1alpha1.BaselineAdminNetworkPolicyRuleActionDeny
	case v1beta1.ClusterNetworkPolicyRuleActionPass:
		// Pass goes on to the next tier; after Baseline that is the
		// default, which allows: exactly what a baseline Allow does.
		return v1alpha1.BaselineAdminNetworkPolicyRuleActionAllow
	}
	c.errorf(path+".action", "%q: want Accept, Deny or Pass", a)
	return ""
}

// baseline merges the Baseline tier, sorted by priority then name, into
// the singleton.
func (c *converter) baseline(ps []*v1beta1.ClusterNetworkPolicy) *v1alpha1.BaselineAdminNetworkPolicy {
	n := len(c.problems)
	var first *v1beta1.ClusterNetworkPolicy
	b := &v1alpha1.BaselineAdminNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "BaselineAdminNetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: BaselineName},
	}
	var from []string
	labels, annotations := map[string]string{}, map[string]string{}
	labelFrom, annotationFrom := map[string]string{}, map[string]string{}
	for _, p := range ps {
		c.policy = p.Name
		if len(p.Spec.Ingress) == 0 && len(p.Spec.Egress) == 0 {
			continue // no rule: it decides nothing, whatever its subject
		}
		subject := c.subject(p.Spec.Subject)
		if first == nil {
			first = p
			b.Spec.Subject = subject
		} else if !reflect.DeepEqual(normalSubject(p.Spec.Subject), normalSubject(first.Spec.Subject)) {
			c.errorf("spec.subject", "differs from clusternetworkpolicy %q's: Baseline-tier policies become the one BaselineAdminNetworkPolicy %q, which has one subject, so they must all select the same pods", first.Name, BaselineName)
		}
		from = append(from, p.Name)
		merge := func(what string, dst, src, owner map[string]string) {
			for _, k := range slices.Sorted(maps.Keys(src)) {
				if v, ok := dst[k]; ok && v != src[k] {
					c.errorf("metadata."+what, "%s %q is %q here and %q on clusternetworkpolicy %q, which merge into BaselineAdminNetworkPolicy %q", strings.TrimSuffix(what, "s"), k, src[k], v, owner[k], BaselineName)
					continue
				}
				dst[k], owner[k] = src[k], p.Name
			}
		}
		merge("labels", labels, p.Labels, labelFrom)
		merge("annotations", annotations, p.Annotations, annotationFrom)
		for i, r := range p.Spec.Ingress {
			path := fmt.Sprintf("spec.ingress[%d]", i)
			b.Spec.Ingress = append(b.Spec.Ingress, v1alpha1.BaselineAdminNetworkPolicyIngressRule{
				Name:   r.Name,
				Action: c.baselineAction(r.Action, path),
				From:   c.ingressPeers(r.From, path),
				Ports:  c.ports(r.Protocols, path),
			})
		}
		for i, r := range p.Spec.Egress {
			path := fmt.Sprintf("spec.egress[%d]", i)
			to := make([]v1alpha1.BaselineAdminNetworkPolicyEgressPeer, 0, len(r.To))
			for j, peer := range r.To {
				pp := fmt.Sprintf("%s.to[%d]", path, j)
				c.oneOf(pp, peer.Namespaces != nil, peer.Pods != nil, peer.Nodes != nil, peer.Networks != nil, peer.DomainNames != nil)
				if peer.DomainNames != nil {
					c.errorf(pp+".domainNames", "BaselineAdminNetworkPolicy has no domainNames peer (v1alpha1 allows them in the Admin tier only)")
				}
				to = append(to, v1alpha1.BaselineAdminNetworkPolicyEgressPeer{
					Namespaces: peer.Namespaces.DeepCopy(),
					Pods:       alpha1Pods(peer.Pods),
					Nodes:      peer.Nodes.DeepCopy(),
					Networks:   cidrs(peer.Networks),
				})
			}
			c.nonEmpty(path+".to", len(r.To))
			b.Spec.Egress = append(b.Spec.Egress, v1alpha1.BaselineAdminNetworkPolicyEgressRule{
				Name:   r.Name,
				Action: c.baselineAction(r.Action, path),
				To:     to,
				Ports:  c.ports(r.Protocols, path),
			})
		}
	}
	c.policy = ""
	if first == nil {
		return nil
	}
	for _, d := range []struct {
		dir string
		n   int
	}{{"ingress", len(b.Spec.Ingress)}, {"egress", len(b.Spec.Egress)}} {
		if d.n > maxV1Alpha1Rules {
			c.errorf("", "the Baseline-tier policies %s have %d %s rules together; BaselineAdminNetworkPolicy %q admits %d", strings.Join(from, ", "), d.n, d.dir, BaselineName, maxV1Alpha1Rules)
		}
	}
	if len(c.problems) > n {
		return nil
	}
	if len(labels) > 0 {
		b.Labels = labels
	}
	annotations[FromClusterPoliciesAnnotation] = strings.Join(from, ",")
	b.Annotations = annotations
	return b
}

func (c *converter) subject(s v1beta1.ClusterNetworkPolicySubject) v1alpha1.AdminNetworkPolicySubject {
	c.oneOf("spec.subject", s.Namespaces != nil, s.Pods != nil)
	return v1alpha1.AdminNetworkPolicySubject{Namespaces: s.Namespaces.DeepCopy(), Pods: alpha1Pods(s.Pods)}
}

// normalSubject is s with nil and empty selector parts made alike, for
// telling whether two subjects select the same pods.
func normalSubject(s v1beta1.ClusterNetworkPolicySubject) v1beta1.ClusterNetworkPolicySubject {
	norm := func(ls *metav1.LabelSelector) *metav1.LabelSelector {
		if ls == nil {
			return nil
		}
		out := ls.DeepCopy()
		if len(out.MatchLabels) == 0 {
			out.MatchLabels = nil
		}
		if len(out.MatchExpressions) == 0 {
			out.MatchExpressions = nil
		}
		for i := range out.MatchExpressions {
			if len(out.MatchExpressions[i].Values) == 0 {
				out.MatchExpressions[i].Values = nil
			} else {
				slices.Sort(out.MatchExpressions[i].Values)
			}
		}
		return out
	}
	out := v1beta1.ClusterNetworkPolicySubject{Namespaces: norm(s.Namespaces)}
	if s.Pods != nil {
		out.Pods = &v1beta1.NamespacedPod{
			NamespaceSelector: *norm(&s.Pods.NamespaceSelector),
			PodSelector:       *norm(&s.Pods.PodSelector),
		}
	}
	return out
}

func (c *converter) ingressPeers(from []v1beta1.ClusterNetworkPolicyIngressPeer, path string) []v1alpha1.AdminNetworkPolicyIngressPeer {
	c.nonEmpty(path+".from", len(from))
	out := make([]v1alpha1.AdminNetworkPolicyIngressPeer, 0, len(from))
	for j, peer := range from {
		c.oneOf(fmt.Sprintf("%s.from[%d]", path, j), peer.Namespaces != nil, peer.Pods != nil)
		out = append(out, v1alpha1.AdminNetworkPolicyIngressPeer{Namespaces: peer.Namespaces.DeepCopy(), Pods: alpha1Pods(peer.Pods)})
	}
	return out
}

// ports converts a rule's protocols. nil (every port of every protocol)
// stays nil; an empty list, which v1beta1 refuses, is an error rather than
// a guess.
func (c *converter) ports(protos []v1beta1.ClusterNetworkPolicyProtocol, path string) *[]v1alpha1.AdminNetworkPolicyPort {
	if protos == nil {
		return nil
	}
	c.nonEmpty(path+".protocols", len(protos))
	out := make([]v1alpha1.AdminNetworkPolicyPort, 0, len(protos))
	for k, pr := range protos {
		pp := fmt.Sprintf("%s.protocols[%d]", path, k)
		if !c.oneOf(pp, pr.TCP != nil, pr.UDP != nil, pr.SCTP != nil, pr.DestinationNamedPort != "") {
			continue
		}
		var proto corev1.Protocol
		var dp *v1beta1.Port
		switch {
		case pr.DestinationNamedPort != "":
			out = append(out, v1alpha1.AdminNetworkPolicyPort{NamedPort: &pr.DestinationNamedPort})
			continue
		case pr.TCP != nil:
			proto, dp, pp = corev1.ProtocolTCP, pr.TCP.DestinationPort, pp+".tcp"
		case pr.UDP != nil:
			proto, dp, pp = corev1.ProtocolUDP, pr.UDP.DestinationPort, pp+".udp"
		case pr.SCTP != nil:
			proto, dp, pp = corev1.ProtocolSCTP, pr.SCTP.DestinationPort, pp+".sctp"
		}
		if dp == nil {
			// v1beta1 requires destinationPort (minProperties 1); v1alpha1
			// has no "every port of one protocol" to map it to.
			c.errorf(pp+".destinationPort", "required")
			continue
		}
		pp += ".destinationPort"
		if !c.oneOf(pp, dp.Number != 0, dp.Range != nil) {
			continue
		}
		if dp.Range == nil {
			if dp.Number < 1 || dp.Number > 65535 {
				c.errorf(pp+".number", "%d: want 1 to 65535", dp.Number)
			}
			out = append(out, v1alpha1.AdminNetworkPolicyPort{PortNumber: &v1alpha1.Port{Protocol: proto, Port: dp.Number}})
			continue
		}
		r := dp.Range
		if r.Start < 1 || r.End > 65535 || r.Start >= r.End {
			c.errorf(pp+".range", "%d-%d: want 1 <= start < end <= 65535", r.Start, r.End)
		}
		out = append(out, v1alpha1.AdminNetworkPolicyPort{PortRange: &v1alpha1.PortRange{Protocol: proto, Start: r.Start, End: r.End}})
	}
	return &out
}

// oneOf reports whether exactly one of set holds (v1beta1's "exactly one
// field must be set"), and says so when not.
func (c *converter) oneOf(path string, set ...bool) bool {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	if n != 1 {
		c.errorf(path, "exactly one field must be set, %d are", n)
		return false
	}
	return true
}

func (c *converter) nonEmpty(path string, n int) {
	if n == 0 {
		c.errorf(path, "must have at least one item")
	}
}

// keptMeta is what a converted object keeps of its source's metadata: the
// name, labels and annotations (nothing the API server sets).
func keptMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Labels: maps.Clone(m.Labels), Annotations: maps.Clone(m.Annotations)}
}

func alpha1Pods(p *v1beta1.NamespacedPod) *v1alpha1.NamespacedPod {
	if p == nil {
		return nil
	}
	return &v1alpha1.NamespacedPod{
		NamespaceSelector: *p.NamespaceSelector.DeepCopy(),
		PodSelector:       *p.PodSelector.DeepCopy(),
	}
}

func cidrs(in []v1beta1.CIDR) []v1alpha1.CIDR {
	if in == nil {
		return nil
	}
	out := make([]v1alpha1.CIDR, len(in))
	for i, c := range in {
		out[i] = v1alpha1.CIDR(c)
	}
	return out
}

func domainNames(in []v1beta1.DomainName) []v1alpha1.DomainName {
	if in == nil {
		return nil
	}
	out := make([]v1alpha1.DomainName, len(in))
	for i, d := range in {
		out[i] = v1alpha1.DomainName(d)
	}
	return out
}
