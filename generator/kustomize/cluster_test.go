package kustomize

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

// guardrailSet is examples/guardrails generated with prod in v1beta1 too
// (the example writes prod in v1alpha1, whose objects cannot share the
// base with staging's): Admin guardrails in the base, the Baseline default
// deny in prod's overlay, default-deny NetworkPolicies in staging's.
func guardrailSet(t *testing.T) *policy.Set {
	t.Helper()
	files, probs := schema.ReadPaths([]string{filepath.Join("..", "..", "examples", "guardrails")})
	if len(probs.Errors()) > 0 {
		t.Fatal(probs)
	}
	files = slices.Clone(files)
	found := false
	for i, f := range files {
		if filepath.Base(f.Path) == "netdep.yaml" && bytes.Contains(f.Data, []byte("\n      api: v1alpha1\n")) {
			files[i].Data, found = bytes.Replace(f.Data, []byte("\n      api: v1alpha1\n"), []byte("\n"), 1), true
		}
	}
	if !found {
		t.Fatal("examples/guardrails/netdep.yaml no longer sets prod's api: v1alpha1")
	}
	set := generatedSet(t, files)
	if len(set.ClusterBase) == 0 || len(set.ClusterOverlay("prod")) == 0 || len(set.ClusterOverlay("staging")) != 0 {
		t.Fatalf("examples/guardrails no longer has base and prod-only cluster policies: base %d, prod %d, staging %d",
			len(set.ClusterBase), len(set.ClusterOverlay("prod")), len(set.ClusterOverlay("staging")))
	}
	return set
}

// splitRendered parses a rendering into NetworkPolicies and
// ClusterNetworkPolicies, strictly, refusing any other kind.
func splitRendered(t *testing.T, out []byte) ([]*networkingv1.NetworkPolicy, []*v1beta1.ClusterNetworkPolicy) {
	t.Helper()
	var nps []*networkingv1.NetworkPolicy
	var cnps []*v1beta1.ClusterNetworkPolicy
	for _, doc := range strings.Split(string(out), "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		switch {
		case strings.Contains(doc, "kind: NetworkPolicy\n"):
			p := &networkingv1.NetworkPolicy{}
			if err := yaml.UnmarshalStrict([]byte(doc), p); err != nil {
				t.Fatalf("%v in\n%s", err, doc)
			}
			nps = append(nps, p)
		case strings.Contains(doc, "kind: ClusterNetworkPolicy\n"):
			p := &v1beta1.ClusterNetworkPolicy{}
			if err := yaml.UnmarshalStrict([]byte(doc), p); err != nil {
				t.Fatalf("%v in\n%s", err, doc)
			}
			cnps = append(cnps, p)
		default:
			t.Fatalf("unexpected document:\n%s", doc)
		}
	}
	sortByID(nps)
	return nps, cnps
}

func clusterWithTypeMeta(ps []*v1beta1.ClusterNetworkPolicy) []*v1beta1.ClusterNetworkPolicy {
	out := make([]*v1beta1.ClusterNetworkPolicy, len(ps))
	for i, p := range ps {
		q := p.DeepCopy()
		q.APIVersion, q.Kind = v1beta1.GroupVersion.String(), "ClusterNetworkPolicy"
		out[i] = q
	}
	return out
}

// TestClusterPoliciesRender: in both layouts, every environment renders
// exactly its NetworkPolicies and ClusterNetworkPolicies, and in the
// per-namespace layout the _cluster leaf renders exactly the latter (so a
// GitOps application syncs them once per cluster); kubectl kustomize, when
// present, prints what krusty does.
func TestClusterPoliciesRender(t *testing.T) {
	set := guardrailSet(t)
	kubectl, _ := exec.LookPath("kubectl")
	for _, layout := range []Layout{LayoutPerEnvironment, LayoutPerNamespace} {
		tree, err := BuildWithOptions(set, Options{Layout: layout})
		if err != nil {
			t.Fatal(err)
		}
		disk := filepath.Join(t.TempDir(), "netpol")
		if err := Write(disk, tree, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		type rc struct {
			dir  string
			nps  []*networkingv1.NetworkPolicy
			cnps []*v1beta1.ClusterNetworkPolicy
		}
		cases := []rc{{"base", set.Base, set.ClusterBase}}
		for _, env := range set.Environments {
			cases = append(cases, rc{"overlays/" + env, set.Render(env), set.RenderCluster(env)})
			if layout == LayoutPerNamespace {
				cases = append(cases, rc{"overlays/" + env + "/" + ClusterDir, nil, set.RenderCluster(env)})
			}
		}
		if layout == LayoutPerNamespace {
			cases = append(cases, rc{"base/" + ClusterDir, nil, set.ClusterBase})
		}
		for _, c := range cases {
			t.Run(layout.String()+"/"+c.dir, func(t *testing.T) {
				out, err := Render(tree, c.dir)
				if err != nil {
					t.Fatal(err)
				}
				nps, cnps := splitRendered(t, out)
				if d := cmp.Diff(withTypeMeta(c.nps), nps, cmpopts.EquateEmpty()); d != "" {
					t.Errorf("NetworkPolicies of %s (-want +got):\n%s", c.dir, d)
				}
				if d := cmp.Diff(clusterWithTypeMeta(c.cnps), cnps); d != "" {
					t.Errorf("ClusterNetworkPolicies of %s (-want +got):\n%s", c.dir, d)
				}
				if kubectl == "" {
					return
				}
				var stdout, stderr bytes.Buffer
				cmd := exec.Command(kubectl, "kustomize", filepath.Join(disk, filepath.FromSlash(c.dir)))
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"))
				if err := cmd.Run(); err != nil {
					t.Fatalf("kubectl kustomize: %v\n%s", err, stderr.Bytes())
				}
				if stderr.Len() > 0 {
					t.Errorf("kubectl kustomize warned:\n%s", stderr.Bytes())
				}
				if !bytes.Equal(stdout.Bytes(), out) {
					t.Errorf("kubectl kustomize and krusty differ\n--- kubectl\n%s\n--- krusty\n%s", stdout.Bytes(), out)
				}
			})
		}
	}
}

// TestClusterPolicyInBaseAndOverlay: an environment's cluster policy named
// like a base one would not build; Build says so.
func TestClusterPolicyInBaseAndOverlay(t *testing.T) {
	set := guardrailSet(t)
	bad := *set
	bad.ClusterOverlays = append([][]*v1beta1.ClusterNetworkPolicy(nil), set.ClusterOverlays...)
	i := 0
	for set.Environments[i] != "staging" {
		i++
	}
	bad.ClusterOverlays[i] = []*v1beta1.ClusterNetworkPolicy{set.ClusterBase[0]}
	if _, err := Build(&bad); err == nil || !strings.Contains(err.Error(), "is also in the base") {
		t.Fatalf("Build = %v, expected the clash named", err)
	}
}

// TestClusterLeafJoins: in the per-namespace layout the leaves of an
// environment, _cluster among them, join to exactly what building the
// environment whole prints.
func TestClusterLeafJoins(t *testing.T) {
	set := guardrailSet(t)
	perEnv, err := Build(set)
	if err != nil {
		t.Fatal(err)
	}
	perNS, err := BuildWithOptions(set, Options{Layout: LayoutPerNamespace})
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range set.Environments {
		dir := "overlays/" + env
		if leaves := Leaves(perNS, dir); !slices.Contains(leaves, ClusterDir) {
			t.Errorf("Leaves(%s) = %v, expected %s among them", dir, leaves, ClusterDir)
		}
		whole, err := Render(perEnv, dir)
		if err != nil {
			t.Fatal(err)
		}
		joined, err := RenderLeaves(perNS, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(string(whole), string(joined)); d != "" {
			t.Errorf("%s: leaves joined differ from the whole (-whole +leaves):\n%s", dir, d)
		}
	}
}

// TestV1Alpha1Tree: examples/guardrails as written (prod in v1alpha1,
// staging in v1beta1): no cluster policy in the base, staging renders its
// ClusterNetworkPolicies, prod renders only AdminNetworkPolicies and the
// BaselineAdminNetworkPolicy "default", each ToV1Alpha1 of the Set's
// policy with its header, labels, source annotation and sync wave, and
// read back by eval's strict decoder they are the Set's policies again
// (same tier, priority, subject and rules).
func TestV1Alpha1Tree(t *testing.T) {
	files, probs := schema.ReadPaths([]string{filepath.Join("..", "..", "examples", "guardrails")})
	if len(probs.Errors()) > 0 {
		t.Fatal(probs)
	}
	set := generatedSet(t, files)
	if len(set.ClusterBase) != 0 || set.ClusterBaseV1Alpha1 {
		t.Fatalf("base: %d cluster policies (v1alpha1 %v), want none: environments in two APIs share none", len(set.ClusterBase), set.ClusterBaseV1Alpha1)
	}
	tree, err := Build(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range set.Environments {
		out, err := Render(tree, "overlays/"+env)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, doc := range strings.Split(string(out), "\n---\n") {
			for _, k := range []string{"ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"} {
				if strings.Contains(doc, "\nkind: "+k+"\n") || strings.HasPrefix(doc, "kind: "+k+"\n") {
					kinds = append(kinds, k)
				}
			}
		}
		slices.Sort(kinds)
		kinds = slices.Compact(kinds)
		want := map[string][]string{"prod": {"AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}, "staging": {"ClusterNetworkPolicy"}}[env]
		if !slices.Equal(kinds, want) {
			t.Errorf("%s renders %v, want %v", env, kinds, want)
		}
		back, err := eval.ParseDocuments(out).ClusterNetworkPolicies()
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		orig := set.RenderCluster(env)
		if len(back) != len(orig) {
			t.Fatalf("%s: %d cluster policies read back, want %d", env, len(back), len(orig))
		}
		byName := map[string]*v1beta1.ClusterNetworkPolicy{}
		for _, p := range back {
			byName[p.Name] = p
		}
		for _, p := range orig {
			name := p.Name
			if env == "prod" && p.Spec.Tier == v1beta1.BaselineTier {
				name = policy.BaselineName
			}
			q := byName[name]
			if q == nil {
				t.Fatalf("%s: %s not read back", env, name)
			}
			if env == "prod" {
				if q.Labels[policy.ManagedByLabel] != policy.ManagedByValue || q.Annotations[policy.SourceAnnotation] != p.Annotations[policy.SourceAnnotation] ||
					q.Annotations[policy.SyncWaveAnnotation] != p.Annotations[policy.SyncWaveAnnotation] {
					t.Errorf("%s: %s metadata %v %v, want %v %v", env, name, q.Labels, q.Annotations, p.Labels, p.Annotations)
				}
			}
			if d := cmp.Diff(p.Spec, q.Spec, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(v1beta1.ClusterNetworkPolicySpec{}, "Priority")); d != "" {
				t.Errorf("%s: %s read back differs (-generated +read):\n%s", env, name, d)
			}
		}
	}
	for _, p := range set.Render("prod") {
		if p.Name == policy.AllowDNSName {
			t.Errorf("prod has %s/%s: in v1alpha1 the dns guardrail's Admin Accept stands in for it", p.Namespace, p.Name)
		}
	}
	if b, ok := tree.files["overlays/prod/_cluster/default.yaml"]; !ok || !bytes.HasPrefix(b, []byte(Header)) {
		t.Errorf("overlays/prod/_cluster/default.yaml: missing or without the header")
	}
}
