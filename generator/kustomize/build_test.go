package kustomize

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netdep/netdep/generator/policy"
)

func TestBuildGolden(t *testing.T) {
	tests := []struct {
		name string
		set  *policy.Set
		opts Options
	}{
		{"environments", testSet(), Options{}},
		{"environments-per-namespace", testSet(), Options{Layout: LayoutPerNamespace}},
		{"base-only", baseOnlySet(), Options{}},
		{"base-only-per-namespace", baseOnlySet(), Options{Layout: LayoutPerNamespace}},
		{"empty", &policy.Set{}, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := BuildWithOptions(tt.set, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkGoldenTree(t, "build/"+tt.name, tree)
		})
	}
}

// Every YAML file carries the header, and no serialised object carries
// fields the API server owns or a named port.
func TestBuildFileShape(t *testing.T) {
	for _, layout := range []Layout{LayoutPerEnvironment, LayoutPerNamespace} {
		tree, err := BuildWithOptions(testSet(), Options{Layout: layout})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tree.Paths() {
			b, _ := tree.Get(p)
			if p == MarkerName {
				continue
			}
			if !strings.HasPrefix(string(b), Header) {
				t.Errorf("%v %s: does not start with %q", layout, p, Header)
			}
			for _, bad := range []string{"creationTimestamp", "status:", "commonLabels", "labels:\n  app.kubernetes.io/managed-by: kustomize", "namespace: \n", "patches"} {
				if strings.Contains(string(b), bad) {
					t.Errorf("%v %s: contains %q", layout, p, bad)
				}
			}
		}
	}
}

// Same set, any input order: same bytes.
func TestBuildDeterministic(t *testing.T) {
	a, err := Build(testSet())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		set := testSet()
		rng.Shuffle(len(set.Base), func(i, j int) { set.Base[i], set.Base[j] = set.Base[j], set.Base[i] })
		b, err := Build(set)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Equal(b) {
			t.Fatalf("two builds differ: %v", a.Diff(b).Paths())
		}
	}
}

// Build must not write apiVersion/kind (or anything) into the caller's
// objects: the set is shared with verify and diff.
func TestBuildDoesNotModifyInput(t *testing.T) {
	set := testSet()
	before := set.Base[0].DeepCopy()
	if _, err := Build(set); err != nil {
		t.Fatal(err)
	}
	if set.Base[0].Kind != "" || set.Base[0].APIVersion != "" || set.Base[0].Name != before.Name {
		t.Errorf("Build modified its input: %+v", set.Base[0].TypeMeta)
	}
}

func TestBuildErrors(t *testing.T) {
	named := func() *networkingv1.NetworkPolicy {
		p := defaultDeny("shop")
		p.Name = "web"
		tcp := corev1.ProtocolTCP
		http := intstr.FromString("http")
		p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &http}}}}
		return p
	}
	withName := func(ns, name string) *networkingv1.NetworkPolicy {
		p := defaultDeny(ns)
		p.ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: name}
		return p
	}
	tests := []struct {
		name string
		set  *policy.Set
		want string
	}{
		{"nil set", nil, "no policy set"},
		{"overlay count", &policy.Set{Environments: []string{"dev"}}, "1 environments but 0 overlays"},
		{"duplicate in base", &policy.Set{Base: []*networkingv1.NetworkPolicy{defaultDeny("shop"), defaultDeny("shop")}},
			"base/shop/default-deny.yaml: both policy shop/default-deny and policy shop/default-deny map to this file"},
		{"overlay repeats base", &policy.Set{Environments: []string{"dev"}, Base: []*networkingv1.NetworkPolicy{defaultDeny("shop")}, Overlays: [][]*networkingv1.NetworkPolicy{{defaultDeny("shop")}}},
			"environment dev: policy shop/default-deny is also in the base"},
		{"bad environment", &policy.Set{Environments: []string{"../x"}, Overlays: [][]*networkingv1.NetworkPolicy{nil}}, `environment "../x"`},
		{"duplicate environment", &policy.Set{Environments: []string{"dev", "dev"}, Overlays: [][]*networkingv1.NetworkPolicy{nil, nil}}, `environment "dev": listed twice`},
		{"no namespace", &policy.Set{Base: []*networkingv1.NetworkPolicy{withName("", "x")}}, "policy /x: namespace"},
		{"name with slash", &policy.Set{Base: []*networkingv1.NetworkPolicy{withName("shop", "a/b")}}, "policy shop/a/b: name"},
		{"name with dots only", &policy.Set{Base: []*networkingv1.NetworkPolicy{withName("shop", "..")}}, "policy shop/..: name"},
		{"upper case", &policy.Set{Base: []*networkingv1.NetworkPolicy{withName("shop", "Web")}}, "policy shop/Web: name"},
		{"reserved name", &policy.Set{Base: []*networkingv1.NetworkPolicy{withName("shop", "kustomization")}}, "reserved"},
		{"named port", &policy.Set{Base: []*networkingv1.NetworkPolicy{named()}}, `spec.ingress[0].ports[0]: named port "http", want a number`},
		{"nil policy", &policy.Set{Base: []*networkingv1.NetworkPolicy{nil}}, "nil policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, layout := range []Layout{LayoutPerEnvironment, LayoutPerNamespace} {
				_, err := BuildWithOptions(tt.set, Options{Layout: layout})
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%v: got error %v, want one containing %q", layout, err, tt.want)
				}
			}
		})
	}
}

func TestParseLayout(t *testing.T) {
	for _, l := range []Layout{LayoutPerEnvironment, LayoutPerNamespace} {
		got, err := ParseLayout(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLayout(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := ParseLayout("flat"); err == nil {
		t.Error("ParseLayout(flat) succeeded")
	}
}

func TestNewTreeErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"absolute", map[string][]byte{"/etc/x": nil}, "absolute"},
		{"dot dot", map[string][]byte{"../x": nil}, "leaves the tree"},
		{"unclean", map[string][]byte{"a//b": nil}, "not clean"},
		{"backslash", map[string][]byte{`a\b`: nil}, "backslash"},
		{"empty", map[string][]byte{"": nil}, "empty path"},
		{"marker", map[string][]byte{MarkerName: nil}, "reserved"},
		{"file and dir", map[string][]byte{"a": nil, "a/b": nil}, "both a file and a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTree(tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestTreeDiff(t *testing.T) {
	a := mustBuild(t, map[string]string{"x": "1", "y": "2", "z": "3"})
	b := mustBuild(t, map[string]string{"x": "1", "y": "changed", "w": "new"})
	c := a.Diff(b)
	want := Changes{Added: []string{"w"}, Removed: []string{"z"}, Modified: []string{MarkerName, "y"}}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("Diff (-want +got):\n%s", d)
	}
	if a.Equal(b) || !a.Equal(a) || c.Empty() {
		t.Error("Equal/Empty disagree with Diff")
	}
}
