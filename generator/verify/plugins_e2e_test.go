package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

// The example shape: a host call by name, dev on calico in audit
// with log: denied, prod on cilium, staging on kubernetes with the host
// pinned.
var pluginFiles = map[string]string{
	"netdep.yaml": `netdep: v1
cluster:
  dns: {namespace: kube-system, selector: {k8s-app: kube-dns}, ports: [53/UDP, 53/TCP]}
environments:
  dev: {plugin: calico, mode: audit, log: denied, hosts: {api.stripe.com: [203.0.113.10/32], "*.googleapis.com": [198.51.100.0/24]}}
  staging: {hosts: {api.stripe.com: [203.0.113.10/32], "*.googleapis.com": [198.51.100.0/24]}}
  prod: {plugin: cilium}
`,
	"payments/deps.yaml": `netdep: v1
namespace: payments
services:
  payment:
    ports: {grpc: 50051}
    calls:
      - {host: api.stripe.com, ports: [443]}
      - {host: "*.googleapis.com", ports: [443]}
  checkout:
    calls: [payment:grpc]
`,
}

// TestPluginEnvironmentsExact: what generate emits for every plugin and
// mode, in memory and as a tree on disk, verifies exact, with the audit
// environment reported as would be.
func TestPluginEnvironmentsExact(t *testing.T) {
	dir := t.TempDir()
	for p, c := range pluginFiles {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec, probs := schema.Load([]string{dir})
	if len(probs.Errors()) > 0 {
		t.Fatal(probs)
	}
	set, err := policy.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := kustomize.Build(set)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "netpol")
	if err := kustomize.Write(out, tree, kustomize.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	envs := spec.EnvNames()
	for _, src := range []struct {
		name string
		s    *Source
	}{{"set", FromSet(set)}, {"tree", FromTree(out)}} {
		reports, skipped, err := Run(spec, envs, src.s, nil)
		if err != nil {
			t.Fatalf("%s: %v", src.name, err)
		}
		if len(skipped) > 0 {
			t.Errorf("%s: not evaluated %v", src.name, skipped)
		}
		for _, r := range reports {
			if !r.Exact() {
				t.Errorf("%s %s: %s\nmissing %v\nexcess %v", src.name, r.Environment, r.Summary(), r.Missing, r.Excess)
			}
			switch r.Environment {
			case "dev":
				if r.Audit == nil || r.Audit.Enforced != "none" || !strings.HasPrefix(r.Summary(), "audit: nothing netdep emits is enforced here (") {
					t.Errorf("%s dev: %s", src.name, r.Summary())
				}
			case "prod":
				if r.Hosts != 2 || r.PluginPolicies == 0 {
					t.Errorf("%s prod: %d hosts, %d plugin policies: %s", src.name, r.Hosts, r.PluginPolicies, r.Summary())
				}
			}
			t.Logf("%s %s: %s", src.name, r.Environment, r.Summary())
		}
	}
}
