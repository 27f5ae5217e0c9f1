package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestPluginObjectsValidate holds every plugin object of every scenario
// (the fixtures and every environment of every example: Cilium and Calico
// objects, staged ones included) to a real kube-apiserver with the
// upstream CRDs from ../shared/crds installed: each is server-side applied
// as a dry run with strict field validation, so the CRDs' OpenAPI schemas
// (enums, patterns, CEL rules) and the API server judge exactly what
// netdep emits, and nothing is stored. A negative control first: the same
// path rejects a Calico action misspelt and a Cilium field misspelt.
// It runs with NETDEP_E2E=1, as root, like the other e2e tests.
func TestPluginObjectsValidate(t *testing.T) {
	ctx, bins := gitopsSetup(t, "the plugin objects' validation")
	if _, err := os.Stat(CRDDir()); err != nil {
		t.Skipf("SKIPPED: no upstream CRDs beside the repository (%v)", err)
	}
	scs, err := LoadScenarios()
	if err != nil {
		t.Fatal(err)
	}
	validatePluginObjects(ctx, t, bins, scs)
}

func validatePluginObjects(ctx context.Context, t *testing.T, bins Binaries, scs []*Scenario) {
	var all []PluginObject
	namespaces := map[string]bool{}
	for _, sc := range scs {
		for _, p := range sc.NotEnforced {
			all = append(all, p)
			namespaces[p.Obj.GetNamespace()] = true
		}
	}
	if len(all) == 0 {
		t.Fatal("no plugin object in any scenario (the fixtures have some)")
	}
	tb, err := NewTestbed(ctx, &Universe{}, 902)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close(context.Background())
	c, err := StartCluster(ctx, tb.Node, bins, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	objs, err := NewObjects(c)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	crds, err := objs.InstallCRDs(ctx, PluginCRDFiles(CRDDir(), all))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d upstream CRDs installed in %s: %v", len(crds), time.Since(t0).Round(time.Millisecond), crds)
	for ns := range namespaces {
		if err := EnsureNamespace(ctx, c, ns); err != nil {
			t.Fatal(err)
		}
	}
	// Negative control: a misspelt Calico action (an enum) and a misspelt
	// Cilium field (strict decoding) on copies of real objects.
	controls := 0
	for _, p := range all {
		var bad *unstructured.Unstructured
		switch p.Kind.GVK {
		case calicoNPGVK:
			bad = p.Obj.DeepCopy()
			if err := unstructured.SetNestedSlice(bad.Object, []any{map[string]any{"action": "Logg"}}, "spec", "ingress"); err != nil {
				t.Fatal(err)
			}
		case ciliumNPGVK:
			bad = p.Obj.DeepCopy()
			if err := unstructured.SetNestedField(bad.Object, "x", "spec", "egresss"); err != nil {
				t.Fatal(err)
			}
		default:
			continue
		}
		controls++
		if _, err := objs.Apply(ctx, bad, true); err == nil {
			t.Errorf("negative control: the API server accepted a broken copy of %s", p)
		} else {
			t.Logf("negative control (broken copy of %s) rejected as it must be: %v", p, err)
		}
	}
	if controls == 0 {
		t.Error("no Calico NetworkPolicy or CiliumNetworkPolicy to break: the negative control did not run")
	}
	checked := 0
	for _, sc := range scs {
		for _, p := range sc.NotEnforced {
			if _, err := objs.Apply(ctx, p.Obj, true); err != nil {
				t.Errorf("%s: %s: %v", sc.Name, p, err)
				continue
			}
			checked++
		}
	}
	fmt.Printf("\nplugin objects: %d of %d accepted by kube-apiserver with %d upstream CRDs (server-side dry run, strict field validation); %d broken copies rejected\n",
		checked, len(all), len(crds), controls)
}
