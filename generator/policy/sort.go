package policy

import (
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
)

func sortPolicies(ps []*networkingv1.NetworkPolicy) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Namespace != ps[j].Namespace {
			return ps[i].Namespace < ps[j].Namespace
		}
		return ps[i].Name < ps[j].Name
	})
}
