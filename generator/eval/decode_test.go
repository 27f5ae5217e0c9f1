package eval_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/netdep/netdep/generator/eval"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		names []string // namespace/name of the decoded policies
		errs  []string // each error's text, in order
	}{
		{
			name: "policies among other kinds, empty documents skipped",
			in: `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: shop}
spec: {podSelector: {}}
---
apiVersion: crd.projectcalico.org/v1
kind: NetworkPolicy
metadata: {name: calico, namespace: shop}
spec: {selector: all(), whatever: 1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: shop}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{ports: [{port: http}, {port: 8000, endPort: 8100}]}]
`,
			names: []string{"shop/a", "shop/b"},
		},
		{
			name: "List and NetworkPolicyList are expanded",
			in: `apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: a, namespace: x1}
  spec: {podSelector: {}}
- apiVersion: v1
  kind: Service
  metadata: {name: s}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicyList
items:
- metadata: {name: b, namespace: x1}
  spec: {podSelector: {}}
`,
			names: []string{"x1/a", "x1/b"},
		},
		{
			name: "unknown field, with document and position",
			in: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: shop}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - form: []
    ports: [{port: 80, protocl: TCP}]
`,
			errs: []string{
				`12:5: document 2: spec.ingress[0]: unknown field "form"`,
				`13:24: document 2: spec.ingress[0].ports[0]: unknown field "protocl"`,
			},
		},
		{
			name: "wrong types and duplicates",
			in: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: shop, labels: {x: 1}}
spec:
  podSelector: {}
  podSelector: {}
  ingress: {}
  egress: [{ports: [{port: [80], endPort: "90"}]}]
`,
			errs: []string{
				`3:50: document 1: metadata.labels.x: expected a string, found a number 1`,
				`6:3: document 1: spec.podSelector: duplicate field "podSelector"`,
				`7:12: document 1: spec.ingress: expected a list, found a mapping`,
				`8:28: document 1: spec.egress[0].ports[0].port: expected a number or a string, found a list`,
				`8:43: document 1: spec.egress[0].ports[0].endPort: expected a number, found "90"`,
			},
		},
		{
			name: "old API versions are errors, not silently skipped",
			in: `apiVersion: extensions/v1beta1
kind: NetworkPolicy
metadata: {name: a}
`,
			errs: []string{`1:1: document 1: apiVersion: unsupported apiVersion "extensions/v1beta1" for NetworkPolicy (want networking.k8s.io/v1)`},
		},
		{
			name: "not an object",
			in:   "- a\n- b\n",
			errs: []string{`1:1: document 1: expected a Kubernetes object (a mapping), found a list`},
		},
		{
			name: "missing kind",
			in:   "metadata: {name: a}\n",
			errs: []string{`1:1: document 1: not a Kubernetes object: apiVersion and kind are required`},
		},
		{
			name: "syntax error",
			in:   "apiVersion: v1\nkind: [\n",
			errs: []string{`2: document 1: did not find expected node content`},
		},
		{
			name: "YAML 1.2: y is a string",
			in: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: y, creationTimestamp: 2024-01-02T03:04:05Z}
spec: {podSelector: {matchLabels: {on: yes}}}
`,
			names: []string{"y/a"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := eval.Decode([]byte(tc.in))
			var got []string
			if err != nil {
				for _, e := range unjoin(err) {
					got = append(got, e.Error())
				}
				if diff := cmp.Diff(tc.errs, got); diff != "" {
					t.Fatalf("errors (-want +got):\n%s", diff)
				}
				return
			}
			if tc.errs != nil {
				t.Fatalf("no error, want %q", tc.errs)
			}
			for _, p := range ps {
				got = append(got, p.Namespace+"/"+p.Name)
			}
			if diff := cmp.Diff(tc.names, got); diff != "" {
				t.Errorf("policies (-want +got):\n%s", diff)
			}
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestDecodeKeepsNilAndEmptyApart(t *testing.T) {
	ps, err := eval.Decode([]byte(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - {}
  - from: [{namespaceSelector: {}}, {podSelector: {matchLabels: {app: x}}}]
  egress: []
`))
	if err != nil {
		t.Fatal(err)
	}
	want := networkingv1.NetworkPolicySpec{
		Ingress: []networkingv1.NetworkPolicyIngressRule{
			{},
			{From: []networkingv1.NetworkPolicyPeer{
				{NamespaceSelector: &metav1.LabelSelector{}},
				{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}},
			}},
		},
		Egress: []networkingv1.NetworkPolicyEgressRule{},
	}
	if diff := cmp.Diff(want, ps[0].Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	if ps[0].Kind != "NetworkPolicy" || ps[0].APIVersion != "networking.k8s.io/v1" {
		t.Errorf("type meta %v", ps[0].TypeMeta)
	}
}

// FuzzDecode: Decode never panics; whatever it accepts survives defaulting,
// validation and evaluation, and decodes again after marshalling.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: b}\nspec:\n  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}], ports: [{port: 80, endPort: 90}]}]\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: a}\n  spec: {podSelector: {matchExpressions: [{key: a, operator: In, values: [b]}]}, egress: [{to: [{namespaceSelector: {}}]}]}\n"))
	f.Add([]byte("a: &a [*a, *a]\n---\nkind: NetworkPolicy\n"))
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems: [{metadata: {name: x, creationTimestamp: 2020-01-01T00:00:00Z}, spec: {podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: http, protocol: UDP}]}]}}]\n"))
	u := universe()
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := eval.Decode(data)
		if err != nil {
			return
		}
		valid := true
		for _, p := range ps {
			if len(eval.Validate(eval.Default(p))) > 0 {
				valid = false
			}
		}
		if valid {
			e, err := eval.New(u, ps)
			if err != nil {
				t.Fatalf("valid policies rejected: %v", err)
			}
			_ = e.Reachability().Flows()
		}
		var b strings.Builder
		for _, p := range ps {
			y, err := yaml.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString("---\n")
			b.Write(y)
		}
		again, err := eval.Decode([]byte(b.String()))
		if err != nil {
			t.Fatalf("re-decoding %q: %v", b.String(), err)
		}
		if len(again) != len(ps) {
			t.Fatalf("re-decoded %d policies, want %d", len(again), len(ps))
		}
	})
}
