package tests

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/tests/synth"
)

// TestRandomPluginSpecsAreExact is the exactness guarantee over issue 21's
// whole pipeline: random organisations whose environments run a random
// plugin (kubernetes, cilium, calico) in a random mode (enforce, audit) with
// or without log: denied, some services calling hosts by name (literal and
// wildcard, some any-port; pinned where the plugin cannot allow a name),
// parsed from their files, generated, and verified exact in every
// environment from the Set in memory and, for every fourth seed, from the
// tree written to disk (the objects as kustomize renders them, read by the
// one manifest reader). Every plugin/mode combination and host classes
// must have been checked, or the test fails for checking too little.
func TestRandomPluginSpecsAreExact(t *testing.T) {
	n := 100
	if testing.Short() {
		n = 12
	}
	seen := map[string]int{}
	hosts, plugins, staged := 0, 0, 0
	for seed := int64(0); seed < int64(n); seed++ {
		files := synth.Org(synth.Options{Services: 3 + int(seed%20), PerNamespace: 2 + int(seed%5), Seed: seed, Plugins: true})
		out, err := generator.FromFiles(files)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		envs := out.Spec.EnvNames()
		sources := []*verify.Source{verify.FromSet(out.Set)}
		if seed%4 == 0 {
			dir := filepath.Join(t.TempDir(), "netpol")
			if err := kustomize.Write(dir, out.Tree, kustomize.WriteOptions{}); err != nil {
				t.Fatalf("seed %d: write: %v", seed, err)
			}
			sources = append(sources, verify.FromTree(dir))
		}
		for si, src := range sources {
			reports, notEvaluated, err := verify.Run(out.Spec, envs, src, nil)
			if err != nil {
				t.Fatalf("seed %d source %d: %v", seed, si, err)
			}
			if len(notEvaluated) > 0 {
				t.Fatalf("seed %d source %d: netdep's own objects not evaluated: %v", seed, si, notEvaluated)
			}
			for i, r := range reports {
				e := out.Spec.Environment(envs[i])
				if !r.Exact() {
					t.Fatalf("seed %d source %d env %s (%s, %s, log %v) not exact: %s\nmissing %v\nexcess %v",
						seed, si, envs[i], e.PluginOrDefault(), e.Mode, e.LogDenied, r.Summary(), r.Missing, r.Excess)
				}
				if si == 0 {
					seen[fmt.Sprintf("%s/%s/log=%v", e.PluginOrDefault(), e.Mode, e.LogDenied)]++
					hosts += r.Hosts
					plugins += r.PluginPolicies
					if r.Audit != nil {
						staged += r.Audit.Staged
					}
				}
			}
		}
	}
	if testing.Short() {
		return
	}
	for _, combo := range []string{
		"kubernetes/enforce/log=false",
		"cilium/enforce/log=false", "cilium/enforce/log=true", "cilium/audit/log=false", "cilium/audit/log=true",
		"calico/enforce/log=false", "calico/enforce/log=true", "calico/audit/log=false", "calico/audit/log=true",
	} {
		if seen[combo] == 0 {
			t.Errorf("no environment was %s (seen %v)", combo, seen)
		}
	}
	if hosts == 0 || plugins == 0 || staged == 0 {
		t.Errorf("checked %d host classes, %d plugin policies, %d staged objects: each must be some", hosts, plugins, staged)
	}
	t.Logf("%d seeds: environments by plugin/mode/log %v; %d host classes, %d plugin policies, %d staged objects", n, seen, hosts, plugins, staged)
}
