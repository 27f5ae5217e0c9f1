package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	santhosh "github.com/santhosh-tekuri/jsonschema/v6"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/tests/golden"
)

// readCNPs decodes ClusterNetworkPolicies as netdep reads them anywhere:
// strictly, validated as the API server would.
func readCNPs(t *testing.T, data []byte) []*v1beta1.ClusterNetworkPolicy {
	t.Helper()
	cnps, err := eval.ParseDocuments(data).ClusterNetworkPolicies()
	if err != nil {
		t.Fatalf("input: %v", err)
	}
	return cnps
}

// v1alpha1Manifests writes the conversion as a cluster would take it:
// AdminNetworkPolicies, then the BaselineAdminNetworkPolicy; no status, no
// creationTimestamp (nothing a client sets).
func v1alpha1Manifests(t *testing.T, anps []*v1alpha1.AdminNetworkPolicy, banp *v1alpha1.BaselineAdminNetworkPolicy) []byte {
	t.Helper()
	var objs []any
	for _, a := range anps {
		objs = append(objs, a)
	}
	if banp != nil {
		objs = append(objs, banp)
	}
	var b bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(manifest(t, o))
	}
	return b.Bytes()
}

func manifest(t *testing.T, o any) []byte {
	t.Helper()
	j, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	y, err := sigsyaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// One golden per construct: testdata/v1alpha1/NAME.yaml holds
// ClusterNetworkPolicies, NAME.golden.yaml their v1alpha1 equivalents.
func TestToV1Alpha1Golden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/v1alpha1/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden.yaml") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(in), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			anps, banp, err := ToV1Alpha1(readCNPs(t, data))
			if err != nil {
				t.Fatal(err)
			}
			out := v1alpha1Manifests(t, anps, banp)
			golden.Check(t, filepath.Join("testdata", "v1alpha1", name+".golden.yaml"), out)
			checkV1Alpha1Schema(t, out)
		})
	}
	if n < 4 {
		t.Fatalf("found %d inputs under testdata/v1alpha1, want the 4 constructs at least", n)
	}
}

// The same input in any order converts to the same bytes.
func TestToV1Alpha1Deterministic(t *testing.T) {
	data, err := os.ReadFile("testdata/v1alpha1/baseline-merge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cnps := readCNPs(t, data)
	a1, b1, err := ToV1Alpha1(cnps)
	if err != nil {
		t.Fatal(err)
	}
	want := v1alpha1Manifests(t, a1, b1)
	rev := make([]*v1beta1.ClusterNetworkPolicy, len(cnps))
	for i, p := range cnps {
		rev[len(cnps)-1-i] = p
	}
	a2, b2, err := ToV1Alpha1(rev)
	if err != nil {
		t.Fatal(err)
	}
	if got := v1alpha1Manifests(t, a2, b2); !bytes.Equal(got, want) {
		t.Errorf("reversed input converts differently:\n%s", golden.Diff(want, got))
	}
	// The input is not modified.
	again := readCNPs(t, data)
	for i := range cnps {
		if string(manifest(t, cnps[i])) != string(manifest(t, again[i])) {
			t.Errorf("ToV1Alpha1 modified its input %s", cnps[i].Name)
		}
	}
}

// Every refusal: what has no exact v1alpha1 equivalent (or is no valid
// v1beta1) is an error naming the object and the field, and nothing is
// returned.
func TestToV1Alpha1Refusals(t *testing.T) {
	admin := func(name string, prio int32) *v1beta1.ClusterNetworkPolicy {
		p := &v1beta1.ClusterNetworkPolicy{}
		p.Name = name
		p.Spec.Tier = v1beta1.AdminTier
		p.Spec.Priority = prio
		p.Spec.Subject.Namespaces = &metav1.LabelSelector{}
		return p
	}
	baseline := func(name string, prio int32, ns string) *v1beta1.ClusterNetworkPolicy {
		p := admin(name, prio)
		p.Spec.Tier = v1beta1.BaselineTier
		p.Spec.Subject.Namespaces = &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}
		p.Spec.Ingress = []v1beta1.ClusterNetworkPolicyIngressRule{{Action: v1beta1.ClusterNetworkPolicyRuleActionDeny,
			From: []v1beta1.ClusterNetworkPolicyIngressPeer{{Namespaces: &metav1.LabelSelector{}}}}}
		return p
	}
	egress := func(p *v1beta1.ClusterNetworkPolicy, action v1beta1.ClusterNetworkPolicyRuleAction, peer v1beta1.ClusterNetworkPolicyEgressPeer) *v1beta1.ClusterNetworkPolicy {
		p.Spec.Egress = append(p.Spec.Egress, v1beta1.ClusterNetworkPolicyEgressRule{Action: action, To: []v1beta1.ClusterNetworkPolicyEgressPeer{peer}})
		return p
	}
	withProtocols := func(p *v1beta1.ClusterNetworkPolicy, protos ...v1beta1.ClusterNetworkPolicyProtocol) *v1beta1.ClusterNetworkPolicy {
		p = egress(p, v1beta1.ClusterNetworkPolicyRuleActionDeny, v1beta1.ClusterNetworkPolicyEgressPeer{Namespaces: &metav1.LabelSelector{}})
		p.Spec.Egress[len(p.Spec.Egress)-1].Protocols = append([]v1beta1.ClusterNetworkPolicyProtocol{}, protos...)
		return p
	}
	domains := v1beta1.ClusterNetworkPolicyEgressPeer{DomainNames: []v1beta1.DomainName{"example.com"}}
	many := func(name string, prio int32, n int) *v1beta1.ClusterNetworkPolicy {
		p := baseline(name, prio, "shop")
		for len(p.Spec.Ingress) < n {
			p.Spec.Ingress = append(p.Spec.Ingress, p.Spec.Ingress[0])
		}
		return p
	}
	tests := []struct {
		name string
		in   []*v1beta1.ClusterNetworkPolicy
		want string
	}{
		{"baseline domainNames", []*v1beta1.ClusterNetworkPolicy{egress(baseline("b", 1, "shop"), v1beta1.ClusterNetworkPolicyRuleActionAccept, domains)},
			`clusternetworkpolicy "b": spec.egress[0].to[0].domainNames: BaselineAdminNetworkPolicy has no domainNames peer (v1alpha1 allows them in the Admin tier only)`},
		{"baseline subjects differ", []*v1beta1.ClusterNetworkPolicy{baseline("shop-deny", 1, "shop"), baseline("vault-deny", 2, "vault")},
			`clusternetworkpolicy "vault-deny": spec.subject: differs from clusternetworkpolicy "shop-deny"'s: Baseline-tier policies become the one BaselineAdminNetworkPolicy "default", which has one subject, so they must all select the same pods`},
		{"baseline too many rules", []*v1beta1.ClusterNetworkPolicy{many("a", 1, 25), many("b", 2, 25), many("c", 3, 25), many("d", 4, 25), many("e", 5, 1)},
			`the Baseline-tier policies a, b, c, d, e have 101 ingress rules together; BaselineAdminNetworkPolicy "default" admits 100`},
		{"baseline label conflict", func() []*v1beta1.ClusterNetworkPolicy {
			a, b := baseline("a", 1, "shop"), baseline("b", 2, "shop")
			a.Labels, b.Labels = map[string]string{"team": "platform"}, map[string]string{"team": "security"}
			return []*v1beta1.ClusterNetworkPolicy{a, b}
		}(), `clusternetworkpolicy "b": metadata.labels: label "team" is "security" here and "platform" on clusternetworkpolicy "a", which merge into BaselineAdminNetworkPolicy "default"`},
		{"domainNames in a Deny", []*v1beta1.ClusterNetworkPolicy{egress(admin("a", 1), v1beta1.ClusterNetworkPolicyRuleActionDeny, domains)},
			`clusternetworkpolicy "a": spec.egress[0].to[0].domainNames: only an Accept rule may have domainNames peers, this one is Deny`},
		{"unknown tier", []*v1beta1.ClusterNetworkPolicy{func() *v1beta1.ClusterNetworkPolicy { p := admin("a", 1); p.Spec.Tier = "Developer"; return p }()},
			`clusternetworkpolicy "a": spec.tier: "Developer": want Admin or Baseline`},
		{"unknown action", []*v1beta1.ClusterNetworkPolicy{egress(admin("a", 1), "Allow", v1beta1.ClusterNetworkPolicyEgressPeer{Namespaces: &metav1.LabelSelector{}})},
			`clusternetworkpolicy "a": spec.egress[0].action: "Allow": want Accept, Deny or Pass`},
		{"no name", []*v1beta1.ClusterNetworkPolicy{admin("", 1)}, `metadata.name: required`},
		{"duplicate name", []*v1beta1.ClusterNetworkPolicy{admin("a", 1), admin("a", 2)},
			`clusternetworkpolicy "a": metadata.name: two ClusterNetworkPolicies have this name`},
		{"priority out of range", []*v1beta1.ClusterNetworkPolicy{admin("a", 1001)}, `clusternetworkpolicy "a": spec.priority: 1001: want 0 to 1000`},
		{"subject with two fields", []*v1beta1.ClusterNetworkPolicy{func() *v1beta1.ClusterNetworkPolicy {
			p := admin("a", 1)
			p.Spec.Subject.Pods = &v1beta1.NamespacedPod{}
			return p
		}()}, `clusternetworkpolicy "a": spec.subject: exactly one field must be set, 2 are`},
		{"empty peer", []*v1beta1.ClusterNetworkPolicy{egress(admin("a", 1), v1beta1.ClusterNetworkPolicyRuleActionDeny, v1beta1.ClusterNetworkPolicyEgressPeer{})},
			`clusternetworkpolicy "a": spec.egress[0].to[0]: exactly one field must be set, 0 are`},
		{"no peers", []*v1beta1.ClusterNetworkPolicy{func() *v1beta1.ClusterNetworkPolicy {
			p := admin("a", 1)
			p.Spec.Ingress = []v1beta1.ClusterNetworkPolicyIngressRule{{Action: v1beta1.ClusterNetworkPolicyRuleActionDeny}}
			return p
		}()}, `clusternetworkpolicy "a": spec.ingress[0].from: must have at least one item`},
		{"empty protocols", []*v1beta1.ClusterNetworkPolicy{withProtocols(admin("a", 1))},
			`clusternetworkpolicy "a": spec.egress[0].protocols: must have at least one item`},
		{"protocol without a port", []*v1beta1.ClusterNetworkPolicy{withProtocols(admin("a", 1), v1beta1.ClusterNetworkPolicyProtocol{TCP: &v1beta1.ClusterNetworkPolicyProtocolTCP{}})},
			`clusternetworkpolicy "a": spec.egress[0].protocols[0].tcp.destinationPort: required`},
		{"protocol with two fields", []*v1beta1.ClusterNetworkPolicy{withProtocols(admin("a", 1), v1beta1.ClusterNetworkPolicyProtocol{
			UDP: &v1beta1.ClusterNetworkPolicyProtocolUDP{DestinationPort: &v1beta1.Port{Number: 53}}, DestinationNamedPort: "dns"})},
			`clusternetworkpolicy "a": spec.egress[0].protocols[0]: exactly one field must be set, 2 are`},
		{"port with number and range", []*v1beta1.ClusterNetworkPolicy{withProtocols(admin("a", 1), v1beta1.ClusterNetworkPolicyProtocol{
			SCTP: &v1beta1.ClusterNetworkPolicyProtocolSCTP{DestinationPort: &v1beta1.Port{Number: 53, Range: &v1beta1.PortRange{Start: 1, End: 2}}}})},
			`clusternetworkpolicy "a": spec.egress[0].protocols[0].sctp.destinationPort: exactly one field must be set, 2 are`},
		{"backwards range", []*v1beta1.ClusterNetworkPolicy{withProtocols(admin("a", 1), v1beta1.ClusterNetworkPolicyProtocol{
			TCP: &v1beta1.ClusterNetworkPolicyProtocolTCP{DestinationPort: &v1beta1.Port{Range: &v1beta1.PortRange{Start: 90, End: 80}}}})},
			`clusternetworkpolicy "a": spec.egress[0].protocols[0].tcp.destinationPort.range: 90-80: want 1 <= start < end <= 65535`},
		{"nil policy", []*v1beta1.ClusterNetworkPolicy{nil}, `cnps[0]: nil ClusterNetworkPolicy`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			anps, banp, err := ToV1Alpha1(tt.in)
			if err == nil {
				t.Fatalf("no error; want %s", tt.want)
			}
			if anps != nil || banp != nil {
				t.Errorf("returned objects along with the error: %d AdminNetworkPolicies, baseline %v", len(anps), banp != nil)
			}
			lines := strings.Split(err.Error(), "\n")
			found := false
			for _, l := range lines {
				found = found || l == tt.want
			}
			if !found {
				t.Errorf("error:\n%s\nwant a line:\n%s", err, tt.want)
			}
		})
	}
}

// Every problem of a run is reported at once, sorted.
func TestToV1Alpha1AllProblems(t *testing.T) {
	a := &v1beta1.ClusterNetworkPolicy{}
	a.Name, a.Spec.Tier, a.Spec.Priority = "z", "Nope", 2000
	b := &v1beta1.ClusterNetworkPolicy{}
	b.Name, b.Spec.Tier = "a", v1beta1.AdminTier
	_, _, err := ToV1Alpha1([]*v1beta1.ClusterNetworkPolicy{a, b})
	if err == nil {
		t.Fatal("no error")
	}
	want := `clusternetworkpolicy "a": spec.subject: exactly one field must be set, 0 are
clusternetworkpolicy "z": spec.priority: 2000: want 0 to 1000
clusternetworkpolicy "z": spec.tier: "Nope": want Admin or Baseline`
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
}

// checkV1Alpha1Schema fails t unless validateV1Alpha1 accepts out.
func checkV1Alpha1Schema(t *testing.T, out []byte) {
	t.Helper()
	if err := validateV1Alpha1(out); err != nil {
		t.Error(err)
	}
}

// validateV1Alpha1 decodes every document of out strictly into its
// v1alpha1 type and validates it against the experimental CRD schema of
// network-policy-api (testdata/v1alpha1/crd: the version
// kube-network-policies is built against), with unknown fields refused
// where the API server would prune them. CEL rules (x-kubernetes-
// validations) are not evaluated here; the e2e test creates the objects on
// a real API server, which does.
func validateV1Alpha1(out []byte) error {
	var errs []error
	for i, doc := range bytes.Split(out, []byte("---\n")) {
		var tm struct{ APIVersion, Kind string }
		if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
			return err
		}
		if tm.APIVersion != "policy.networking.k8s.io/v1alpha1" {
			errs = append(errs, fmt.Errorf("document %d: apiVersion %q", i, tm.APIVersion))
		}
		var err error
		var crd string
		switch tm.Kind {
		case "AdminNetworkPolicy":
			err, crd = sigsyaml.UnmarshalStrict(doc, &v1alpha1.AdminNetworkPolicy{}), "policy.networking.k8s.io_adminnetworkpolicies.yaml"
		case "BaselineAdminNetworkPolicy":
			err, crd = sigsyaml.UnmarshalStrict(doc, &v1alpha1.BaselineAdminNetworkPolicy{}), "policy.networking.k8s.io_baselineadminnetworkpolicies.yaml"
		default:
			return fmt.Errorf("document %d: kind %q", i, tm.Kind)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: strict decode: %w", i, err))
		}
		schema, err := crdSchema(crd)
		if err != nil {
			return err
		}
		j, err := sigsyaml.YAMLToJSON(doc)
		if err != nil {
			return err
		}
		v, err := santhosh.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			return err
		}
		if err := schema.Validate(v); err != nil {
			errs = append(errs, fmt.Errorf("document %d (%s): CRD schema: %w", i, tm.Kind, err))
		}
	}
	return errors.Join(errs...)
}

// The schema check can fail: an unknown field, a missing required one and
// a value out of range are each refused.
func TestValidateV1Alpha1Refuses(t *testing.T) {
	good := "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n  - {action: Deny, from: [{namespaces: {}}]}\n"
	if err := validateV1Alpha1([]byte(good)); err != nil {
		t.Fatalf("a valid AdminNetworkPolicy is refused: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown field":  strings.Replace(good, "priority: 1", "priority: 1\n  tier: Admin", 1),
		"missing action": strings.Replace(good, "action: Deny, ", "", 1),
		"priority":       strings.Replace(good, "priority: 1", "priority: 1001", 1),
		"bad action":     strings.Replace(good, "action: Deny", "action: Accept", 1),
	} {
		if err := validateV1Alpha1([]byte(doc)); err == nil {
			t.Errorf("%s: accepted:\n%s", name, doc)
		}
	}
}

var crdSchemas = map[string]*santhosh.Schema{}

func crdSchema(file string) (*santhosh.Schema, error) {
	if s, ok := crdSchemas[file]; ok {
		return s, nil
	}
	data, err := os.ReadFile(filepath.Join("testdata", "v1alpha1", "crd", file))
	if err != nil {
		return nil, err
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				}
			}
		}
	}
	if err := sigsyaml.Unmarshal(data, &crd); err != nil {
		return nil, err
	}
	var schema map[string]any
	for _, v := range crd.Spec.Versions {
		if v.Name == "v1alpha1" {
			schema = v.Schema.OpenAPIV3Schema
		}
	}
	if schema == nil {
		return nil, fmt.Errorf("%s: no v1alpha1 schema", file)
	}
	closeObjects(schema)
	c := santhosh.NewCompiler()
	if err := c.AddResource("crd.json", schema); err != nil {
		return nil, err
	}
	s, err := c.Compile("crd.json")
	if err != nil {
		return nil, err
	}
	crdSchemas[file] = s
	return s, nil
}

// closeObjects makes every object schema with properties refuse other
// properties, as a structural schema prunes them (strictly: refuses them,
// under strict field validation), and drops the OpenAPI-only keywords.
func closeObjects(s map[string]any) {
	if props, ok := s["properties"].(map[string]any); ok {
		if _, set := s["additionalProperties"]; !set && s["x-kubernetes-preserve-unknown-fields"] != true {
			s["additionalProperties"] = false
		}
		for _, p := range props {
			if m, ok := p.(map[string]any); ok {
				closeObjects(m)
			}
		}
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if m, ok := s[k].(map[string]any); ok {
			closeObjects(m)
		}
	}
}

// The v1alpha1 objects examples/guardrails commits for prod (guardrails.api
// v1alpha1) pass the strict decode and the v1alpha1 CRD schemas.
func TestExampleV1Alpha1ObjectsValidate(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "guardrails", "netpol", "overlays", "prod", "_cluster", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateV1Alpha1(data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal(data, &tm); err != nil {
			t.Fatal(err)
		}
		kinds[tm.Kind]++
	}
	if kinds["AdminNetworkPolicy"] == 0 || kinds["BaselineAdminNetworkPolicy"] != 1 {
		t.Errorf("prod's _cluster holds %v: want AdminNetworkPolicies and one BaselineAdminNetworkPolicy", kinds)
	}
}
