package kustomize

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/tests/synth"
)

// renderCase is one kustomization directory of a built tree and the policies
// it must render.
type renderCase struct {
	dir  string
	want []*networkingv1.NetworkPolicy
}

// renderCases lists every directory with a kustomization in the layout:
// base, each overlay, and in the per-namespace layout each namespace of both.
func renderCases(set *policy.Set, layout Layout) []renderCase {
	cases := []renderCase{{"base", set.Base}}
	for _, env := range set.Environments {
		cases = append(cases, renderCase{"overlays/" + env, set.Render(env)})
	}
	if layout == LayoutPerNamespace {
		byNS := func(ps []*networkingv1.NetworkPolicy) map[string][]*networkingv1.NetworkPolicy {
			m := map[string][]*networkingv1.NetworkPolicy{}
			for _, p := range ps {
				m[p.Namespace] = append(m[p.Namespace], p)
			}
			return m
		}
		for ns, ps := range byNS(set.Base) {
			cases = append(cases, renderCase{"base/" + ns, ps})
		}
		for _, env := range set.Environments {
			for ns, ps := range byNS(set.Render(env)) {
				cases = append(cases, renderCase{"overlays/" + env + "/" + ns, ps})
			}
		}
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].dir < cases[j].dir })
	return cases
}

// TestRender builds every kustomization of every layout with krusty and
// checks it yields exactly the set's policies for that environment, typed
// and compared field by field, and that the bytes match a golden file.
func TestRender(t *testing.T) {
	sets := []struct {
		name string
		set  *policy.Set
	}{
		{"environments", testSet()},
		{"base-only", baseOnlySet()},
	}
	for _, s := range sets {
		for _, layout := range []Layout{LayoutPerEnvironment, LayoutPerNamespace} {
			tree, err := BuildWithOptions(s.set, Options{Layout: layout})
			if err != nil {
				t.Fatal(err)
			}
			for _, rc := range renderCases(s.set, layout) {
				t.Run(s.name+"/"+layout.String()+"/"+rc.dir, func(t *testing.T) {
					out, err := Render(tree, rc.dir)
					if err != nil {
						t.Fatal(err)
					}
					got := parsePolicies(t, out)
					want := withTypeMeta(rc.want)
					if d := cmp.Diff(want, got); d != "" {
						t.Errorf("render %s (-want +got):\n%s", rc.dir, d)
					}
					checkGoldenFile(t, "render/"+s.name+"/"+layout.String()+"/"+strings.ReplaceAll(rc.dir, "/", "_")+".yaml", out)
				})
			}
		}
	}
}

// The per-namespace layout is a different cut of the same policies: every
// environment renders to the same bytes in both.
func TestLayoutsRenderAlike(t *testing.T) {
	set := testSet()
	perEnv, err := Build(set)
	if err != nil {
		t.Fatal(err)
	}
	perNS, err := BuildWithOptions(set, Options{Layout: LayoutPerNamespace})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"base", "overlays/dev", "overlays/prod"} {
		a, err := Render(perEnv, dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Render(perNS, dir)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s renders differently in the two layouts", dir)
		}
	}
}

// TestRenderLeaves: joining the leaves of the per-namespace layout prints
// exactly what building the whole environment (or base) prints, in either
// layout, for the test sets and for synthetic organisations with
// environment-limited services, unmanaged namespaces and CIDR peers.
func TestRenderLeaves(t *testing.T) {
	sets := map[string]*policy.Set{"environments": testSet(), "base-only": baseOnlySet()}
	for seed := range int64(4) {
		files := synth.Org(synth.Options{Services: 40 + 30*int(seed), PerNamespace: 3 + int(seed), Seed: seed, NoProject: seed == 3})
		sets[fmt.Sprintf("synth-%d", seed)] = generatedSet(t, files)
	}
	for name, set := range sets {
		perEnv, err := BuildWithOptions(set, Options{Layout: LayoutPerEnvironment})
		if err != nil {
			t.Fatal(err)
		}
		perNS, err := BuildWithOptions(set, Options{Layout: LayoutPerNamespace})
		if err != nil {
			t.Fatal(err)
		}
		dirs := []string{"base"}
		for _, env := range set.Environments {
			dirs = append(dirs, "overlays/"+env)
		}
		for _, dir := range dirs {
			t.Run(name+"/"+dir, func(t *testing.T) {
				whole, err := Render(perEnv, dir)
				if err != nil {
					t.Fatal(err)
				}
				leaves := Leaves(perNS, dir)
				if len(leaves) == 0 || !sort.StringsAreSorted(leaves) {
					t.Fatalf("Leaves(%s) = %v, expected the sorted namespaces", dir, leaves)
				}
				if got := Leaves(perEnv, dir); len(got) != 0 {
					t.Errorf("Leaves of the per-environment layout's %s = %v, expected none", dir, got)
				}
				joined, err := RenderLeaves(perNS, dir, nil)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(string(whole), string(joined)); d != "" {
					t.Errorf("the leaves of %s joined differ from building it whole (-whole +leaves):\n%s", dir, d)
				}
				// One leaf alone is what building that leaf prints.
				last := leaves[len(leaves)-1]
				one, err := RenderLeaves(perNS, dir, []string{last})
				if err != nil {
					t.Fatal(err)
				}
				want, err := Render(perNS, dir+"/"+last)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(one, want) {
					t.Errorf("RenderLeaves(%s, [%s]) differs from Render(%s/%s)", dir, last, dir, last)
				}
			})
		}
	}
	tree, err := BuildWithOptions(testSet(), Options{Layout: LayoutPerNamespace})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RenderLeaves(tree, "overlays/dev", []string{"no-such-namespace"}); err == nil {
		t.Error("RenderLeaves of a namespace without a leaf succeeded")
	}
	// The per-environment layout has no leaves to join: an error, not an
	// empty rendering.
	perEnv, err := Build(testSet())
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"overlays/dev", "base", "overlays/staging"} {
		if out, err := RenderLeaves(perEnv, dir, nil); err == nil {
			t.Errorf("RenderLeaves(%s) of the per-environment layout succeeded with %d bytes", dir, len(out))
		}
	}
}

func TestRenderErrors(t *testing.T) {
	tree, err := Build(testSet())
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"overlays/staging", "../x", "/base", ""} {
		if _, err := Render(tree, dir); err == nil {
			t.Errorf("Render(%q) succeeded", dir)
		}
	}
}

// TestKubectlKustomize writes every layout to disk and requires `kubectl
// kustomize` (the kustomize users and Argo CD run) to print exactly what
// krusty does, with nothing on stderr: no deprecation warnings.
func TestKubectlKustomize(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on PATH: skipping the comparison with kubectl kustomize")
	}
	set := testSet()
	for _, layout := range []Layout{LayoutPerEnvironment, LayoutPerNamespace} {
		tree, err := BuildWithOptions(set, Options{Layout: layout})
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "netpol")
		if err := Write(dir, tree, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, rc := range renderCases(set, layout) {
			t.Run(layout.String()+"/"+rc.dir, func(t *testing.T) {
				want, err := Render(tree, rc.dir)
				if err != nil {
					t.Fatal(err)
				}
				var stdout, stderr bytes.Buffer
				cmd := exec.Command(kubectl, "kustomize", filepath.Join(dir, filepath.FromSlash(rc.dir)))
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				// No kubeconfig is needed; keep the user's out of the way.
				cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"))
				if err := cmd.Run(); err != nil {
					t.Fatalf("kubectl kustomize: %v\n%s", err, stderr.Bytes())
				}
				if stderr.Len() > 0 {
					t.Errorf("kubectl kustomize warned:\n%s", stderr.Bytes())
				}
				if !bytes.Equal(stdout.Bytes(), want) {
					t.Errorf("kubectl kustomize and krusty differ\n--- kubectl\n%s\n--- krusty\n%s", stdout.Bytes(), want)
				}
			})
		}
	}
}

func parsePolicies(t *testing.T, out []byte) []*networkingv1.NetworkPolicy {
	t.Helper()
	var ps []*networkingv1.NetworkPolicy
	for _, doc := range strings.Split(string(out), "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		p := &networkingv1.NetworkPolicy{}
		if err := yaml.UnmarshalStrict([]byte(doc), p); err != nil {
			t.Fatalf("%v in\n%s", err, doc)
		}
		ps = append(ps, p)
	}
	sortByID(ps)
	return ps
}

func withTypeMeta(ps []*networkingv1.NetworkPolicy) []*networkingv1.NetworkPolicy {
	out := make([]*networkingv1.NetworkPolicy, len(ps))
	for i, p := range ps {
		q := p.DeepCopy()
		q.APIVersion, q.Kind = "networking.k8s.io/v1", "NetworkPolicy"
		out[i] = q
	}
	sortByID(out)
	return out
}

func sortByID(ps []*networkingv1.NetworkPolicy) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Namespace != ps[j].Namespace {
			return ps[i].Namespace < ps[j].Namespace
		}
		return ps[i].Name < ps[j].Name
	})
}
