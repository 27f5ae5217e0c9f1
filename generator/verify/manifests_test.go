package verify

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/schema"
)

// TestResourcesOnlyMatchesKrusty: the shortcut for resources-only
// kustomizations yields the same objects as krusty on every overlay of the
// examples.
func TestResourcesOnlyMatchesKrusty(t *testing.T) {
	root := filepath.Join(repoRoot, "examples")
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "netpol", "overlays", "*"))
	base, _ := filepath.Glob(filepath.Join(root, "*", "netpol", "base"))
	dirs = append(dirs, base...)
	if len(dirs) < 4 {
		t.Fatalf("expected the examples' overlays, found %v", dirs)
	}
	byID := func(ps []*networkingv1.NetworkPolicy) map[string]*networkingv1.NetworkPolicy {
		m := map[string]*networkingv1.NetworkPolicy{}
		for _, p := range ps {
			m[p.Namespace+"/"+p.Name] = p
		}
		return m
	}
	for _, dir := range dirs {
		var files []string
		ok, err := resourcesOnly(dir, 0, &files)
		if !ok || err != nil {
			t.Fatalf("%s: resourcesOnly ok=%v err=%v", dir, ok, err)
		}
		c := &collector{}
		if err := c.addFiles(files); err != nil {
			t.Fatal(err)
		}
		got := c.policies
		m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			t.Fatal(err)
		}
		y, err := m.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		want, err := eval.Decode(y)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(byID(want), byID(got)); diff != "" {
			t.Errorf("%s (-krusty +resourcesOnly):\n%s", dir, diff)
		}
	}
}

// TestManifestsNotEvaluated: every object of a kind that can change
// connectivity and that verify does not evaluate is listed, with where it
// starts; the networking.k8s.io/v1 NetworkPolicies are evaluated, and kinds
// that cannot change connectivity stay quiet.
func TestManifestsNotEvaluated(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []ObjectRef // File is filled in
		pols int
	}{
		{name: "cilium network policy",
			yaml: "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: shop}\nspec:\n  endpointSelector: {}\n  ingress:\n  - fromEntities: [cluster]\n",
			want: []ObjectRef{{APIVersion: "cilium.io/v2", Kind: "CiliumNetworkPolicy", Namespace: "shop", Name: "a", Line: 7, Column: 19,
				Field: "spec.ingress[0].fromEntities", Reason: "an entity peer is not evaluated"}}},
		{name: "cilium clusterwide network policy",
			yaml: "# cluster-scoped\napiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: b}\n",
			want: []ObjectRef{{APIVersion: "cilium.io/v2", Kind: "CiliumClusterwideNetworkPolicy", Name: "b", Line: 2, Column: 1}}},
		{name: "calico network policy, crd group",
			yaml: "apiVersion: crd.projectcalico.org/v1\nkind: NetworkPolicy\nmetadata: {name: c, namespace: shop}\n",
			want: []ObjectRef{{APIVersion: "crd.projectcalico.org/v1", Kind: "NetworkPolicy", Namespace: "shop", Name: "c", Line: 1, Column: 1}}},
		{name: "calico global network policy, v3 api",
			yaml: "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: d}\n",
			want: []ObjectRef{{APIVersion: "projectcalico.org/v3", Kind: "GlobalNetworkPolicy", Name: "d", Line: 1, Column: 1}}},
		{name: "calico global network set: a policy's peers, in the group",
			yaml: "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: e}\n",
			want: []ObjectRef{{APIVersion: "projectcalico.org/v3", Kind: "GlobalNetworkSet", Name: "e", Line: 1, Column: 1}}},
		{name: "admin network policy, evaluated",
			yaml: "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: f}\nspec: {priority: 10, subject: {namespaces: {}}}\n"},
		{name: "baseline admin network policy, evaluated",
			yaml: "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec: {subject: {namespaces: {}}}\n"},
		{name: "admin network policy of another version",
			yaml: "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: AdminNetworkPolicy\nmetadata: {name: f}\n",
			want: []ObjectRef{{APIVersion: "policy.networking.k8s.io/v1alpha2", Kind: "AdminNetworkPolicy", Name: "f", Line: 1, Column: 1}}},
		{name: "cluster network policy, evaluated",
			yaml: "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: g}\nspec: {tier: Admin, priority: 10, subject: {namespaces: {}}}\n"},
		{name: "any other kind ending in NetworkPolicy",
			yaml: "apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: h}\n",
			want: []ObjectRef{{APIVersion: "crd.antrea.io/v1beta1", Kind: "ClusterNetworkPolicy", Name: "h", Line: 1, Column: 1}}},
		{name: "a list, items positioned",
			yaml: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: cilium.io/v2\n  kind: CiliumClusterwideNetworkPolicy\n  metadata: {name: i, namespace: web}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: j}\n",
			want: []ObjectRef{{APIVersion: "cilium.io/v2", Kind: "CiliumClusterwideNetworkPolicy", Namespace: "web", Name: "i", Line: 4, Column: 3}}},
		{name: "a typed list, items without kind",
			yaml: "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicyList\nitems:\n- metadata: {name: k, namespace: web}\n",
			want: []ObjectRef{{APIVersion: "cilium.io/v2", Kind: "CiliumClusterwideNetworkPolicy", Namespace: "web", Name: "k", Line: 4, Column: 3}}},
		{name: "several documents, in order",
			yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: crd.projectcalico.org/v1\nkind: NetworkPolicy\nmetadata: {name: m, namespace: shop}\n---\napiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: l, namespace: shop}\n",
			want: []ObjectRef{
				{APIVersion: "crd.projectcalico.org/v1", Kind: "NetworkPolicy", Namespace: "shop", Name: "m", Line: 5, Column: 1},
				{APIVersion: "cilium.io/v2", Kind: "CiliumClusterwideNetworkPolicy", Namespace: "shop", Name: "l", Line: 9, Column: 1},
			}},
		{name: "networking.k8s.io/v1 network policy is evaluated",
			yaml: "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec: {podSelector: {}}\n",
			pols: 1},
		{name: "kinds that cannot change connectivity stay quiet",
			yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: d}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "objects.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := LoadManifests([]string{file})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			for i := range want {
				want[i].File = file
			}
			if diff := cmp.Diff(want, m.NotEvaluated, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("NotEvaluated (-want +got):\n%s", diff)
			}
			if len(m.Policies) != tc.pols {
				t.Errorf("%d policies, want %d", len(m.Policies), tc.pols)
			}
		})
	}
}

// TestManifestsNotEvaluatedSorted: objects from several files and
// directories come sorted by file and position, each once however often
// its file is named.
func TestManifestsNotEvaluatedSorted(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, data string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b := write("b.yaml", "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: z, namespace: shop}\n")
	a := write("sub/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: y}\n")
	m, err := LoadManifests([]string{filepath.Join(dir, "sub"), b, dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectRef{
		{APIVersion: "cilium.io/v2", Kind: "CiliumClusterwideNetworkPolicy", Namespace: "shop", Name: "z", File: b, Line: 1, Column: 1},
		{APIVersion: "projectcalico.org/v3", Kind: "GlobalNetworkPolicy", Name: "y", File: a, Line: 5, Column: 1},
	}
	if diff := cmp.Diff(want, m.NotEvaluated); diff != "" {
		t.Errorf("NotEvaluated (-want +got):\n%s", diff)
	}
}

// TestManifestsNotEvaluatedKustomization: a kustomization's objects are
// listed too, whether it is read directly (resources only) or built with
// krusty; the Loader reports them from its cache as well.
func TestManifestsNotEvaluatedKustomization(t *testing.T) {
	cnp := "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: wide, namespace: shop}\n"
	np := "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n"
	for _, tc := range []struct {
		name, kustomization string
		file                func(dir string) string
	}{
		{name: "resources only", kustomization: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [np.yaml, cnp.yaml]\n",
			file: func(dir string) string { return filepath.Join(dir, "cnp.yaml") }},
		{name: "built by krusty", kustomization: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [np.yaml, cnp.yaml]\ncommonLabels: {team: shop}\n",
			file: func(dir string) string { return "kustomize build " + dir }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range map[string]string{"kustomization.yaml": tc.kustomization, "np.yaml": np, "cnp.yaml": cnp} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			m, err := LoadManifests([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Policies) != 1 || len(m.NotEvaluated) != 1 {
				t.Fatalf("%d policies and %v not evaluated, want 1 and one CiliumClusterwideNetworkPolicy", len(m.Policies), m.NotEvaluated)
			}
			got := m.NotEvaluated[0]
			if got.Kind != "CiliumClusterwideNetworkPolicy" || got.Namespace != "shop" || got.Name != "wide" || got.File != tc.file(dir) || got.Line == 0 {
				t.Errorf("NotEvaluated = %+v, want CiliumClusterwideNetworkPolicy shop/wide in %s", got, tc.file(dir))
			}
			var l Loader
			for i := range 2 { // the second time from the cache
				b, err := l.Build(dir)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(m.NotEvaluated, b.NotEvaluated); diff != "" {
					t.Errorf("Loader.Build #%d: NotEvaluated (-LoadManifests +Build):\n%s", i+1, diff)
				}
			}
		})
	}
}

// TestNotEvaluatedWarnings: one warning per object, by file and position,
// naming kind, namespace and name; a name that would break the line is
// quoted and clipped.
func TestNotEvaluatedWarnings(t *testing.T) {
	refs := []ObjectRef{
		{APIVersion: "cilium.io/v2", Kind: "CiliumNetworkPolicy", Namespace: "shop", Name: "wide", File: "p/b.yaml", Line: 3, Column: 1, Field: "spec.egress[0].toEntities", Reason: "an entity peer is not evaluated"},
		{APIVersion: "projectcalico.org/v3", Kind: "GlobalNetworkPolicy", Name: "deny\nall", File: "p/a.yaml", Line: 7, Column: 1},
		{APIVersion: "cilium.io/v2", Kind: "CiliumNetworkPolicy", Namespace: "shop", Name: "wide", File: "p/b.yaml", Line: 3, Column: 1, Field: "spec.egress[0].toEntities", Reason: "an entity peer is not evaluated"},
	}
	var got []string
	for _, p := range NotEvaluatedWarnings(refs) {
		got = append(got, p.String())
	}
	want := []string{
		`p/a.yaml:7:1: warning: GlobalNetworkPolicy "deny\nall" (projectcalico.org/v3) is not evaluated: netdep evaluates NetworkPolicy (networking.k8s.io/v1), ClusterNetworkPolicy (policy.networking.k8s.io/v1beta1), AdminNetworkPolicy/BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1), CiliumNetworkPolicy (cilium.io/v2) and Calico's NetworkPolicy, StagedNetworkPolicy and StagedKubernetesNetworkPolicy (projectcalico.org/v3) only, and this object can change connectivity`,
		`p/b.yaml:3:1: warning: CiliumNetworkPolicy shop/wide (cilium.io/v2) is not evaluated: spec.egress[0].toEntities: an entity peer is not evaluated by netdep, and this object can change connectivity`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestSummaryPartial: a verdict over objects that were not evaluated says
// so, exact or not.
func TestSummaryPartial(t *testing.T) {
	r := &Report{Policies: 3, Pods: 6, Addresses: 2, NotEvaluated: 2}
	if got, want := r.Summary(), "exact for the objects it evaluated only; 2 objects not evaluated (3 policies over 6 pods and 2 address classes)"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	r.NotEvaluated = 1
	r.Missing = []Difference{{}}
	if got, want := r.Summary(), "1 missing, 0 in excess for the objects it evaluated only; 1 object not evaluated (3 policies over 6 pods and 2 address classes)"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	r.NotEvaluated, r.Missing = 0, nil
	if got, want := r.Summary(), "exact (3 policies over 6 pods and 2 address classes)"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}

// TestVerdictPartial: a report that is exact with objects not evaluated
// says "partial" in its verdict, the field machines read; one that differs
// keeps "differs".
func TestVerdictPartial(t *testing.T) {
	r := &Report{Verdict: "exact"}
	r.MarkNotEvaluated(2)
	if r.Verdict != "partial" || r.NotEvaluated != 2 {
		t.Errorf("exact with 2 objects not evaluated: verdict %q, notEvaluated %d", r.Verdict, r.NotEvaluated)
	}
	r = &Report{Verdict: "differs", Excess: []Difference{{}}}
	r.MarkNotEvaluated(1)
	if r.Verdict != "differs" {
		t.Errorf("differs with 1 object not evaluated: verdict %q", r.Verdict)
	}
	r = &Report{Verdict: "exact"}
	r.MarkNotEvaluated(0)
	if r.Verdict != "exact" {
		t.Errorf("exact with nothing left out: verdict %q", r.Verdict)
	}
}

// TestScanNotEvaluated: the scan lists what LoadManifests lists, and a
// policy or document LoadManifests refuses does not stop it.
func TestScanNotEvaluated(t *testing.T) {
	file := filepath.Join(t.TempDir(), "objects.yaml")
	data := "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: a, namespace: shop}\n---\n" +
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b}\nspec: {podSelector: {}, unknown: 1}\n---\n" +
		"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: c}\n---\n" +
		"key: [unclosed\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadManifests([]string{file}); err == nil {
		t.Fatalf("LoadManifests read %s without an error", file)
	}
	got, err := ScanNotEvaluated([]string{file})
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectRef{
		{APIVersion: "cilium.io/v2", Kind: "CiliumClusterwideNetworkPolicy", Namespace: "shop", Name: "a", File: file, Line: 1, Column: 1},
		{APIVersion: "projectcalico.org/v3", Kind: "GlobalNetworkPolicy", Name: "c", File: file, Line: 10, Column: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ScanNotEvaluated (-want +got):\n%s", diff)
	}
	if _, err := ScanNotEvaluated([]string{filepath.Join(t.TempDir(), "missing.yaml")}); err == nil {
		t.Errorf("ScanNotEvaluated of a missing file: no error")
	}
}

// TestClusterPoliciesAreRead: a v1beta1 ClusterNetworkPolicy is read and
// evaluated by LoadManifests (not listed as not evaluated), while the scan
// diff uses still names it, since diff compares NetworkPolicies only.
func TestClusterPoliciesAreRead(t *testing.T) {
	dir := writeFiles(t, map[string]string{"g.yaml": "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: g}\nspec: {tier: Admin, priority: 10, subject: {namespaces: {}}}\n"})
	m, err := LoadManifests([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ClusterPolicies) != 1 || m.ClusterPolicies[0].Name != "g" || len(m.NotEvaluated) != 0 {
		t.Errorf("LoadManifests: %d cluster policies, not evaluated %v; want g, none", len(m.ClusterPolicies), m.NotEvaluated)
	}
	refs, err := ScanNotEvaluated([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Kind != "ClusterNetworkPolicy" {
		t.Errorf("ScanNotEvaluated = %v, want the ClusterNetworkPolicy", refs)
	}
	if w := NotEvaluatedWarnings(refs); len(w) != 1 || !strings.Contains(w[0].Message, "diff compares NetworkPolicies only") {
		t.Errorf("warning %v does not say diff is what leaves it out", w)
	}
}

// TestEveryKindsProblemsAtOnce: a file holding a bad NetworkPolicy and a
// bad ClusterNetworkPolicy is refused with both problems, not the first
// kind's alone.
func TestEveryKindsProblemsAtOnce(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.yaml": "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: web}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: 0}]}]\n" +
		"---\napiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: g}\nspec: {tier: Admin, priority: 5000, subject: {namespaces: {}}}\n"})
	_, err := LoadManifests([]string{dir})
	var probs schema.Problems
	if !errors.As(err, &probs) || len(probs) != 2 {
		t.Fatalf("want two problems, got %v", err)
	}
	if !strings.Contains(probs[0].String(), "networkpolicy web/x") || !strings.Contains(probs[1].String(), "clusternetworkpolicy g") {
		t.Errorf("problems %v do not name both objects", probs)
	}
}

// TestScanPluginKinds: diff evaluates the plugins' objects, so its scan
// names only one outside what netdep evaluates, at its field (it said
// "diff compares NetworkPolicies only" of every one before).
func TestScanPluginKinds(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"in.yaml":  "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: in, namespace: a}\nspec:\n  endpointSelector: {matchLabels: {app: x}}\n  egress:\n  - toFQDNs: [{matchName: api.stripe.com}]\n",
		"out.yaml": "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: out, namespace: a}\nspec:\n  endpointSelector: {matchLabels: {app: x}}\n  ingress:\n  - fromEntities: [cluster]\n",
	})
	refs, err := ScanNotEvaluated([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Name != "out" || refs[0].Field == "" {
		t.Fatalf("ScanNotEvaluated = %+v, want only out, at its field", refs)
	}
	w := NotEvaluatedWarnings(refs)
	if len(w) != 1 || strings.Contains(w[0].Message, "NetworkPolicies only") || !strings.Contains(w[0].Message, "fromEntities") {
		t.Errorf("warning %v", w)
	}
}
