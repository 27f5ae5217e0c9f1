package eval

import (
	"fmt"
	"strings"
	"testing"

	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// v1alpha1 admin policies are read as the ClusterNetworkPolicies they are
// equivalent to, and a verdict names them by their own kind.
func TestV1Alpha1Decode(t *testing.T) {
	data := `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-metadata}
spec:
  priority: 700
  subject: {namespaces: {}}
  egress:
  - {name: deny-metadata, action: Deny, to: [{networks: [169.254.169.254/32]}], ports: [{portNumber: {port: 80}}, {portRange: {protocol: UDP, start: 1, end: 9}}]}
  - {action: Allow, to: [{namespaces: {}}], ports: [{namedPort: dns}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - {name: default-deny, action: Deny, from: [{namespaces: {}}]}
`
	cnps, err := ParseDocuments([]byte(data)).ClusterNetworkPolicies()
	if err != nil {
		t.Fatal(err)
	}
	if len(cnps) != 2 {
		t.Fatalf("got %d policies, want 2", len(cnps))
	}
	a, b := cnps[0], cnps[1]
	if a.Spec.Tier != v1beta1.AdminTier || a.Spec.Priority != 700 || a.Annotations[V1Alpha1KindAnnotation] != "AdminNetworkPolicy" {
		t.Errorf("admin: %+v %v", a.Spec, a.Annotations)
	}
	eg := a.Spec.Egress
	if eg[0].Action != v1beta1.ClusterNetworkPolicyRuleActionDeny || eg[1].Action != v1beta1.ClusterNetworkPolicyRuleActionAccept {
		t.Errorf("actions %s %s, want Deny Accept", eg[0].Action, eg[1].Action)
	}
	if pr := eg[0].Protocols; pr[0].TCP == nil || pr[0].TCP.DestinationPort.Number != 80 || pr[1].UDP == nil || pr[1].UDP.DestinationPort.Range.End != 9 {
		t.Errorf("ports: %+v", pr)
	}
	if eg[1].Protocols[0].DestinationNamedPort != "dns" {
		t.Errorf("named port: %+v", eg[1].Protocols)
	}
	if b.Spec.Tier != v1beta1.BaselineTier || b.Name != "default" || b.Annotations[V1Alpha1KindAnnotation] != "BaselineAdminNetworkPolicy" {
		t.Errorf("baseline: %s %+v", b.Name, b.Spec)
	}
	ref := ClusterRuleRef{Policy: "deny-metadata", Kind: a.Annotations[V1Alpha1KindAnnotation], Tier: v1beta1.AdminTier, Name: "deny-metadata"}
	if got, want := ref.String(), "AdminNetworkPolicy deny-metadata rule deny-metadata, tier Admin"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

// Strict, with positions, every problem at once: an unknown field, a
// baseline not named default, an action of the other tier, a bad protocol.
func TestV1Alpha1DecodeProblems(t *testing.T) {
	data := `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 1
  subject: {namespaces: {}}
  egress:
  - {action: Deny, to: [{networks: [10.0.0.0/8]}], sameLabels: [x]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: other}
spec:
  subject: {namespaces: {}}
  ingress:
  - {action: Pass, from: [{namespaces: {}}], ports: [{portNumber: {protocol: ICMP, port: 1}}]}
`
	_, err := ParseDocuments([]byte(data)).ClusterNetworkPolicies()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`8:`, `sameLabels`,
		`12:`, `metadata.name: baselineadminnetworkpolicy other: invalid value: "other"`,
		`16:`, `spec.ingress[0].action: baselineadminnetworkpolicy other: unsupported value: "Pass"`,
		`spec.ingress[0].ports[0].protocol`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A baseline of more than 25 rules in a direction (v1alpha1 admits 100,
// v1beta1 25) becomes several Baseline policies, in order, named so that
// the evaluator's tie-break by name keeps the order.
func TestV1Alpha1BaselineSplit(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  egress:\n")
	for i := range 60 {
		fmt.Fprintf(&b, "  - {name: r%d, action: Deny, to: [{networks: [10.0.%d.0/24]}]}\n", i, i)
	}
	cnps, err := ParseDocuments([]byte(b.String())).ClusterNetworkPolicies()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var rules []string
	for _, p := range sortClusterPolicies(cnps) {
		names = append(names, p.Name)
		for _, r := range p.Spec.Egress {
			rules = append(rules, r.Name)
		}
	}
	if got := strings.Join(names, ","); got != "default,default-2,default-3" {
		t.Errorf("names %s", got)
	}
	for i, r := range rules {
		if r != fmt.Sprintf("r%d", i) {
			t.Fatalf("rule %d is %s: order lost", i, r)
		}
	}
	if len(rules) != 60 {
		t.Errorf("%d rules, want 60", len(rules))
	}
}
