package eval

import (
	"strings"

	"gopkg.in/yaml.v3"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

const policyV1beta1 = "policy.networking.k8s.io/v1beta1"

// ClusterNetworkPolicies decodes the policy.networking.k8s.io/v1beta1
// ClusterNetworkPolicies of the documents, in stream order, as Policies
// decodes NetworkPolicies: other kinds are skipped, Lists are expanded,
// decoding is strict, and what the API server would refuse (ValidateCluster)
// is an error with its document, line and column. ClusterNetworkPolicy of
// another version of policy.networking.k8s.io is an error (v1alpha1 has
// AdminNetworkPolicy and BaselineAdminNetworkPolicy instead, and is
// skipped). metadata.namespace is ignored, as the API server ignores it on
// a cluster-scoped object.
func (ds Documents) ClusterNetworkPolicies() ([]*v1beta1.ClusterNetworkPolicy, error) {
	return decodeAll(ds, (*decoder).clusterPolicy)
}

func (d *decoder) clusterPolicy(n *yaml.Node, apiVersion, kind string, out *[]*v1beta1.ClusterNetworkPolicy) {
	if kind != "ClusterNetworkPolicy" {
		return
	}
	group, _, _ := strings.Cut(apiVersion, "/")
	if apiVersion != policyV1beta1 {
		if group == "policy.networking.k8s.io" {
			d.errorf(n, "apiVersion", "unsupported apiVersion %q for ClusterNetworkPolicy (want %s)", apiVersion, policyV1beta1)
		}
		return
	}
	p := &v1beta1.ClusterNetworkPolicy{}
	if !d.strict(n, apiVersion, kind, p) {
		return
	}
	p.Namespace = ""
	if d.fieldErrors(n, ValidateCluster(p), "clusternetworkpolicy "+p.Name) {
		return
	}
	*out = append(*out, p)
}
