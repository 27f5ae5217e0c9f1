package eval

import (
	"strings"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/util/validation/field"
	v1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
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
//
// AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1) are decoded
// as strictly and returned as the ClusterNetworkPolicies they are
// equivalent to (FromAdminNetworkPolicy, FromBaselineAdminNetworkPolicy),
// marked with V1Alpha1KindAnnotation; their problems are reported at their
// own fields.
func (ds Documents) ClusterNetworkPolicies() ([]*v1beta1.ClusterNetworkPolicy, error) {
	return decodeAll(ds, (*decoder).clusterPolicy)
}

func (d *decoder) clusterPolicy(n *yaml.Node, apiVersion, kind string, out *[]*v1beta1.ClusterNetworkPolicy) {
	if apiVersion == PolicyV1alpha1 && (kind == "AdminNetworkPolicy" || kind == "BaselineAdminNetworkPolicy") {
		d.v1alpha1Policy(n, apiVersion, kind, out)
		return
	}
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

func (d *decoder) v1alpha1Policy(n *yaml.Node, apiVersion, kind string, out *[]*v1beta1.ClusterNetworkPolicy) {
	var ps []*v1beta1.ClusterNetworkPolicy
	var errs field.ErrorList
	var name string
	if kind == "AdminNetworkPolicy" {
		a := &v1alpha1.AdminNetworkPolicy{}
		if !d.strict(n, apiVersion, kind, a) {
			return
		}
		var p *v1beta1.ClusterNetworkPolicy
		p, errs = FromAdminNetworkPolicy(a)
		ps, name = []*v1beta1.ClusterNetworkPolicy{p}, a.Name
	} else {
		b := &v1alpha1.BaselineAdminNetworkPolicy{}
		if !d.strict(n, apiVersion, kind, b) {
			return
		}
		ps, errs = FromBaselineAdminNetworkPolicy(b)
		name = b.Name
	}
	what := strings.ToLower(kind) + " " + name
	if d.fieldErrors(n, errs, what) {
		return
	}
	for _, p := range ps {
		// The converted object's paths are v1beta1's (protocols for
		// ports); nodeAt places each at the nearest field written.
		if d.fieldErrors(n, ValidateCluster(p), what) {
			return
		}
	}
	*out = append(*out, ps...)
}
