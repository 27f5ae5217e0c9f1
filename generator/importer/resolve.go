package importer

import (
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/netdep/netdep/generator/eval"
)

// ResolveNamespaceSelectors returns copies of policies whose label-based
// namespaceSelectors are rewritten to select the same namespaces by name
// (kubernetes.io/metadata.name In [...], or NotIn [...] when the selector
// also matches a namespace without labels), given the namespaces and labels
// of the inputs. A world whose namespaces carry only their name, as
// verify's does, then evaluates them as the cluster would.
func ResolveNamespaceSelectors(policies []*networkingv1.NetworkPolicy, namespaces []eval.Namespace) []*networkingv1.NetworkPolicy {
	resolve := func(s *metav1.LabelSelector) *metav1.LabelSelector {
		if s == nil || len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0 || namedNamespace(s) != "" {
			return s
		}
		sel, err := metav1.LabelSelectorAsSelector(s)
		if err != nil {
			return s
		}
		var in, out []string
		for _, n := range namespaces {
			l := labels.Set{eval.NamespaceNameLabel: n.Name}
			for k, v := range n.Labels {
				l[k] = v
			}
			if sel.Matches(l) {
				in = append(in, n.Name)
			} else {
				out = append(out, n.Name)
			}
		}
		op, values := metav1.LabelSelectorOpIn, in
		if sel.Matches(labels.Set{eval.NamespaceNameLabel: "netdep-unknown-namespace"}) {
			op, values = metav1.LabelSelectorOpNotIn, out
		}
		if len(values) == 0 {
			if op == metav1.LabelSelectorOpNotIn {
				return &metav1.LabelSelector{}
			}
			values = []string{""} // no namespace has an empty name
		}
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: eval.NamespaceNameLabel, Operator: op, Values: values}}}
	}
	out := make([]*networkingv1.NetworkPolicy, len(policies))
	for i, p := range policies {
		p = p.DeepCopy()
		for j := range p.Spec.Ingress {
			for k := range p.Spec.Ingress[j].From {
				p.Spec.Ingress[j].From[k].NamespaceSelector = resolve(p.Spec.Ingress[j].From[k].NamespaceSelector)
			}
		}
		for j := range p.Spec.Egress {
			for k := range p.Spec.Egress[j].To {
				p.Spec.Egress[j].To[k].NamespaceSelector = resolve(p.Spec.Egress[j].To[k].NamespaceSelector)
			}
		}
		out[i] = p
	}
	return out
}
