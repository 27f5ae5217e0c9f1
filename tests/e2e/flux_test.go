package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	netdepschema "github.com/netdep/netdep/schema"
)

// The GitOps scenario: the example's tree, committed and served over Git,
// synced by Flux's own controllers into the API server that kube-router
// enforces from; then changes made with netdep, each committed, pushed and
// reconciled. While each revision replaces the one before, the flows both
// allow are probed without pause: none may fail at any moment.
const fluxExample = "shop"

// fluxChanges are the commits pushed after the first sync, in order. Each is
// what a team would write in the example's dependency files.
var fluxChanges = []Change{
	{Name: "add a call (storefront/cart -> catalog/catalog:grpc)", Edits: []Edit{{
		File: "teams/storefront/deps.yaml",
		Old:  "    calls:\n      - cart-redis\n",
		New:  "    calls:\n      - cart-redis\n      - catalog/catalog:grpc\n",
	}}, Effect: func(before, after *netdepschema.Spec) string {
		const edge = "storefront/cart -> catalog/catalog"
		if hasEdge(before, edge) || !hasEdge(after, edge) {
			return "want the edge " + edge + " added in every environment"
		}
		return ""
	}},
	{Name: "remove a service (checkout/order-export)", Edits: []Edit{{
		File: "teams/checkout/deps.yaml",
		Old: `  order-export:
    # Nightly export: reads orders, pushes metrics, ships a file over SFTP.
    calls:
      - orders-db:postgres
      - {namespace: monitoring, selector: {app: pushgateway}, ports: [9091]}
      - {cidr: corp-vpn, ports: [22]}
      - {cidr: kube-apiserver, ports: [443]}
      # Incident INC-4711: reconcile failed card captures with the payment
      # service directly, in prod only, until the export is fixed.
      - to: payments/payment:grpc
        environments: [prod]
        exception:
          name: inc-4711
          reason: reconcile failed card captures by hand
          owner: checkout-oncall@example.com
          expires: 2026-12-31
`,
		New: "",
	}}, Effect: func(before, after *netdepschema.Spec) string {
		if service(before, "checkout/order-export") == nil || service(after, "checkout/order-export") != nil {
			return "want the service checkout/order-export removed"
		}
		return ""
	}},
	{Name: "rename a service (storefront/cart -> cart-api, same pods)", Edits: []Edit{
		{File: "teams/storefront/deps.yaml", Old: "  cart:\n    ports:\n", New: "  cart-api:\n    selector: {app: cart}\n    ports:\n"},
		{File: "teams/storefront/deps.yaml", Old: "      - cart:grpc\n", New: "      - cart-api:grpc\n"},
	}, Effect: func(before, after *netdepschema.Spec) string {
		old, renamed := service(before, "storefront/cart"), service(after, "storefront/cart-api")
		if old == nil || renamed == nil || service(after, "storefront/cart") != nil {
			return "want storefront/cart renamed to storefront/cart-api"
		}
		if fmt.Sprint(old.Selector) != fmt.Sprint(renamed.Selector) {
			return fmt.Sprintf("want the same pods: selector %v, now %v", old.Selector, renamed.Selector)
		}
		if hasEdge(after, "storefront/frontend -> storefront/cart") || !hasEdge(after, "storefront/frontend -> storefront/cart-api") {
			return "want the callers of storefront/cart calling storefront/cart-api"
		}
		return ""
	}},
	{Name: "isolate catalog egress ([ingress] -> [ingress, egress])", Edits: []Edit{{
		File: "teams/catalog/deps.yaml",
		Old:  "isolate: [ingress]\n",
		New:  "isolate: [ingress, egress]\n",
	}}, Effect: func(before, after *netdepschema.Spec) string {
		b, a := before.Namespace("catalog"), after.Namespace("catalog")
		if b == nil || a == nil || !b.IsolateIngress || b.IsolateEgress || !a.IsolateIngress || !a.IsolateEgress {
			return "want catalog isolated [ingress] before and [ingress, egress] after"
		}
		return ""
	}},
}

// service finds namespace/name among the spec's services.
func service(s *netdepschema.Spec, id string) *netdepschema.Service {
	ns, name, _ := strings.Cut(id, "/")
	if n := s.Namespace(ns); n != nil {
		for _, svc := range n.Services {
			if svc.Name == name {
				return svc
			}
		}
	}
	return nil
}

// hasEdge reports whether every environment has the egress rule "from ->
// to" between two services.
func hasEdge(s *netdepschema.Spec, edge string) bool {
	from, to, _ := strings.Cut(edge, " -> ")
	for _, e := range s.Environments {
		found := false
		for _, r := range e.Rules {
			if r.Direction == netdepschema.Egress && r.Peer.Kind == netdepschema.PeerService &&
				r.Service.Namespace+"/"+r.Service.Name == from && r.Peer.Service.Namespace+"/"+r.Peer.Service.Name == to {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return len(s.Environments) > 0
}

// TestFluxGitOps is the proof that Flux syncs netdep's tree as the docs say
// and that each change rolls out without cutting a flow that exists before
// and after it. It runs with NETDEP_E2E=1 (make e2e), as root, like
// TestEnforcement, and needs git (git http-backend serves the repository).
func TestFluxGitOps(t *testing.T) {
	t0 := time.Now()
	ctx, bins := gitopsSetup(t, "the Flux GitOps scenario")
	if _, err := exec.LookPath("git"); err != nil {
		t.Skipf("SKIPPED: git not found (run tests/e2e/setup.sh): %v", err)
	}
	dir := t.TempDir()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	netdep, err := BuildNetdep(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}

	// The environment: one whose tree the agents enforce (FluxEnvironment).
	fluxEnv, why, err := FluxEnvironment(filepath.Join(root, "examples", fluxExample))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("environment %s: %s", fluxEnv, why)

	// The history: the example as committed, then one commit per change.
	repo, err := NewRepo(ctx, root, fluxExample, dir)
	if err != nil {
		t.Fatal(err)
	}
	revs := []*Revision{{Name: "first sync of the committed tree"}}
	for i, c := range append([]Change{{}}, fluxChanges...) {
		if i > 0 {
			revs = append(revs, &Revision{Name: c.Name})
			if err := repo.Apply(c); err != nil {
				t.Fatal(err)
			}
		}
		rev := revs[i]
		if rev.Commit, err = repo.Commit(ctx, netdep, rev.Name); err != nil {
			t.Fatal(err)
		}
		if rev.Spec, rev.Policies, rev.Plugin, err = repo.Load(fluxEnv); err != nil {
			t.Fatal(err)
		}
		if len(rev.Policies) == 0 {
			t.Fatalf("%s: environment %s enforces no NetworkPolicy: the rollout would prove nothing", rev.Name, fluxEnv)
		}
	}
	if out, err := git(ctx, repo.Work, "diff", "--stat", revs[0].Commit, revs[len(revs)-1].Commit); err == nil {
		t.Logf("the rollout's changes, as committed:\n%s", out)
	}

	// One universe over every revision (the union of their pods, as
	// `netdep diff` evaluates), so each revision's oracle and the probes of
	// a transition see the same pods.
	specs := make([]*netdepschema.Spec, len(revs))
	for i, r := range revs {
		specs[i] = r.Spec
	}
	u, addrs, err := specUniverse(fluxEnv, specs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range revs {
		u.AddPolicyPorts(r.Policies)
	}
	// Each revision's oracle adds a host for every address class its
	// policies tell apart that no host stands for yet. Then every oracle is
	// compiled again over all of them (a host's own /32 splits a class
	// anew, so this second pass adds hosts only to a scratch copy).
	for _, r := range revs {
		if _, err := NewEvalOracle(u, addrs, r.Policies); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
	}
	for _, r := range revs {
		scratch := *u
		scratch.External = append([]*Endpoint(nil), u.External...)
		if r.Oracle, err = NewEvalOracle(&scratch, addrs, r.Policies); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
	}

	sc := &Scenario{Name: "flux-" + fluxExample + "-" + fluxEnv, Universe: u}
	// Flux's scenario runs with kube-router: its sync counter tells how many
	// rulesets a transition went through.
	agent := &KubeRouter{Bin: bins.KubeRouter}
	run := &Run{Scenario: sc, Agent: agent, Workers: kubeRouterWorkers, Bins: bins, Dir: dir, Index: 900, Logf: t.Logf}
	untrack := track(run)
	defer untrack()
	var flux *Flux
	var gitSrv *GitServer
	defer func() {
		if t.Failed() {
			for _, p := range flux.Processes() {
				t.Logf("--- %s log (tail) ---\n%s", p.Name, p.Tail(40))
			}
			dumpDiagnostics(ctx, t, run)
		}
		flux.Stop()
		gitSrv.Close()
	}()
	if err := run.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("test bed, API server and kube-router up in %s (tools, netdep and %d commits included)", time.Since(t0).Round(time.Millisecond), len(revs))

	// Git on loopback, Flux's CRDs from the controllers' own modules, then
	// the controllers.
	t1 := time.Now()
	if gitSrv, err = StartGitServer(run.Testbed.Node, filepath.Dir(repo.Bare)); err != nil {
		t.Fatal(err)
	}
	if err := repo.Push(ctx, revs[0].Commit); err != nil {
		t.Fatal(err)
	}
	objs, err := NewObjects(run.Cluster)
	if err != nil {
		t.Fatal(err)
	}
	crdFiles, err := FluxCRDs(ctx, "tools")
	if err != nil {
		t.Fatal(err)
	}
	// The plugins' CRDs, so that Flux's apply of a tree holding their
	// objects succeeds, as in a cluster running that plugin; the objects
	// are then held to be in the API server after each sync.
	var plugin []PluginObject
	for _, r := range revs {
		plugin = append(plugin, r.Plugin...)
	}
	if len(plugin) > 0 {
		if _, err := os.Stat(CRDDir()); err != nil {
			t.Skipf("SKIPPED: the tree holds %s, whose CRD is in ../shared/crds beside the repository, absent here (%v)", plugin[0], err)
		}
		crdFiles = append(crdFiles, PluginCRDFiles(CRDDir(), plugin)...)
	}
	crds, err := objs.InstallCRDs(ctx, crdFiles)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureNamespace(ctx, run.Cluster, fluxNamespace); err != nil {
		t.Fatal(err)
	}
	if flux, err = StartFlux(ctx, run.Testbed.Node, bins, run.Cluster.Kubeconfig, dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("git server on %s, %d Flux CRDs, source-controller and kustomize-controller ready in %s",
		gitSrv.Addr, len(crds), time.Since(t1).Round(time.Millisecond))

	// The Flux objects users copy, with only the URL pointed at the test's
	// Git server.
	deploy, err := FluxDeploy(filepath.Join(root, "examples", fluxExample, "deploy", "flux"), fluxEnv, gitSrv.URL(filepath.Base(repo.Bare)))
	if err != nil {
		t.Fatal(err)
	}

	var report bytes.Buffer
	var transitions []*Transition
	failed := 0
	for i, rev := range revs {
		var before Oracle = AllowAll{}
		if i > 0 {
			before = revs[i-1].Oracle
			if err := repo.Push(ctx, rev.Commit); err != nil {
				t.Fatal(err)
			}
		}
		var prev []*networkingv1.NetworkPolicy
		if i > 0 {
			prev = revs[i-1].Policies
		}
		flows := Persistent(u, before, rev.Oracle, Namespaces(prev, rev.Policies))
		syncs := agent.Syncs()
		rec, err := Record(ctx, run.Cluster)
		if err != nil {
			t.Fatal(err)
		}
		stop := Watch(ctx, run.Testbed, u, flows)
		ts := time.Now()
		if i == 0 {
			for _, obj := range deploy.Objects {
				if _, err := objs.Apply(ctx, obj, false); err != nil {
					stop()
					t.Fatalf("apply %s %s: %v", obj.GetKind(), obj.GetName(), err)
				}
			}
		} else if err := deploy.RequestReconcile(ctx, objs); err != nil {
			stop()
			t.Fatal(err)
		}
		synced, err := deploy.WaitSynced(ctx, objs, run.Cluster, rev)
		if err == nil {
			err = agent.WaitProgrammed(ctx, len(rev.Policies))
		}
		tr := stop()
		tr.Name, tr.Syncs = rev.Name, agent.Syncs()-syncs
		transitions = append(transitions, tr)
		if err != nil {
			t.Fatalf("%s: %v", rev.Name, err)
		}
		t.Logf("%s: commit %.12s synced by Flux in %s (%s), kube-router programmed %d policies, %s after the change began",
			rev.Name, rev.Commit, synced.Round(time.Millisecond), deploy.Describe(), len(rev.Policies), time.Since(ts).Round(time.Millisecond))
		WriteTransition(&report, tr)
		writes, err := rec.Stop(len(rev.Policies))
		if err != nil {
			t.Fatal(err)
		}
		unsafe, err := Intermediate(u, addrs, writes, flows)
		if err != nil {
			t.Fatal(err)
		}
		WriteStates(&report, writes, unsafe)
		tr.Unsafe, tr.States = len(unsafe), max(len(writes)-1, 0)
		switch {
		case i == 0:
			// A namespace isolated in one step cannot be synced without a
			// cut: its pods' allows live in several objects (the service's
			// policy, allow-dns, <service>.<env>), each of which isolates on
			// its own. docs/gitops.md says so and names the way around.
			fmt.Fprintf(&report, "   (the first sync isolates the managed namespaces in one step: not required to be drop-free, see docs/gitops.md)\n")
		case len(unsafe) > 0:
			t.Errorf("%s: %d of %d states between the revisions deny a flow allowed before and after", rev.Name, len(unsafe), tr.States)
		case len(tr.Failures) > 0:
			// Every state the API server went through allows these flows:
			// the agent cut them while it rewrote its own rules.
			tr.AgentDrops = len(tr.Failures)
			fmt.Fprintf(&report, "   every state allows the dropped flows: %s cut them while rewriting its rules (kube-router restores rule-indexed ipsets before the iptables rules that use them, so inserting a rule shifts the sets under the old rules for one sync)\n", agent.Name())
			t.Logf("%s: %d probes dropped by %s while every API state allowed them (agent transient, reported, not a rollout fault)", rev.Name, len(tr.Failures), agent.Name())
		}

		// Settled: the whole truth table against this revision's oracle.
		if _, err := run.Testbed.Node.Output(ctx, "conntrack", "-F"); err != nil {
			t.Fatal(err)
		}
		obs, took := Sweep(ctx, run.Testbed, u, run.Workers)
		ph := Judge(fmt.Sprintf("after %q, synced by Flux, enforced by kube-router", rev.Name), obs, took, rev.Oracle)
		WriteTable(&report, u, ph, false)
		if n := ph.Failed(); n > 0 {
			failed += n
			t.Errorf("%s: %d of %d flows differ from the oracle once synced", rev.Name, n, len(ph.Checks))
		}
	}
	os.Stdout.Write(report.Bytes())
	probes, drops, agentDrops, states, unsafe := 0, 0, 0, 0, 0
	for _, tr := range transitions[1:] {
		probes += tr.Probes
		drops += len(tr.Failures)
		agentDrops += tr.AgentDrops
		states += tr.States
		unsafe += tr.Unsafe
	}
	first := transitions[0]
	fmt.Printf("\nflux: %d syncs (first sync + %d changes); during the changes %d probes, %d failed (%d by the agent in states that allow them), %d of %d intermediate API states deny a flow; first sync: %d probes, %d failed, %d of %d states deny a flow; %d flows differ once synced; scenario %s\n",
		len(revs), len(revs)-1, probes, drops, agentDrops, unsafe, states,
		first.Probes, len(first.Failures), first.Unsafe, first.States, failed, time.Since(t0).Round(time.Second))
}

// FluxDeployment is the Flux objects of one environment, from an example's
// deploy/flux folder.
type FluxDeployment struct {
	Objects        []*unstructured.Unstructured // GitRepositories first
	Kustomizations []*unstructured.Unstructured
	Sources        []*unstructured.Unstructured
}

var (
	gitRepoGVK = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"}
	fluxKsGVK  = schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}
)

// FluxDeploy reads dir's GitRepositories (spec.url replaced by url) and the
// Kustomizations whose path is the overlay of env or below it.
func FluxDeploy(dir, env, url string) (*FluxDeployment, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	d := &FluxDeployment{}
	for _, f := range files {
		objs, err := ReadObjects(f)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			switch o.GroupVersionKind() {
			case gitRepoGVK:
				if err := unstructured.SetNestedField(o.Object, url, "spec", "url"); err != nil {
					return nil, err
				}
				d.Sources = append(d.Sources, o)
			case fluxKsGVK:
				path, _, _ := unstructured.NestedString(o.Object, "spec", "path")
				p := filepath.ToSlash(filepath.Clean(path))
				if strings.HasSuffix(p, "/overlays/"+env) || strings.Contains(p, "/overlays/"+env+"/") {
					d.Kustomizations = append(d.Kustomizations, o)
				}
			default:
				return nil, fmt.Errorf("%s: unexpected %s %q", f, o.GetKind(), o.GetName())
			}
		}
	}
	if len(d.Sources) == 0 || len(d.Kustomizations) == 0 {
		return nil, fmt.Errorf("%s: want a GitRepository and a Kustomization for overlays/%s", dir, env)
	}
	d.Objects = append(append(d.Objects, d.Sources...), d.Kustomizations...)
	return d, nil
}

// Describe names the Kustomizations.
func (d *FluxDeployment) Describe() string {
	var names []string
	for _, k := range d.Kustomizations {
		names = append(names, "Kustomization "+k.GetName())
	}
	return strings.Join(names, ", ")
}

// RequestReconcile asks source-controller to fetch now, as `flux reconcile
// source git` does; kustomize-controller follows the new artifact.
func (d *FluxDeployment) RequestReconcile(ctx context.Context, objs *Objects) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":%q}}}`, time.Now().Format(time.RFC3339Nano))
	for _, s := range d.Sources {
		if err := objs.MergePatch(ctx, gitRepoGVK, s.GetNamespace(), s.GetName(), []byte(patch)); err != nil {
			return fmt.Errorf("request reconcile of GitRepository %s: %w", s.GetName(), err)
		}
	}
	return nil
}

// WaitSynced waits until every Kustomization is Ready at rev's commit and
// the API server holds exactly rev's policies (names and specs: what was
// pruned is gone), and returns how long that took.
func (d *FluxDeployment) WaitSynced(ctx context.Context, objs *Objects, c *Cluster, rev *Revision) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(3 * time.Minute)
	want := map[string]*networkingv1.NetworkPolicy{}
	for _, p := range rev.Policies {
		want[p.Namespace+"/"+p.Name] = p
	}
	var last string
	for {
		last = ""
		for _, k := range d.Kustomizations {
			got, err := objs.Get(ctx, fluxKsGVK, k.GetNamespace(), k.GetName())
			if err != nil {
				last = err.Error()
				break
			}
			applied, _, _ := unstructured.NestedString(got.Object, "status", "lastAppliedRevision")
			if !strings.HasSuffix(applied, rev.Commit) || !conditionTrue(got, "Ready") {
				last = fmt.Sprintf("Kustomization %s: lastAppliedRevision %q, %s", k.GetName(), applied, conditionMessage(got, "Ready"))
				break
			}
		}
		if last == "" {
			last = samePolicies(ctx, c, want)
		}
		if last == "" {
			last = samePluginObjects(ctx, objs, rev.Plugin)
		}
		if last == "" {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, fmt.Errorf("commit %.12s not synced in %s: %s", rev.Commit, time.Since(start).Round(time.Second), last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// samePolicies returns "" when the cluster's NetworkPolicies are exactly
// want, and otherwise the first difference.
func samePolicies(ctx context.Context, c *Cluster, want map[string]*networkingv1.NetworkPolicy) string {
	list, err := c.Client.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	seen := 0
	for _, p := range list.Items {
		key := p.Namespace + "/" + p.Name
		w, ok := want[key]
		if !ok {
			return "NetworkPolicy " + key + " is in the cluster but not in the revision"
		}
		if !equality.Semantic.DeepEqual(w.Spec, p.Spec) {
			return "NetworkPolicy " + key + " differs from the revision"
		}
		seen++
	}
	if seen != len(want) {
		return fmt.Sprintf("%d of the revision's %d NetworkPolicies are in the cluster", seen, len(want))
	}
	return ""
}

// samePluginObjects returns "" when every plugin object of the revision is
// in the API server with its spec as written (a field the CRD's schema
// pruned would be missing), and otherwise the first difference. Objects
// the revision left are pruned by Flux, and the sync is not done before.
func samePluginObjects(ctx context.Context, objs *Objects, want []PluginObject) string {
	for _, p := range want {
		got, err := objs.Get(ctx, p.Kind.GVK, p.Obj.GetNamespace(), p.Obj.GetName())
		if err != nil {
			return fmt.Sprintf("%s: %v", p, err)
		}
		if path := notIn(p.Obj.Object["spec"], got.Object["spec"], "spec"); path != "" {
			return fmt.Sprintf("%s: %s differs in the API server from the tree (pruned or rewritten)", p, path)
		}
	}
	for _, k := range PluginKinds {
		if !slices.ContainsFunc(want, func(p PluginObject) bool { return p.Kind.GVK == k.GVK }) {
			continue
		}
		list, err := objs.List(ctx, k.GVK)
		if err != nil {
			return err.Error()
		}
		for _, o := range list {
			if !slices.ContainsFunc(want, func(p PluginObject) bool {
				return p.Kind.GVK == k.GVK && p.Key() == o.GetNamespace()+"/"+o.GetName()
			}) {
				return fmt.Sprintf("%s %s/%s is in the cluster but not in the revision", k.GVK.Kind, o.GetNamespace(), o.GetName())
			}
		}
	}
	return ""
}

// notIn returns the path of the first value of want that got does not
// hold (maps: every key of want, recursively; lists and scalars: equal),
// "" when got holds all of want. The API server may add defaults; it must
// not drop or change what the tree says.
func notIn(want, got any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p := notIn(w[k], g[k], path+"."+k); p != "" {
				return p
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path
		}
		for i := range w {
			if p := notIn(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
		return ""
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return path
		}
		return ""
	}
}
