package kustomize

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

// envPlugin is one environment of pluginSpec: its plugin, mode and log.
type envPlugin struct {
	name   string
	plugin schema.Plugin
	audit  bool
	log    bool
}

// pluginSpec is a resolved spec built by hand (the schema resolves the
// same from files): payments isolated both ways, shop for ingress only,
// checkout -> payment:8443, and payment's host calls: api.stripe.com:443,
// *.googleapis.com:443, hooks.example.net 8000-8100/TCP and 5000/UDP, and
// status.example.net on any port as an exception. On cilium they are
// PeerHost rules; elsewhere api.stripe.com and hooks.example.net are pinned
// (PeerCIDR with Host), and the others left out (the schema would refuse
// them there).
func pluginSpec(envs ...envPlugin) *schema.Spec {
	tcp := func(p int32) schema.Port { return schema.Port{Protocol: corev1.ProtocolTCP, Port: p} }
	payments := &schema.Namespace{Name: "payments", Managed: true, IsolateIngress: true, IsolateEgress: true, Sources: []string{"teams/payments/deps.yaml"}}
	shop := &schema.Namespace{Name: "shop", Managed: true, IsolateIngress: true, Sources: []string{"teams/shop/deps.yaml"}}
	payment := &schema.Service{Namespace: "payments", Name: "payment", Selector: map[string]string{"app": "payment"},
		Ports: []schema.Port{tcp(8443)}, Source: schema.Pos{File: "teams/payments/deps.yaml", Line: 3, Column: 3}}
	checkout := &schema.Service{Namespace: "shop", Name: "checkout", Selector: map[string]string{"app": "checkout"},
		Ports: []schema.Port{tcp(8080)}, Source: schema.Pos{File: "teams/shop/deps.yaml", Line: 3, Column: 3}}
	payments.Services = []*schema.Service{payment}
	shop.Services = []*schema.Service{checkout}
	x := &schema.Exception{Name: "status-probe", Owner: "team-payments", Reason: "vendor status page", Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)}
	spec := &schema.Spec{Namespaces: []*schema.Namespace{payments, shop}, ProjectFile: "netdep.yaml", Exceptions: []*schema.Exception{x}}
	for _, e := range envs {
		env := &schema.Environment{Name: e.name, Plugin: e.plugin, LogDenied: e.log, Mode: schema.ModeEnforce,
			Services: []*schema.Service{payment, checkout},
			DNS: &schema.DNS{
				Peers: []schema.Peer{{Kind: schema.PeerSelector, Namespace: "kube-system", Selector: map[string]string{"k8s-app": "kube-dns"}}},
				Ports: []schema.Port{{Protocol: corev1.ProtocolUDP, Port: 53}, tcp(53)},
			}}
		if e.audit {
			env.Mode = schema.ModeAudit
		}
		at := func(line int) schema.Pos { return schema.Pos{File: "teams/payments/deps.yaml", Line: line, Column: 9} }
		rules := []schema.Rule{
			{Service: payment, Direction: schema.Ingress, Peer: schema.Peer{Kind: schema.PeerService, Service: checkout}, Ports: []schema.Port{tcp(8443)}, Source: at(6)},
		}
		hooks := []schema.Port{{Protocol: corev1.ProtocolTCP, Port: 8000, EndPort: 8100}, {Protocol: corev1.ProtocolUDP, Port: 5000}}
		if e.plugin == schema.PluginCilium {
			host := func(h string) schema.Peer { return schema.Peer{Kind: schema.PeerHost, Host: h} }
			rules = append(rules,
				schema.Rule{Service: payment, Direction: schema.Egress, Peer: host("*.googleapis.com"), Ports: []schema.Port{tcp(443)}, Source: at(8)},
				schema.Rule{Service: payment, Direction: schema.Egress, Peer: host("api.stripe.com"), Ports: []schema.Port{tcp(443)}, Source: at(9)},
				schema.Rule{Service: payment, Direction: schema.Egress, Peer: host("hooks.example.net"), Ports: hooks, Source: at(10)},
				schema.Rule{Service: payment, Direction: schema.Egress, Peer: host("status.example.net"), AnyPort: true, Source: at(11), Exception: x},
			)
		} else {
			env.Hosts = []schema.PinnedHost{
				{Name: "api.stripe.com", CIDRs: []string{"203.0.113.10/32"}},
				{Name: "hooks.example.net", CIDRs: []string{"198.51.100.0/28"}},
			}
			rules = append(rules,
				schema.Rule{Service: payment, Direction: schema.Egress, Peer: schema.Peer{Kind: schema.PeerCIDR, CIDR: "203.0.113.10/32", Host: "api.stripe.com"}, Ports: []schema.Port{tcp(443)}, Source: at(9)},
				schema.Rule{Service: payment, Direction: schema.Egress, Peer: schema.Peer{Kind: schema.PeerCIDR, CIDR: "198.51.100.0/28", Host: "hooks.example.net"}, Ports: hooks, Source: at(10)},
			)
		}
		rules = append(rules, schema.Rule{Service: checkout, Direction: schema.Egress, Peer: schema.Peer{Kind: schema.PeerService, Service: payment}, Ports: []schema.Port{tcp(8443)}, Source: schema.Pos{File: "teams/shop/deps.yaml", Line: 5, Column: 9}})
		env.Rules = rules
		spec.Environments = append(spec.Environments, env)
	}
	return spec
}

// pluginSets are the golden trees' sets, by name.
func pluginSets(t *testing.T) map[string]*policy.Set {
	t.Helper()
	specs := map[string]*schema.Spec{
		"cilium-hosts": pluginSpec(envPlugin{name: "dev", plugin: schema.PluginKubernetes}, envPlugin{name: "prod", plugin: schema.PluginCilium}),
		"calico-log":   pluginSpec(envPlugin{name: "dev", plugin: schema.PluginCalico, log: true}, envPlugin{name: "prod", plugin: schema.PluginKubernetes}),
		"calico-audit": pluginSpec(envPlugin{name: "dev", plugin: schema.PluginCalico, audit: true, log: true}, envPlugin{name: "prod", plugin: schema.PluginKubernetes}),
		"cilium-audit": pluginSpec(envPlugin{name: "dev", plugin: schema.PluginCilium, audit: true}, envPlugin{name: "prod", plugin: schema.PluginCilium}),
		// Without environments the base is the environment: staged there.
		"calico-audit-implicit": pluginSpec(envPlugin{plugin: schema.PluginCalico, audit: true, log: true}),
	}
	sets := map[string]*policy.Set{}
	for name, spec := range specs {
		set, err := policy.Generate(spec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sets[name] = set
	}
	return sets
}

// TestPluginTreesGolden: the trees of each plugin and mode, in both
// layouts, as golden directories (review them: they are the contract's
// shapes).
func TestPluginTreesGolden(t *testing.T) {
	sets := pluginSets(t)
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, layout := range []Layout{LayoutPerEnvironment, LayoutPerNamespace} {
			golden := name
			if layout == LayoutPerNamespace {
				golden += "-per-namespace"
			}
			t.Run(golden, func(t *testing.T) {
				tree, err := BuildWithOptions(sets[name], Options{Layout: layout})
				if err != nil {
					t.Fatal(err)
				}
				checkGoldenTree(t, "build/"+golden, tree)
			})
		}
	}
}

// rendered is what a kustomization renders, by kind, each list sorted by
// (namespace, name).
type rendered struct {
	NPs          []*networkingv1.NetworkPolicy
	Cilium       []*policy.CiliumNetworkPolicy
	Calico       []*policy.CalicoNetworkPolicy
	StagedKNPs   []*policy.StagedKubernetesNetworkPolicy
	StagedCalico []*policy.StagedNetworkPolicy
}

// parseRendered reads a rendering strictly (unknown fields fail) by kind,
// refusing kinds the tree must not hold.
func parseRendered(t *testing.T, out []byte) rendered {
	t.Helper()
	var r rendered
	for _, doc := range strings.Split(string(out), "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatal(err)
		}
		var into any
		switch tm.APIVersion + " " + tm.Kind {
		case "networking.k8s.io/v1 NetworkPolicy":
			p := &networkingv1.NetworkPolicy{}
			r.NPs, into = append(r.NPs, p), p
		case "cilium.io/v2 CiliumNetworkPolicy":
			p := &policy.CiliumNetworkPolicy{}
			r.Cilium, into = append(r.Cilium, p), p
		case "projectcalico.org/v3 NetworkPolicy":
			p := &policy.CalicoNetworkPolicy{}
			r.Calico, into = append(r.Calico, p), p
		case "projectcalico.org/v3 StagedKubernetesNetworkPolicy":
			p := &policy.StagedKubernetesNetworkPolicy{}
			r.StagedKNPs, into = append(r.StagedKNPs, p), p
		case "projectcalico.org/v3 StagedNetworkPolicy":
			p := &policy.StagedNetworkPolicy{}
			r.StagedCalico, into = append(r.StagedCalico, p), p
		default:
			t.Fatalf("unexpected document:\n%s", doc)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			t.Fatalf("%v in\n%s", err, doc)
		}
	}
	sortByID(r.NPs)
	byID := func(ns, name string) string { return ns + "/" + name }
	sort.Slice(r.Cilium, func(i, j int) bool {
		return byID(r.Cilium[i].Namespace, r.Cilium[i].Name) < byID(r.Cilium[j].Namespace, r.Cilium[j].Name)
	})
	sort.Slice(r.Calico, func(i, j int) bool {
		return byID(r.Calico[i].Namespace, r.Calico[i].Name) < byID(r.Calico[j].Namespace, r.Calico[j].Name)
	})
	sort.Slice(r.StagedKNPs, func(i, j int) bool {
		return byID(r.StagedKNPs[i].Namespace, r.StagedKNPs[i].Name) < byID(r.StagedKNPs[j].Namespace, r.StagedKNPs[j].Name)
	})
	sort.Slice(r.StagedCalico, func(i, j int) bool {
		return byID(r.StagedCalico[i].Namespace, r.StagedCalico[i].Name) < byID(r.StagedCalico[j].Namespace, r.StagedCalico[j].Name)
	})
	return r
}

// wantRendered is what the Set says env's directory renders, ns "" for the
// whole environment, else that namespace's leaf.
func wantRendered(set *policy.Set, env, ns string) rendered {
	var r rendered
	keep := func(n string) bool { return ns == "" || n == ns }
	if set.Staged(env) {
		knps, cnps := set.RenderStaged(env)
		for _, p := range knps {
			if keep(p.Namespace) {
				r.StagedKNPs = append(r.StagedKNPs, p)
			}
		}
		for _, p := range cnps {
			if keep(p.Namespace) {
				r.StagedCalico = append(r.StagedCalico, p)
			}
		}
		return r
	}
	nps := set.Base
	if env != "" || len(set.Environments) > 0 {
		nps = set.Render(env)
	}
	for _, p := range withTypeMeta(nps) {
		if keep(p.Namespace) {
			r.NPs = append(r.NPs, p)
		}
	}
	for _, p := range set.RenderCilium(env) {
		if keep(p.Namespace) {
			r.Cilium = append(r.Cilium, p)
		}
	}
	for _, p := range set.RenderCalico(env) {
		if keep(p.Namespace) {
			r.Calico = append(r.Calico, p)
		}
	}
	return r
}

// TestPluginTreesRender: krusty renders every environment of every plugin
// tree, and every namespace leaf of the per-namespace layout, to exactly
// the Set's objects for it (typed, field by field, parsed strictly), a
// staged environment to its staged objects only; kubectl kustomize, when
// present, prints the same bytes as krusty.
func TestPluginTreesRender(t *testing.T) {
	kubectl, _ := exec.LookPath("kubectl")
	for name, set := range pluginSets(t) {
		for _, layout := range []Layout{LayoutPerEnvironment, LayoutPerNamespace} {
			tree, err := BuildWithOptions(set, Options{Layout: layout})
			if err != nil {
				t.Fatal(err)
			}
			disk := filepath.Join(t.TempDir(), "netpol")
			if err := Write(disk, tree, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			type rc struct{ dir, env, ns string }
			envs := set.Environments
			if len(envs) == 0 {
				envs = []string{""}
			}
			var cases []rc
			for _, env := range envs {
				dir := EnvDir(env)
				cases = append(cases, rc{dir, env, ""})
				if layout == LayoutPerNamespace {
					for _, ns := range Leaves(tree, dir) {
						cases = append(cases, rc{dir + "/" + ns, env, ns})
					}
				}
			}
			for _, c := range cases {
				t.Run(name+"/"+layout.String()+"/"+c.dir, func(t *testing.T) {
					out, err := Render(tree, c.dir)
					if err != nil {
						t.Fatal(err)
					}
					got, want := parseRendered(t, out), wantRendered(set, c.env, c.ns)
					if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
						t.Errorf("%s renders (-set +rendered):\n%s", c.dir, d)
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
}
