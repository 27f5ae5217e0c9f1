package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netdep/netdep/generator/eval"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const denyAll = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: web}
spec: {podSelector: {}}
`

// TestLoadManifestsNamespaces reads Namespaces from plain files, Lists and
// kustomizations, beside the policies, and refuses one namespace with two
// sets of labels.
func TestLoadManifestsNamespaces(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    map[string]string
		paths    []string // default: the directory of files
		want     []eval.Namespace
		policies int
		wantErr  string
	}{{
		name: "namespaces beside a policy",
		files: map[string]string{"all.yaml": denyAll + `---
apiVersion: v1
kind: Namespace
metadata:
  name: web
  labels: {team: web, tier: "1"}
  annotations: {owner: someone}
status: {phase: Active}
---
apiVersion: v1
kind: Namespace
metadata: {name: bare}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web, namespace: web, labels: {team: other}}
`},
		want: []eval.Namespace{
			{Name: "bare"},
			{Name: "web", Labels: map[string]string{"team": "web", "tier": "1"}},
		},
		policies: 1,
	}, {
		name: "lists",
		files: map[string]string{"list.yaml": `apiVersion: v1
kind: NamespaceList
items:
- metadata: {name: a, labels: {team: a}}
- metadata: {name: b}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: c, labels: {team: c}}}
- {apiVersion: v1, kind: Service, metadata: {name: c, labels: {team: x}}}
`},
		want: []eval.Namespace{
			{Name: "a", Labels: map[string]string{"team": "a"}},
			{Name: "b"},
			{Name: "c", Labels: map[string]string{"team": "c"}},
		},
	}, {
		name: "kustomization and a repeated identical namespace",
		files: map[string]string{
			"k/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [ns.yaml, deny.yaml]\n",
			"k/ns.yaml":            "apiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: {team: web}}\n",
			"k/deny.yaml":          denyAll,
			"again.yaml":           "apiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: {team: web}}\n",
		},
		paths:    []string{"k", "again.yaml"},
		want:     []eval.Namespace{{Name: "web", Labels: map[string]string{"team": "web"}}},
		policies: 1,
	}, {
		name: "kustomization built by krusty",
		files: map[string]string{
			"k/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [ns.yaml, deny.yaml]\nlabels: [{pairs: {env: dev}}]\n",
			"k/ns.yaml":            "apiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: {team: web}}\n",
			"k/deny.yaml":          denyAll,
		},
		paths:    []string{"k"},
		want:     []eval.Namespace{{Name: "web", Labels: map[string]string{"team": "web", "env": "dev"}}},
		policies: 1,
	}, {
		name:  "not a v1 Namespace",
		files: map[string]string{"ns.yaml": "apiVersion: example.com/v1\nkind: Namespace\nmetadata: {name: web, labels: {team: web}}\n"},
	}, {
		name: "conflicting labels",
		files: map[string]string{
			"a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: {team: web}}\n",
			"b.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: {team: shop}}\n",
		},
		wantErr: `b.yaml: Namespace "web": labels {team=shop} differ from the ones in <dir>/a.yaml ({team=web})`,
	}, {
		name:    "namespace without a name",
		files:   map[string]string{"a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {labels: {team: web}}\n"},
		wantErr: `a.yaml: document 1: 1:1: Namespace: metadata.name: expected a name, found none`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			paths := []string{dir}
			if len(tc.paths) > 0 {
				paths = nil
				for _, p := range tc.paths {
					paths = append(paths, filepath.Join(dir, p))
				}
			}
			m, err := LoadManifests(paths)
			if tc.wantErr != "" {
				want := strings.ReplaceAll(tc.wantErr, "<dir>", dir)
				if err == nil || !strings.HasSuffix(err.Error(), want) {
					t.Fatalf("error %v, want one ending in %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, m.Namespaces); diff != "" {
				t.Errorf("namespaces (-want +got):\n%s", diff)
			}
			if len(m.Policies) != tc.policies {
				t.Errorf("%d policies, want %d", len(m.Policies), tc.policies)
			}
		})
	}
}

// TestCheckWithNamespaceLabels: policies whose cross-namespace peers select
// namespaces by a team label are exact only over a world whose namespaces
// carry that label, and a namespace only the Namespace objects know joins
// the world, so a selector matching it shows as excess.
func TestCheckWithNamespaceLabels(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"web/deps.yaml": "netdep: v1\nnamespace: web\nservices:\n  frontend:\n    calls: [api/api:http]\n",
		"api/deps.yaml": "netdep: v1\nnamespace: api\nservices:\n  api:\n    ports: {http: 8080}\n",
	})
	spec, set := loadGenerated(t, dir)
	// The generated policies select web and api by name; rewrite those
	// selectors to {team: <name>}.
	byTeam := func(ps []*networkingv1.NetworkPolicy, dropPodSelector bool) []*networkingv1.NetworkPolicy {
		var out []*networkingv1.NetworkPolicy
		relabel := func(peer *networkingv1.NetworkPolicyPeer) {
			if s := peer.NamespaceSelector; s != nil {
				if n := s.MatchLabels[eval.NamespaceNameLabel]; n == "web" || n == "api" {
					peer.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": n}}
					if dropPodSelector {
						peer.PodSelector = nil
					}
				}
			}
		}
		for _, p := range ps {
			p = p.DeepCopy()
			for i := range p.Spec.Ingress {
				for j := range p.Spec.Ingress[i].From {
					relabel(&p.Spec.Ingress[i].From[j])
				}
			}
			for i := range p.Spec.Egress {
				for j := range p.Spec.Egress[i].To {
					relabel(&p.Spec.Egress[i].To[j])
				}
			}
			out = append(out, p)
		}
		return out
	}
	teams := []eval.Namespace{
		{Name: "api", Labels: map[string]string{"team": "api"}},
		{Name: "web", Labels: map[string]string{"team": "web"}},
	}
	legacy := append([]eval.Namespace{{Name: "legacy", Labels: map[string]string{"team": "web"}}}, teams...)
	for _, tc := range []struct {
		name            string
		policies        []*networkingv1.NetworkPolicy
		namespaces      []eval.Namespace
		missing, excess []string
	}{
		{name: "by name, no Namespace objects", policies: set.Render("")},
		{name: "by name, with Namespace objects", policies: set.Render(""), namespaces: teams},
		{name: "by label, no Namespace objects", policies: byTeam(set.Render(""), false),
			missing: []string{"web/frontend -> api/api 8080/TCP"}},
		{name: "by label, with Namespace objects", policies: byTeam(set.Render(""), false), namespaces: teams},
		{name: "by label, another namespace has the label", policies: byTeam(set.Render(""), true), namespaces: legacy,
			// Without pod selectors each side admits the whole namespace:
			// web's other pods on api's ingress and api's other pods on
			// web's egress, each hidden today by the other side's
			// isolation, are excess on that side alone.
			excess: []string{
				"legacy/(unlabelled) -> api/api 8080/TCP",
				"web/(unlabelled) -> api/api 8080/TCP",
				"web/frontend -> api/(unlabelled) 8080/TCP",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := CheckWith(spec, "", tc.policies, Options{Namespaces: tc.namespaces})
			if err != nil {
				t.Fatal(err)
			}
			show := func(ds []Difference) []string {
				var out []string
				for _, d := range ds {
					out = append(out, d.Source+" -> "+d.Destination+" "+d.Ports)
				}
				return out
			}
			if diff := cmp.Diff(tc.missing, show(r.Missing)); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.excess, show(r.Excess)); diff != "" {
				t.Errorf("excess (-want +got):\n%s", diff)
			}
		})
	}
}
