package policy

import (
	"maps"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netdep/netdep/schema"
)

// The projectcalico.org/v3 fields netdep emits, and only those (Calico's
// Go API is not a module netdep depends on): json names and omitempty as
// in github.com/projectcalico/api pkg/apis/projectcalico/v3.
const (
	CalicoAPIVersion                  = "projectcalico.org/v3"
	CalicoNetworkPolicyKind           = "NetworkPolicy"
	StagedNetworkPolicyKind           = "StagedNetworkPolicy"
	StagedKubernetesNetworkPolicyKind = "StagedKubernetesNetworkPolicy"

	// LogDeniedName is the namespace's Calico policy of log: denied.
	LogDeniedName = "netdep-log-denied"
	// LogDeniedOrder puts it after every Kubernetes NetworkPolicy, which
	// Calico places in the default tier at order 1000: the allows decide
	// first, and what none allows is logged, then denied.
	LogDeniedOrder = 2000

	// CalicoActionLog records the packet and goes on to the next rule.
	CalicoActionLog   = "Log"
	CalicoActionDeny  = "Deny"
	CalicoStagedSet   = "Set"
	calicoSelectorAll = "all()"
)

// CalicoNetworkPolicy is one projectcalico.org/v3 NetworkPolicy.
type CalicoNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              CalicoPolicySpec `json:"spec"`
}

// CalicoPolicySpec is v3.NetworkPolicySpec, of the fields netdep sets.
type CalicoPolicySpec struct {
	Order    *float64     `json:"order,omitempty"`
	Selector string       `json:"selector,omitempty"`
	Types    []string     `json:"types,omitempty"`
	Ingress  []CalicoRule `json:"ingress,omitempty"`
	Egress   []CalicoRule `json:"egress,omitempty"`
}

// CalicoRule is v3.Rule without match criteria: the action only.
type CalicoRule struct {
	Action string `json:"action"`
}

// StagedNetworkPolicy is a projectcalico.org/v3 StagedNetworkPolicy: a
// CalicoNetworkPolicy that Calico evaluates and reports on without
// enforcing it.
type StagedNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              StagedPolicySpec `json:"spec"`
}

// StagedPolicySpec is v3.StagedNetworkPolicySpec: the policy's spec and
// the staged action (Set: what the policy would be once enforced).
type StagedPolicySpec struct {
	StagedAction     string `json:"stagedAction,omitempty"`
	CalicoPolicySpec `json:",inline"`
}

// StagedKubernetesNetworkPolicy is a projectcalico.org/v3
// StagedKubernetesNetworkPolicy: a NetworkPolicy Calico evaluates and
// reports on without enforcing it. Its spec is the NetworkPolicy's
// (stagedAction left to its default, Set).
type StagedKubernetesNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              networkingv1.NetworkPolicySpec `json:"spec"`
}

// calicoPolicies builds env's projectcalico.org/v3 NetworkPolicies: with
// log: denied, one netdep-log-denied per managed namespace isolated in
// some direction, Log then Deny in each isolated direction, sorted by
// namespace.
func calicoPolicies(spec *schema.Spec, env *schema.Environment) []*CalicoNetworkPolicy {
	if !env.LogDenied {
		return nil
	}
	var out []*CalicoNetworkPolicy
	for _, ns := range spec.Namespaces {
		if !ns.Managed || !(ns.IsolateIngress || ns.IsolateEgress) {
			continue
		}
		order := float64(LogDeniedOrder)
		p := &CalicoNetworkPolicy{
			TypeMeta: metav1.TypeMeta{APIVersion: CalicoAPIVersion, Kind: CalicoNetworkPolicyKind},
			ObjectMeta: metav1.ObjectMeta{
				Name:      LogDeniedName,
				Namespace: ns.Name,
				Labels:    map[string]string{ManagedByLabel: ManagedByValue},
				// The project file says log: denied; when there is none
				// (a hand-built spec), the namespace's files, as its
				// default-deny names them.
				Annotations: map[string]string{SourceAnnotation: projectOr(spec, ns), SyncWaveAnnotation: DenyWave},
			},
			Spec: CalicoPolicySpec{Order: &order, Selector: calicoSelectorAll},
		}
		logDeny := []CalicoRule{{Action: CalicoActionLog}, {Action: CalicoActionDeny}}
		if ns.IsolateIngress {
			p.Spec.Types = append(p.Spec.Types, string(networkingv1.PolicyTypeIngress))
			p.Spec.Ingress = logDeny
		}
		if ns.IsolateEgress {
			p.Spec.Types = append(p.Spec.Types, string(networkingv1.PolicyTypeEgress))
			p.Spec.Egress = logDeny
		}
		out = append(out, p)
	}
	return out
}

func projectOr(spec *schema.Spec, ns *schema.Namespace) string {
	if spec.ProjectFile != "" {
		return spec.ProjectFile
	}
	return strings.Join(ns.Sources, ",")
}

// DeepCopy returns a copy sharing nothing with p.
func (p *CalicoNetworkPolicy) DeepCopy() *CalicoNetworkPolicy {
	q := *p
	p.ObjectMeta.DeepCopyInto(&q.ObjectMeta)
	q.Spec = p.Spec.deepCopy()
	return &q
}

func (s CalicoPolicySpec) deepCopy() CalicoPolicySpec {
	c := s
	if s.Order != nil {
		o := *s.Order
		c.Order = &o
	}
	c.Types = append([]string(nil), s.Types...)
	c.Ingress = append([]CalicoRule(nil), s.Ingress...)
	c.Egress = append([]CalicoRule(nil), s.Egress...)
	return c
}

// StageKubernetes is np as Calico stages it: same name, namespace, labels
// and annotations, same spec.
func StageKubernetes(np *networkingv1.NetworkPolicy) *StagedKubernetesNetworkPolicy {
	q := np.DeepCopy()
	return &StagedKubernetesNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: CalicoAPIVersion, Kind: StagedKubernetesNetworkPolicyKind},
		ObjectMeta: stagedMeta(q.ObjectMeta),
		Spec:       q.Spec,
	}
}

// StageCalico is p as Calico stages it: same metadata, same spec, staged
// action Set.
func StageCalico(p *CalicoNetworkPolicy) *StagedNetworkPolicy {
	q := p.DeepCopy()
	return &StagedNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: CalicoAPIVersion, Kind: StagedNetworkPolicyKind},
		ObjectMeta: stagedMeta(q.ObjectMeta),
		Spec:       StagedPolicySpec{StagedAction: CalicoStagedSet, CalicoPolicySpec: q.Spec},
	}
}

func stagedMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace,
		Labels: maps.Clone(m.Labels), Annotations: maps.Clone(m.Annotations)}
}
