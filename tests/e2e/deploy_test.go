package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// TestDeployManifests holds every manifest under examples/*/deploy (Argo CD
// Applications, ApplicationSets, the plugin's ConfigMap, the Flux objects)
// to a real API server with the upstream CRDs installed: each is
// server-side applied as a dry run with strict field validation, so the
// CRDs' OpenAPI schemas and the API server's own validation judge them and
// nothing is stored. The repo-server patch is applied, also as a dry run, as
// the strategic-merge patch it is, to a stand-in argocd-repo-server.
//
// Argo CD's controllers cannot be built here (gitops-engine v3 does not
// build with this Go), so what an Argo CD sync does with these objects is
// not exercised; TestFluxGitOps runs Flux's own controllers instead.
//
// The CRDs come from ../shared/crds beside the repository (not copied into
// it); where that folder is absent the test skips and says so.
func TestDeployManifests(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	crdRoot := filepath.Join(root, "..", "shared", "crds")
	var crdFiles []string
	for _, sub := range []string{"argo-cd", "flux"} {
		fs, _ := filepath.Glob(filepath.Join(crdRoot, sub, "*.yaml"))
		if len(fs) == 0 {
			t.Skipf("SKIPPED: no upstream %s CRDs in %s (the shared folder beside the repository is absent)", sub, filepath.Join(crdRoot, sub))
		}
		crdFiles = append(crdFiles, fs...)
	}
	manifests, err := filepath.Glob(filepath.Join(root, "examples", "*", "deploy", "*", "*.yaml"))
	if err != nil || len(manifests) == 0 {
		t.Fatalf("no manifests under examples/*/deploy (%v)", err)
	}
	sort.Strings(manifests)

	ctx, bins := gitopsSetup(t, "the deploy manifests check")
	tb, err := NewTestbed(ctx, &Universe{}, 901)
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
	crds, err := objs.InstallCRDs(ctx, crdFiles)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d upstream CRDs installed from %s in %s: %s", len(crds), crdRoot, time.Since(t0).Round(time.Millisecond), strings.Join(crds, ", "))
	for _, ns := range []string{"argocd", fluxNamespace} {
		if err := EnsureNamespace(ctx, c, ns); err != nil {
			t.Fatal(err)
		}
	}

	// Negative control: the same path rejects a misspelt field and a wrong
	// type, so an accepted manifest was really judged by the schema.
	for name, bad := range map[string]string{
		"unknown field": `{"apiVersion":"argoproj.io/v1alpha1","kind":"Application","metadata":{"name":"bad","namespace":"argocd"},"spec":{"project":"default","sourse":{},"destination":{}}}`,
		"wrong type":    `{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","metadata":{"name":"bad","namespace":"flux-system"},"spec":{"interval":"10m","prune":"yes","sourceRef":{"kind":"GitRepository","name":"x"}}}`,
	} {
		var obj unstructured.Unstructured
		if err := json.Unmarshal([]byte(bad), &obj.Object); err != nil {
			t.Fatal(err)
		}
		if _, err := objs.Apply(ctx, &obj, true); err == nil {
			t.Errorf("negative control (%s): the API server accepted %s", name, bad)
		} else {
			t.Logf("negative control (%s) rejected as it must be: %v", name, err)
		}
	}

	checked := 0
	for _, f := range manifests {
		rel, _ := filepath.Rel(root, f)
		list, err := ReadObjects(f)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		for _, obj := range list {
			// The plugin's ConfigMap and the repo-server patch name no
			// namespace: the Argo CD install's kustomization sets argocd
			// (tests.TestCMPSidecarPatchInArgoInstall builds it).
			if obj.GetNamespace() == "" && strings.Contains(filepath.ToSlash(rel), "/argocd/cmp-") {
				obj.SetNamespace("argocd")
			}
			what := fmt.Sprintf("%s %s/%s", obj.GetKind(), obj.GetNamespace(), obj.GetName())
			if strings.HasSuffix(f, "-patch.yaml") {
				err = dryRunPatch(ctx, c, obj)
			} else {
				_, err = objs.Apply(ctx, obj, true)
			}
			if err != nil {
				t.Errorf("%s: %s: %v", rel, what, err)
				continue
			}
			checked++
			t.Logf("%s: %s: accepted (server-side dry run)", rel, what)
		}
	}
	fmt.Printf("\ndeploy manifests: %d objects from %d files accepted by kube-apiserver with %d upstream Argo CD and Flux CRDs (server-side dry run, strict field validation)\n",
		checked, len(manifests), len(crds))
}

// dryRunPatch applies a strategic-merge patch for the Argo CD repo server to
// a stand-in Deployment of that name (created for real: nothing runs it),
// as a dry run, and so checks that the patch merges into a valid Deployment.
func dryRunPatch(ctx context.Context, c *Cluster, patch *unstructured.Unstructured) error {
	if patch.GetKind() != "Deployment" {
		return fmt.Errorf("only Deployment patches are expected, got %s", patch.GetKind())
	}
	labels := map[string]string{"app.kubernetes.io/name": patch.GetName()}
	standIn := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: patch.GetName(), Namespace: patch.GetNamespace()},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "argocd-repo-server", Image: "e2e.invalid/argocd:0"}},
					// The volumes the upstream repo server has and the patch
					// mounts without declaring.
					Volumes: []corev1.Volume{
						{Name: "var-files", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
						{Name: "plugins", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
	deploys := c.Client.AppsV1().Deployments(patch.GetNamespace())
	if _, err := deploys.Get(ctx, standIn.Name, metav1.GetOptions{}); err != nil {
		if _, err := deploys.Create(ctx, standIn, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("stand-in %s: %w", standIn.Name, err)
		}
	}
	data, err := patch.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = deploys.Patch(ctx, patch.GetName(), types.StrategicMergePatchType, data,
		metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
	return err
}
