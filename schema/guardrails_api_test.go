package schema

import (
	"strings"
	"testing"
)

// TestGuardrailsAPI: api is per environment, the cluster's by default and
// v1beta1 without either; in v1alpha1 with a Baseline default deny, only
// namespaces isolated both ways are the Baseline's, the others keep their
// default-deny NetworkPolicy, and a warning names them at defaultDeny.
func TestGuardrailsAPI(t *testing.T) {
	files := []File{
		{Path: "deps.yaml", Explicit: true, Data: []byte("netdep: v1\nnamespace: shop\n---\nnetdep: v1\nnamespace: legacy\nisolate: [ingress]\n")},
		{Path: "netdep.yaml", Explicit: true, Data: []byte(`netdep: v1
cluster:
  guardrails: {api: v1alpha1}
environments:
  dev: {guardrails: {api: v1beta1, defaultDeny: baseline}}
  prod: {guardrails: {defaultDeny: baseline}}
  staging: {}
`)},
	}
	spec, probs := Parse(files)
	if len(probs.Errors()) > 0 {
		t.Fatal(probs.Error())
	}
	var warnings []string
	for _, p := range probs {
		if p.Warning && strings.Contains(p.Message, "v1alpha1") {
			warnings = append(warnings, p.String())
		}
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "netdep.yaml:6:36: warning: guardrails.defaultDeny: v1alpha1 has one BaselineAdminNetworkPolicy") ||
		!strings.Contains(warnings[0], "legacy (ingress only) keeps its default-deny NetworkPolicy") {
		t.Errorf("warnings: %q", warnings)
	}
	shop, legacy := spec.Namespace("shop"), spec.Namespace("legacy")
	for _, tt := range []struct {
		env                  string
		api                  ClusterAPI
		shopBase, legacyBase bool
	}{
		{"dev", APIV1beta1, true, true},
		{"prod", APIV1alpha1, true, false},
		{"staging", APIV1alpha1, false, false},
	} {
		e := spec.Environment(tt.env)
		if e.ClusterAPI() != tt.api {
			t.Errorf("%s: api %s, want %s", tt.env, e.ClusterAPI(), tt.api)
		}
		if e.BaselineDeny(shop) != tt.shopBase || e.BaselineDeny(legacy) != tt.legacyBase {
			t.Errorf("%s: BaselineDeny shop %v legacy %v, want %v %v", tt.env, e.BaselineDeny(shop), e.BaselineDeny(legacy), tt.shopBase, tt.legacyBase)
		}
		if e.NetworkPolicyDeny(shop) == tt.shopBase || e.NetworkPolicyDeny(legacy) == tt.legacyBase {
			t.Errorf("%s: NetworkPolicyDeny shop %v legacy %v", tt.env, e.NetworkPolicyDeny(shop), e.NetworkPolicyDeny(legacy))
		}
	}
}
