package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	sigsyaml "sigs.k8s.io/yaml"
)

// This file runs Flux's own controllers against the test's API server:
// source-controller fetches a Git repository that the test serves on the
// node namespace's loopback, kustomize-controller builds the overlay a Flux
// Kustomization names and server-side-applies it, pruning what left the tree.

// fluxNamespace is where Flux's objects live, as in every Flux install.
const fluxNamespace = "flux-system"

// Loopback addresses inside the node namespace (each run has its own).
const (
	fluxArtifactAddr = "127.0.0.1:9790" // source-controller's artifact server
	fluxSourceHealth = "127.0.0.1:9791"
	fluxSourceMetric = "127.0.0.1:9792"
	fluxKustHealth   = "127.0.0.1:9793"
	fluxKustMetric   = "127.0.0.1:9794"
)

// Flux is source-controller and kustomize-controller running in the node
// namespace with the cluster's admin credentials (a Kustomization without
// serviceAccountName applies as the controller itself).
type Flux struct {
	procs []*Process
	node  *NetNS
}

// StartFlux starts both controllers and waits until their health endpoints
// say ready. The CRDs must be installed first: the controllers watch every
// kind they serve from the start.
func StartFlux(ctx context.Context, node *NetNS, bins Binaries, kubeconfig, dir string) (f *Flux, err error) {
	f = &Flux{node: node}
	defer func() {
		if err != nil {
			f.Stop()
		}
	}()
	artifacts := filepath.Join(dir, "flux-artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		return f, err
	}
	env := append(os.Environ(), "KUBECONFIG="+kubeconfig, "RUNTIME_NAMESPACE="+fluxNamespace)
	common := []string{"--enable-leader-election=false", "--log-level=debug", "--log-encoding=console"}
	src := node.Command(bins.FluxSource, append([]string{
		"--storage-path=" + artifacts,
		"--storage-addr=" + fluxArtifactAddr,
		"--storage-adv-addr=" + fluxArtifactAddr,
		"--health-addr=" + fluxSourceHealth,
		"--metrics-addr=" + fluxSourceMetric,
	}, common...)...)
	src.Env = env
	p, err := Start("flux-source-controller", dir, src)
	if err != nil {
		return f, err
	}
	f.procs = append(f.procs, p)
	kust := node.Command(bins.FluxKustomize, append([]string{
		"--health-addr=" + fluxKustHealth,
		"--metrics-addr=" + fluxKustMetric,
		// How often a Kustomization whose dependsOn is not ready looks
		// again (default 30s): the rollout waits on it, not on a timer.
		"--requeue-dependency=2s",
	}, common...)...)
	kust.Env = env
	if p, err = Start("flux-kustomize-controller", dir, kust); err != nil {
		return f, err
	}
	f.procs = append(f.procs, p)

	hc := &http.Client{Transport: &http.Transport{DialContext: node.DialContext}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for i, addr := range []string{fluxSourceHealth, fluxKustHealth} {
		for {
			if done, perr := f.procs[i].Exited(); done {
				return f, fmt.Errorf("%s exited: %v\n%s", f.procs[i].Name, perr, f.procs[i].Tail(30))
			}
			resp, err := hc.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return f, fmt.Errorf("%s not ready: %v\n%s", f.procs[i].Name, err, f.procs[i].Tail(30))
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	return f, nil
}

// Processes returns the controllers, for their logs.
func (f *Flux) Processes() []*Process {
	if f == nil {
		return nil
	}
	return f.procs
}

// Stop stops both controllers.
func (f *Flux) Stop() {
	if f == nil {
		return
	}
	for i := len(f.procs) - 1; i >= 0; i-- {
		f.procs[i].Stop()
	}
	f.procs = nil
}

// FluxCRDs returns the CRD files of both controllers' modules.
func FluxCRDs(ctx context.Context, toolsDir string) ([]string, error) {
	var files []string
	for _, m := range []struct {
		tool   Tool
		module string
	}{
		{toolFluxSource, "github.com/fluxcd/source-controller"},
		{toolFluxKustomize, "github.com/fluxcd/kustomize-controller"},
	} {
		dir, err := m.tool.ModuleDir(ctx, toolsDir, m.module)
		if err != nil {
			return nil, err
		}
		fs, err := filepath.Glob(filepath.Join(dir, "config", "crd", "bases", "*.yaml"))
		if err != nil || len(fs) == 0 {
			return nil, fmt.Errorf("%s: no CRDs under config/crd/bases (%v)", dir, err)
		}
		files = append(files, fs...)
	}
	sort.Strings(files)
	return files, nil
}

// Objects applies Kubernetes objects of any kind through a dynamic client,
// server-side, as kubectl apply --server-side (and Flux) do.
type Objects struct {
	dyn    dynamic.Interface
	mapper meta.ResettableRESTMapper
}

// NewObjects builds the dynamic client of the cluster.
func NewObjects(c *Cluster) (*Objects, error) {
	cfg := rest.CopyConfig(c.Config)
	// Deprecation and naming warnings about upstream CRDs' own fields are
	// not the test's findings; errors are.
	cfg.WarningHandler = rest.NoWarnings{}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	return &Objects{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

// ReadObjects parses every document of a YAML file into objects; empty and
// comment-only documents are skipped.
func ReadObjects(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var m map[string]any
		if err := sigsyaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// Apply server-side-applies obj; with dryRun the API server admits,
// defaults and validates it (schemas of CRDs included) and stores nothing.
func (o *Objects) Apply(ctx context.Context, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	ri, err := o.resource(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version, obj.GetNamespace())
	if err != nil {
		return nil, err
	}
	data, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	// Strict: an unknown or duplicated field is an error, not silently
	// pruned by the CRD's structural schema.
	opts := metav1.PatchOptions{FieldManager: "netdep-e2e", Force: ptrTo(true), FieldValidation: "Strict"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts)
}

// Get reads one object.
func (o *Objects) Get(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, error) {
	ri, err := o.resource(gvk.GroupKind(), gvk.Version, ns)
	if err != nil {
		return nil, err
	}
	return ri.Get(ctx, name, metav1.GetOptions{})
}

// List reads every object of a kind, in every namespace.
func (o *Objects) List(ctx context.Context, gvk schema.GroupVersionKind) ([]unstructured.Unstructured, error) {
	ri, err := o.resource(gvk.GroupKind(), gvk.Version, "")
	if err != nil {
		return nil, err
	}
	l, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// MergePatch patches one object with a JSON merge patch.
func (o *Objects) MergePatch(ctx context.Context, gvk schema.GroupVersionKind, ns, name string, patch []byte) error {
	ri, err := o.resource(gvk.GroupKind(), gvk.Version, ns)
	if err != nil {
		return err
	}
	_, err = ri.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

func (o *Objects) resource(gk schema.GroupKind, version, ns string) (dynamic.ResourceInterface, error) {
	m, err := o.mapper.RESTMapping(gk, version)
	if err != nil {
		// A CRD installed a moment ago: ask discovery again.
		o.mapper.Reset()
		if m, err = o.mapper.RESTMapping(gk, version); err != nil {
			return nil, err
		}
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return o.dyn.Resource(m.Resource).Namespace(ns), nil
	}
	return o.dyn.Resource(m.Resource), nil
}

var crdGVK = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}

// InstallCRDs applies the CRD files and waits until each is Established.
func (o *Objects) InstallCRDs(ctx context.Context, files []string) ([]string, error) {
	var names []string
	for _, f := range files {
		objs, err := ReadObjects(f)
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			if obj.GetKind() != "CustomResourceDefinition" {
				return nil, fmt.Errorf("%s: %s %q: want only CustomResourceDefinitions", f, obj.GetKind(), obj.GetName())
			}
			if _, err := o.Apply(ctx, obj, false); err != nil {
				return nil, fmt.Errorf("%s: install CRD %s: %w", f, obj.GetName(), err)
			}
			names = append(names, obj.GetName())
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, name := range names {
		for {
			crd, err := o.Get(ctx, crdGVK, "", name)
			if err == nil && conditionTrue(crd, "Established") {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return nil, fmt.Errorf("CRD %s not established: %v", name, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	o.mapper.Reset()
	return names, nil
}

// conditionTrue reports whether status.conditions has type t with status
// True (and, where the object has one, for its current generation).
func conditionTrue(obj *unstructured.Unstructured, t string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != t {
			continue
		}
		if og, ok := m["observedGeneration"].(int64); ok && og != obj.GetGeneration() {
			return false
		}
		return m["status"] == "True"
	}
	return false
}

// conditionMessage is a condition's reason and message, for errors.
func conditionMessage(obj *unstructured.Unstructured, t string) string {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == t {
			return fmt.Sprintf("%s=%v %v: %v", t, m["status"], m["reason"], m["message"])
		}
	}
	return t + " not reported"
}

// EnsureNamespace creates a namespace unless it exists.
func EnsureNamespace(ctx context.Context, c *Cluster, name string) error {
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }

// GitServer serves bare repositories under Root over Git's smart HTTP
// protocol (git http-backend as a CGI program, as a web server would run
// it), on the node namespace's loopback.
type GitServer struct {
	Root string
	Addr string
	ln   net.Listener
	srv  *http.Server
}

// StartGitServer listens on 127.0.0.1 inside node.
func StartGitServer(node *NetNS, root string) (*GitServer, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, err
	}
	g := &GitServer{Root: root}
	if err := node.Do(func() error {
		var err error
		g.ln, err = net.Listen("tcp4", "127.0.0.1:0")
		return err
	}); err != nil {
		return nil, fmt.Errorf("git server: %w", err)
	}
	g.Addr = g.ln.Addr().String()
	h := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	g.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = g.srv.Serve(g.ln) }()
	return g, nil
}

// URL is the clone URL of the bare repository root/name.
func (g *GitServer) URL(name string) string { return "http://" + g.Addr + "/" + name }

// Close stops serving.
func (g *GitServer) Close() {
	if g != nil && g.srv != nil {
		_ = g.srv.Close()
	}
}
