package verify

import (
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netdep/netdep/schema"
)

// InNamespace returns policies with every policy whose manifest names no
// namespace put into ns, as `kubectl apply -n ns` would: copies of those,
// the others as they are.
func InNamespace(policies []*networkingv1.NetworkPolicy, ns string) []*networkingv1.NetworkPolicy {
	out := make([]*networkingv1.NetworkPolicy, len(policies))
	for i, p := range policies {
		if p.Namespace == "" && ns != "" {
			p = p.DeepCopy()
			p.Namespace = ns
		}
		out[i] = p
	}
	return out
}

// CheckManifests is CheckWith over manifests as LoadManifests reads them:
// what `netdep verify --manifests` reports for one environment.
func CheckManifests(spec *schema.Spec, env string, m *Manifests) (*Report, error) {
	r, err := checkAudit(spec, env, m)
	if err != nil {
		return nil, err
	}
	r.MarkNotEvaluated(len(m.NotEvaluated))
	return r, nil
}
