package tests

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/netdep/netdep/generator/kustomize"
)

// gitopsObject is the part of an Argo CD or Flux object these tests read.
type gitopsObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		// Argo CD Application and ApplicationSet template.
		Source *struct {
			Path      string         `yaml:"path"`
			Kustomize map[string]any `yaml:"kustomize"`
			Plugin    *struct {
				Name string `yaml:"name"`
				Env  []struct {
					Name  string `yaml:"name"`
					Value string `yaml:"value"`
				} `yaml:"env"`
			} `yaml:"plugin"`
		} `yaml:"source"`
		SyncPolicy *struct {
			SyncOptions []string `yaml:"syncOptions"`
		} `yaml:"syncPolicy"`
		Template *struct {
			Spec struct {
				Source struct {
					Path      string         `yaml:"path"`
					Kustomize map[string]any `yaml:"kustomize"`
				} `yaml:"source"`
				SyncPolicy struct {
					SyncOptions []string `yaml:"syncOptions"`
				} `yaml:"syncPolicy"`
			} `yaml:"spec"`
		} `yaml:"template"`
		Generators []struct {
			Git *struct {
				Directories []struct {
					Path    string `yaml:"path"`
					Exclude bool   `yaml:"exclude"`
				} `yaml:"directories"`
			} `yaml:"git"`
			Clusters *struct {
				Selector struct {
					MatchExpressions []struct {
						Key    string   `yaml:"key"`
						Values []string `yaml:"values"`
					} `yaml:"matchExpressions"`
				} `yaml:"selector"`
			} `yaml:"clusters"`
		} `yaml:"generators"`
		// Flux Kustomization.
		Path             string         `yaml:"path"`
		Prune            *bool          `yaml:"prune"`
		CommonMetadata   map[string]any `yaml:"commonMetadata"`
		Patches          []any          `yaml:"patches"`
		TargetNamespace  string         `yaml:"targetNamespace"`
		PostBuild        map[string]any `yaml:"postBuild"`
		SourceRef        map[string]any `yaml:"sourceRef"`
		ReconcileOptions map[string]any `yaml:"reconcileOptions"`
	} `yaml:"spec"`
}

func readGitops(t *testing.T, root string) map[string][]gitopsObject {
	t.Helper()
	out := map[string][]gitopsObject{}
	err := filepath.WalkDir(filepath.Join(root, "examples"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".yaml") || !strings.Contains(filepath.ToSlash(p), "/deploy/") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var o gitopsObject
			if err := dec.Decode(&o); err != nil {
				if err.Error() == "EOF" {
					break
				}
				t.Fatalf("%s: %v", p, err)
			}
			rel, _ := filepath.Rel(root, p)
			out[rel] = append(out[rel], o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGitopsWiring reads every Argo CD and Flux manifest under examples/ and
// checks what would break a sync or a policy: paths that do not exist in the
// committed tree, label or patch transformers that rewrite selectors, a
// missing PruneLast or prune.
func TestGitopsWiring(t *testing.T) {
	root := repoRoot(t)
	files := readGitops(t, root)
	if len(files) == 0 {
		t.Fatal("no Argo CD or Flux manifests found under examples/*/deploy")
	}
	kinds := map[string]int{}
	isOverlay := func(t *testing.T, where, path string) {
		t.Helper()
		full := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(path, "./")))
		if _, err := os.Stat(filepath.Join(full, "kustomization.yaml")); err != nil {
			t.Errorf("%s: path %q is not a kustomization in the committed tree: %v", where, path, err)
		}
	}
	pruneLast := func(t *testing.T, where string, opts []string) {
		t.Helper()
		for _, o := range opts {
			if o == "PruneLast=true" {
				return
			}
		}
		t.Errorf("%s: syncOptions %v lack PruneLast=true (a renamed policy would be pruned before its successor exists)", where, opts)
	}
	for file, objs := range files {
		for _, o := range objs {
			where := file + ": " + o.Kind + " " + o.Metadata.Name
			kinds[o.Kind]++
			switch o.Kind {
			case "Application":
				src := o.Spec.Source
				if src == nil {
					t.Errorf("%s: no spec.source", where)
					continue
				}
				if src.Kustomize != nil {
					t.Errorf("%s: spec.source.kustomize %v: netdep trees must be applied as written (commonLabels rewrites podSelectors)", where, src.Kustomize)
				}
				if src.Plugin == nil {
					isOverlay(t, where, src.Path)
				} else if _, err := os.Stat(filepath.Join(root, src.Path)); err != nil {
					t.Errorf("%s: plugin source path %q: %v", where, src.Path, err)
				}
				if o.Spec.SyncPolicy == nil {
					t.Errorf("%s: no syncPolicy", where)
				} else {
					pruneLast(t, where, o.Spec.SyncPolicy.SyncOptions)
				}
			case "ApplicationSet":
				tpl := o.Spec.Template
				if tpl == nil {
					t.Errorf("%s: no template", where)
					continue
				}
				if tpl.Spec.Source.Kustomize != nil {
					t.Errorf("%s: template source.kustomize must not be set", where)
				}
				pruneLast(t, where, tpl.Spec.SyncPolicy.SyncOptions)
				if gitDirectories(o) {
					checkLeaves(t, root, where, o)
					continue
				}
				// Every environment a cluster may be labelled with must
				// resolve to an overlay.
				var envs []string
				for _, g := range o.Spec.Generators {
					if g.Clusters == nil {
						continue
					}
					for _, m := range g.Clusters.Selector.MatchExpressions {
						envs = append(envs, m.Values...)
					}
				}
				if len(envs) == 0 {
					t.Errorf("%s: no environments in the cluster selector", where)
				}
				for _, env := range envs {
					path := tpl.Spec.Source.Path
					i, j := strings.Index(path, "{{"), strings.Index(path, "}}")
					if i < 0 || j < i {
						t.Errorf("%s: template path %q does not name the environment", where, path)
						break
					}
					isOverlay(t, where+" ("+env+")", path[:i]+env+path[j+2:])
				}
			case "Kustomization":
				if !strings.HasPrefix(o.APIVersion, "kustomize.toolkit.fluxcd.io/") {
					continue
				}
				isOverlay(t, where, o.Spec.Path)
				if o.Spec.Prune == nil || !*o.Spec.Prune {
					t.Errorf("%s: prune must be true so policies removed from the tree leave the cluster", where)
				}
				if o.Spec.CommonMetadata != nil || o.Spec.Patches != nil || o.Spec.TargetNamespace != "" {
					t.Errorf("%s: commonMetadata, patches and targetNamespace rewrite or replace policies", where)
				}
			case "ConfigMap":
				if p := o.Data["plugin.yaml"]; p != "" && !strings.Contains(p, "netdep render") {
					t.Errorf("%s: the plugin does not run netdep render", where)
				}
			}
		}
	}
	for _, k := range []string{"Application", "ApplicationSet", "Kustomization", "GitRepository"} {
		if kinds[k] == 0 {
			t.Errorf("no %s among the examples' GitOps manifests", k)
		}
	}
}

// TestRenderMatchesOverlay: `netdep render --env E` prints exactly what
// building the committed overlay prints, so generate-at-sync and the
// committed tree apply the same objects.
func TestRenderMatchesOverlay(t *testing.T) {
	root := repoRoot(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skipf("kubectl not installed (%v)", err)
	}
	for _, env := range []string{"dev", "staging", "prod"} {
		res := run(t, root, "render", "--env", env, "examples/shop")
		if res.code != 0 {
			t.Fatalf("render %s: exit %d\n%s", env, res.code, res.stderr)
		}
		if res.stderr != "" {
			t.Errorf("render %s wrote to stderr: %q", env, res.stderr)
		}
		out, err := exec.Command(kubectl, "kustomize", filepath.Join(root, "examples/shop/netpol/overlays", env)).Output()
		if err != nil {
			t.Fatalf("kubectl kustomize: %v", err)
		}
		if diff := cmp.Diff(string(out), res.stdout); diff != "" {
			t.Errorf("render --env %s differs from kubectl kustomize overlays/%s (-kubectl +render):\n%s", env, env, diff)
		}
	}
}

// gitDirectories reports whether an ApplicationSet generates from git
// directories.
func gitDirectories(o gitopsObject) bool {
	for _, g := range o.Spec.Generators {
		if g.Git != nil && len(g.Git.Directories) > 0 {
			return true
		}
	}
	return false
}

// checkLeaves holds an ApplicationSet with a git directory generator to what
// the per-namespace layout needs: its template syncs the directory it found,
// and its globs find, in the committed tree, every leaf kustomization of
// every environment and nothing that is not one (in the per-environment
// layout overlays/<env>/<namespace> holds additions without the base).
func checkLeaves(t *testing.T, root, where string, o gitopsObject) {
	t.Helper()
	if p := o.Spec.Template.Spec.Source.Path; p != "{{ .path.path }}" {
		t.Errorf("%s: template path %q; expected '{{ .path.path }}', the directory found", where, p)
	}
	found := map[string]bool{}
	for _, g := range o.Spec.Generators {
		if g.Git == nil {
			continue
		}
		for _, d := range g.Git.Directories {
			if d.Exclude {
				continue
			}
			matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(d.Path)))
			if err != nil {
				t.Fatalf("%s: %q: %v", where, d.Path, err)
			}
			for _, m := range matches {
				if st, err := os.Stat(m); err != nil || !st.IsDir() {
					continue // the generator finds directories only
				}
				rel, _ := filepath.Rel(root, m)
				found[filepath.ToSlash(rel)] = true
				if _, err := os.Stat(filepath.Join(m, "kustomization.yaml")); err != nil {
					t.Errorf("%s: %q finds %s, which is not a kustomization", where, d.Path, rel)
				}
			}
			// Every leaf of every environment of the tree the glob points
			// into (the directory holding the .netdep-tree marker) must be
			// found.
			fixed, _, _ := strings.Cut(d.Path, "*")
			tree := filepath.Join(root, filepath.FromSlash(path.Dir(fixed+"x")))
			for tree != root {
				if _, err := os.Stat(filepath.Join(tree, kustomize.MarkerName)); err == nil {
					break
				}
				tree = filepath.Dir(tree)
			}
			if tree == root {
				t.Errorf("%s: %q points into no generated tree", where, d.Path)
				continue
			}
			_ = filepath.WalkDir(filepath.Join(tree, "overlays"), func(p string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() || e.Name() != "kustomization.yaml" {
					return err
				}
				dir := filepath.Dir(p)
				if entries, _ := os.ReadDir(dir); hasSubdir(entries) {
					return nil // not a leaf
				}
				rel, _ := filepath.Rel(root, dir)
				if !found[filepath.ToSlash(rel)] {
					t.Errorf("%s: no Application for the leaf %s", where, rel)
				}
				return nil
			})
		}
	}
	if len(found) == 0 {
		t.Errorf("%s: its directories find nothing in the committed tree", where)
	}
}

func hasSubdir(entries []fs.DirEntry) bool {
	for _, e := range entries {
		if e.IsDir() {
			return true
		}
	}
	return false
}

// TestCMPPluginCommand runs the Config Management Plugin's generate command
// through sh, as Argo CD's sidecar does, with a stand-in netdep on PATH that
// records its arguments; netdep is then run with them and must print what
// building the overlay (or, with NETDEP_NAMESPACE, the leaf) prints. This
// holds the shell quoting of the documented command.
func TestCMPPluginCommand(t *testing.T) {
	root := repoRoot(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skipf("sh not installed (%v)", err)
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skipf("kubectl not installed (%v)", err)
	}
	data, err := os.ReadFile(filepath.Join(root, "examples/shop/deploy/argocd/cmp-plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&cm); err != nil {
		t.Fatal(err)
	}
	var plugin struct {
		Spec struct {
			Generate struct {
				Command []string `yaml:"command"`
				Args    []string `yaml:"args"`
			} `yaml:"generate"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["plugin.yaml"]), &plugin); err != nil {
		t.Fatal(err)
	}
	gen := plugin.Spec.Generate
	if len(gen.Command) != 2 || gen.Command[0] != "sh" || gen.Command[1] != "-c" || len(gen.Args) != 1 {
		t.Fatalf("generate is %v %v; expected [sh -c] and one script", gen.Command, gen.Args)
	}
	bin := t.TempDir()
	record := filepath.Join(bin, "args")
	stub := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + record + "\n"
	if err := os.WriteFile(filepath.Join(bin, "netdep"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	// Argo CD runs the plugin in the Application's path of a copy of the
	// repository without .git (a tarball sent to the sidecar), with
	// ARGOCD_APP_SOURCE_PATH set: the source annotations must be the
	// committed tree's, byte for byte, so an Application can switch
	// between the two without rewriting a policy.
	shop := filepath.Join(t.TempDir(), "shop")
	copyDir(t, filepath.Join(root, "examples/shop"), shop)
	trees := map[string]string{"environment": filepath.Join(root, "examples/shop/netpol")}
	trees["namespace"] = t.TempDir() + "/netpol"
	if res := run(t, root, "generate", "examples/shop", "--out", trees["namespace"], "--layout", "namespace", "--quiet"); res.code != 0 {
		t.Fatalf("generate: %s", res.stderr)
	}
	for _, tc := range []struct{ env, namespace, layout, dir string }{
		{"prod", "", "environment", "overlays/prod"},
		{"dev", "payments", "namespace", "overlays/dev/payments"},
	} {
		cmd := exec.Command(sh, "-c", gen.Args[0])
		cmd.Dir = shop
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "ARGOCD_ENV_NETDEP_ENV="+tc.env, "ARGOCD_APP_SOURCE_PATH=examples/shop")
		if tc.namespace != "" {
			cmd.Env = append(cmd.Env, "ARGOCD_ENV_NETDEP_NAMESPACE="+tc.namespace)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", gen.Args[0], err, out)
		}
		recorded, err := os.ReadFile(record)
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Split(strings.TrimSuffix(string(recorded), "\n"), "\n")
		res := run(t, shop, args...)
		if res.code != 0 || res.stderr != "" {
			t.Fatalf("netdep %v: exit %d\n%s", args, res.code, res.stderr)
		}
		want, err := exec.Command(kubectl, "kustomize", filepath.Join(trees[tc.layout], tc.dir)).Output()
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v", tc.dir, err)
		}
		if !strings.Contains(res.stdout, "netdep.io/source: examples/shop/teams/") {
			t.Errorf("netdep %v: no source annotation names examples/shop/teams/...", args)
		}
		if diff := cmp.Diff(string(want), res.stdout); diff != "" {
			t.Errorf("netdep %v differs from building %s (-build +render):\n%s", args, tc.dir, diff)
		}
	}
}

// TestCMPSidecarPatchInArgoInstall builds the documented Argo CD install
// kustomization (namespace: argocd, the plugin ConfigMap as a resource, the
// sidecar patch) over a stand-in for install.yaml's repo server, as the
// install ships it (no namespace, its var-files and plugins volumes), and
// requires the sidecar in the argocd-repo-server Deployment of argocd, with
// every volume it mounts defined, and the ConfigMap in argocd too.
func TestCMPSidecarPatchInArgoInstall(t *testing.T) {
	root := repoRoot(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skipf("kubectl not installed (%v)", err)
	}
	dir := t.TempDir()
	for _, f := range []string{"cmp-plugin.yaml", "cmp-sidecar-patch.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, "examples/shop/deploy/argocd", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "cmp-plugin.yaml" { // the ConfigMap alone; the Application is not part of the install
			b, _, _ = bytes.Cut(b, []byte("\n---\n"))
		}
		writeFile(t, filepath.Join(dir, f), string(b))
	}
	writeFile(t, filepath.Join(dir, "install.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector: {matchLabels: {app.kubernetes.io/name: argocd-repo-server}}
  template:
    metadata: {labels: {app.kubernetes.io/name: argocd-repo-server}}
    spec:
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd:v3.1.0
      volumes:
        - {name: var-files, emptyDir: {}}
        - {name: plugins, emptyDir: {}}
`)
	writeFile(t, filepath.Join(dir, "kustomization.yaml"), `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: argocd
resources: [install.yaml, cmp-plugin.yaml]
patches:
  - path: cmp-sidecar-patch.yaml
`)
	out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize of the Argo CD install with the patch: %v\n%s", err, out)
	}
	type object struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name      string `yaml:"name"`
			Namespace string `yaml:"namespace"`
		} `yaml:"metadata"`
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Name         string `yaml:"name"`
						VolumeMounts []struct {
							Name string `yaml:"name"`
						} `yaml:"volumeMounts"`
					} `yaml:"containers"`
					Volumes []struct {
						Name string `yaml:"name"`
					} `yaml:"volumes"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	found := map[string]bool{}
	for {
		var o object
		if err := dec.Decode(&o); err != nil {
			break
		}
		found[o.Kind] = true
		if o.Metadata.Namespace != "argocd" {
			t.Errorf("%s %s is in namespace %q, want argocd", o.Kind, o.Metadata.Name, o.Metadata.Namespace)
		}
		if o.Kind != "Deployment" {
			continue
		}
		pod := o.Spec.Template.Spec
		var names []string
		volumes := map[string]bool{}
		for _, v := range pod.Volumes {
			volumes[v.Name] = true
		}
		for _, c := range pod.Containers {
			names = append(names, c.Name)
			for _, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					t.Errorf("container %s mounts volume %s, which the pod does not define", c.Name, m.Name)
				}
			}
		}
		slices.Sort(names)
		if want := []string{"argocd-repo-server", "netdep-cmp"}; !slices.Equal(names, want) {
			t.Errorf("repo server containers = %v, want %v (the patch did not apply)", names, want)
		}
	}
	if !found["Deployment"] || !found["ConfigMap"] {
		t.Errorf("built %v, want the Deployment and the plugin ConfigMap:\n%s", found, out)
	}
}

// TestRenderNamespace: `netdep render --env E --namespace NS` prints exactly
// what building the leaf overlays/E/NS of the per-namespace layout prints,
// and a namespace without policies is a usage error naming those that have.
func TestRenderNamespace(t *testing.T) {
	root := repoRoot(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skipf("kubectl not installed (%v)", err)
	}
	out := t.TempDir() + "/netpol"
	if res := run(t, root, "generate", "examples/shop", "--out", out, "--layout", "namespace", "--quiet"); res.code != 0 {
		t.Fatalf("generate: %s", res.stderr)
	}
	for _, env := range []string{"dev", "prod"} {
		for _, ns := range []string{"catalog", "storefront"} {
			res := run(t, root, "render", "--env", env, "--namespace", ns, "examples/shop")
			if res.code != 0 || res.stderr != "" {
				t.Fatalf("render %s %s: exit %d\n%s", env, ns, res.code, res.stderr)
			}
			want, err := exec.Command(kubectl, "kustomize", filepath.Join(out, "overlays", env, ns)).Output()
			if err != nil {
				t.Fatalf("kubectl kustomize: %v", err)
			}
			if !strings.Contains(res.stdout, "namespace: "+ns) {
				t.Errorf("render %s %s printed no policy of %s", env, ns, ns)
			}
			if diff := cmp.Diff(string(want), res.stdout); diff != "" {
				t.Errorf("render --env %s --namespace %s differs from kubectl kustomize overlays/%s/%s (-kubectl +render):\n%s", env, ns, env, ns, diff)
			}
		}
	}
	res := run(t, root, "render", "--env", "prod", "--namespace", "monitoring", "examples/shop")
	if res.code != 2 || res.stdout != "" || !strings.Contains(res.stderr, `namespace "monitoring" has no policies in overlays/prod (namespaces with policies: catalog, checkout, payments, storefront)`) {
		t.Errorf("render of an unmanaged namespace: exit %d, stdout %q, stderr %q; want exit 2 naming the namespaces with policies", res.code, res.stdout, res.stderr)
	}
}

// TestNamespaceLayoutLeaves: in the per-namespace layout every directory the
// documented ApplicationSet glob (overlays/*/*) finds is a kustomization that
// builds on its own, and the leaves of an environment together verify exact.
func TestNamespaceLayoutLeaves(t *testing.T) {
	root := repoRoot(t)
	out := t.TempDir() + "/netpol"
	if res := run(t, root, "generate", "examples/shop", "--out", out, "--layout", "namespace", "--quiet"); res.code != 0 {
		t.Fatalf("generate: %s", res.stderr)
	}
	for _, env := range []string{"dev", "staging", "prod"} {
		leaves, err := filepath.Glob(filepath.Join(out, "overlays", env, "*"))
		if err != nil {
			t.Fatal(err)
		}
		var manifests []string
		for _, leaf := range leaves {
			if st, err := os.Stat(leaf); err != nil || !st.IsDir() {
				continue
			}
			if _, err := os.Stat(filepath.Join(leaf, "kustomization.yaml")); err != nil {
				t.Errorf("%s: the ApplicationSet glob finds a directory that is not a kustomization", leaf)
				continue
			}
			manifests = append(manifests, leaf)
		}
		if len(manifests) < 4 {
			t.Fatalf("%s: expected a leaf per managed namespace, found %v", env, manifests)
		}
		args := []string{"verify", "examples/shop", "--env", env}
		for _, m := range manifests {
			args = append(args, "--manifests", m)
		}
		if res := run(t, root, args...); res.code != 0 {
			t.Errorf("%s: the union of the leaves is not exact (exit %d):\n%s%s", env, res.code, res.stdout, res.stderr)
		}
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
