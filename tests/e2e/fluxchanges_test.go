package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netdep/netdep/schema"
)

// TestFluxChangesApply: the changes TestFluxGitOps pushes apply, in order,
// to the example as committed, leave dependency files netdep loads without
// error, and each changes the loaded spec as its name says (Effect). The
// environment the scenario rolls out (FluxEnvironment) is enforced in
// every revision: not in mode: audit, whose staged objects enforce
// nothing. It needs no root, so an edit of the example that breaks the
// scripted changes fails here, in `go test ./...`, not only in the e2e run.
// (It failed before the order-export change took the exception the
// example's checkout file gained.)
func TestFluxChangesApply(t *testing.T) {
	work := t.TempDir()
	example := filepath.Join("examples", fluxExample)
	src := filepath.Join("..", "..", example)
	if err := os.CopyFS(filepath.Join(work, example), os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	env, why, err := FluxEnvironment(src)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the Flux scenario rolls out %s: %s", env, why)
	before, probs := schema.Load([]string{filepath.Join(work, example)})
	if len(probs.Errors()) > 0 {
		t.Fatal(probs.Errors())
	}
	r := &Repo{Work: work, Example: example}
	for _, c := range fluxChanges {
		if err := r.Apply(c); err != nil {
			t.Fatal(err)
		}
		after, probs := schema.Load([]string{filepath.Join(work, example)})
		if len(probs.Errors()) > 0 {
			t.Fatalf("after %q: %v", c.Name, probs.Errors())
		}
		if c.Effect == nil {
			t.Errorf("%q: no Effect: what the change means is not checked", c.Name)
		} else if msg := c.Effect(before, after); msg != "" {
			t.Errorf("%q: %s", c.Name, msg)
		}
		if e := after.Environment(env); e == nil || e.Audit() {
			t.Errorf("after %q: environment %s is missing or in mode: audit: the rollout would enforce nothing", c.Name, env)
		}
		before = after
	}
}

// TestFluxChangesEffect: an edit that applies but does not make its change
// is caught (each Effect fails on a spec left as it was).
func TestFluxChangesEffect(t *testing.T) {
	spec, probs := schema.Load([]string{filepath.Join("..", "..", "examples", fluxExample)})
	if len(probs.Errors()) > 0 {
		t.Fatal(probs.Errors())
	}
	for _, c := range fluxChanges {
		if c.Effect == nil || c.Effect(spec, spec) == "" {
			t.Errorf("%q: its Effect accepts a spec that did not change", c.Name)
		}
	}
}

// TestFluxEnvironment: the environment is the first one enforced, with
// plugin objects preferred, and an audit tree (staged objects only) is
// never chosen.
func TestFluxEnvironment(t *testing.T) {
	env, why, err := FluxEnvironment(filepath.Join("..", "..", "examples", fluxExample))
	if err != nil {
		t.Fatal(err)
	}
	m, err := loadEnvTree(filepath.Join("..", "..", "examples", fluxExample), env)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Policies) == 0 {
		t.Errorf("%s (%s): no NetworkPolicy", env, why)
	}
	for _, p := range m.Plugin {
		if p.Kind.Staged {
			t.Errorf("%s (%s): holds staged %s", env, why, p)
		}
	}
}

// TestFluxEnvironmentChoice: on a copy of the example whose dev tree is
// staged objects only (mode: audit), whose prod tree holds NetworkPolicies
// only (the example's staging tree, pinned hosts) and whose staging tree
// holds a CiliumNetworkPolicy beside its NetworkPolicies, the scenario
// skips dev and takes staging over prod.
func TestFluxEnvironmentChoice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), fluxExample)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "examples", fluxExample))); err != nil {
		t.Fatal(err)
	}
	prod := filepath.Join(dir, "netpol", "overlays", "prod")
	if err := os.RemoveAll(prod); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(prod, os.DirFS(filepath.Join(dir, "netpol", "overlays", "staging"))); err != nil {
		t.Fatal(err)
	}
	for env, fixture := range map[string]string{"dev": "plugins-calico-audit", "staging": "plugins-cilium"} {
		tree := filepath.Join(dir, "netpol", "overlays", env)
		if err := os.RemoveAll(tree); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(tree, os.DirFS(filepath.Join("testdata", "scenarios", fixture, "policies"))); err != nil {
			t.Fatal(err)
		}
	}
	env, why, err := FluxEnvironment(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "staging: the first whose tree has NetworkPolicies and plugin objects (1, first CiliumNetworkPolicy payments/payment.hosts (Cilium)); before it: dev (no NetworkPolicy: audit), prod (no plugin object)"
	if got := env + ": " + why; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
