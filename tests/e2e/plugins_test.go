package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	netdepschema "github.com/netdep/netdep/schema"
)

// TestPluginFixtures: the three fixtures of issue 21 load with what each
// leaves out named, and their oracles say what the design says.
func TestPluginFixtures(t *testing.T) {
	tests := []struct {
		dir         string
		notEnforced []string
		unprobed    []string
		oracles     []string
		// flows checked against every oracle
		flows []struct {
			from, to string
			port     int32
			proto    corev1.Protocol
			want     bool
		}
	}{
		{
			dir:         "plugins-cilium",
			notEnforced: []string{"CiliumNetworkPolicy payments/payment.hosts (Cilium)"},
			unprobed: []string{
				"payments/payment -> host *.googleapis.com 443/TCP (CiliumNetworkPolicy payments/payment.hosts (Cilium))",
				"payments/payment -> host api.stripe.com 443/TCP (CiliumNetworkPolicy payments/payment.hosts (Cilium))",
			},
			oracles: []string{"declared graph", "netdep evaluator (generator/eval)"},
			flows: []struct {
				from, to string
				port     int32
				proto    corev1.Protocol
				want     bool
			}{
				{"payments/payment", "kube-system/coredns", 53, corev1.ProtocolUDP, true},
				{"payments/payment", "external/provider", 443, corev1.ProtocolTCP, true},
				{"payments/payment", "kube-system/unlabelled", 53, corev1.ProtocolUDP, false},
				{"shop/checkout", "payments/payment", 8443, corev1.ProtocolTCP, true},
				{"shop/checkout", "external/provider", 443, corev1.ProtocolTCP, false},
			},
		},
		{
			dir:         "plugins-calico-log",
			notEnforced: []string{"NetworkPolicy shop/netdep-log-denied (Calico)", "NetworkPolicy payments/netdep-log-denied (Calico)"},
			oracles:     []string{"declared graph", "netdep evaluator (generator/eval)"},
			flows: []struct {
				from, to string
				port     int32
				proto    corev1.Protocol
				want     bool
			}{
				{"shop/checkout", "external/stripe", 443, corev1.ProtocolTCP, true},
				{"shop/checkout", "external/elsewhere", 443, corev1.ProtocolTCP, false},
				{"payments/payment", "external/elsewhere", 443, corev1.ProtocolTCP, true}, // payments' egress is open
				{"shop/unlabelled", "payments/payment", 8443, corev1.ProtocolTCP, false},
			},
		},
		{
			dir: "plugins-calico-audit",
			notEnforced: []string{
				"StagedKubernetesNetworkPolicy shop/default-deny (Calico, staged: enforces nothing)",
				"StagedKubernetesNetworkPolicy shop/allow-dns (Calico, staged: enforces nothing)",
				"StagedKubernetesNetworkPolicy shop/checkout (Calico, staged: enforces nothing)",
				"StagedKubernetesNetworkPolicy payments/default-deny (Calico, staged: enforces nothing)",
				"StagedKubernetesNetworkPolicy payments/payment (Calico, staged: enforces nothing)",
				"StagedNetworkPolicy shop/netdep-log-denied (Calico, staged: enforces nothing)",
				"StagedNetworkPolicy payments/netdep-log-denied (Calico, staged: enforces nothing)",
			},
			oracles: []string{"staged objects only, nothing enforced: every flow passes"},
			flows: []struct {
				from, to string
				port     int32
				proto    corev1.Protocol
				want     bool
			}{
				// would be denied; nothing is enforced
				{"shop/checkout", "external/elsewhere", 443, corev1.ProtocolTCP, true},
				{"shop/unlabelled", "payments/payment", 8443, corev1.ProtocolTCP, true},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			sc, err := LoadFixture(filepath.Join("testdata", "scenarios", tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range sc.NotEnforced {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.notEnforced, "\n") {
				t.Errorf("not enforced:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.notEnforced, "\n"))
			}
			got = nil
			for _, h := range sc.Unprobed {
				got = append(got, h.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.unprobed, "\n") {
				t.Errorf("not probed:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.unprobed, "\n"))
			}
			got = nil
			for _, o := range sc.Oracles {
				got = append(got, o.Name())
			}
			if strings.Join(got, "\n") != strings.Join(tc.oracles, "\n") {
				t.Errorf("oracles: %q, want %q", got, tc.oracles)
			}
			// The oracles agree on every flow the run probes.
			for _, f := range Flows(sc.Universe) {
				for _, o := range sc.Oracles[1:] {
					if o.Allowed(f) != sc.Oracles[0].Allowed(f) {
						t.Errorf("%s -> %s %s: %s says %v, %s %v", f.From.ID(), f.To.ID(), f.Probe, sc.Oracles[0].Name(), sc.Oracles[0].Allowed(f), o.Name(), o.Allowed(f))
					}
				}
			}
			for _, c := range tc.flows {
				from, to := sc.Universe.Endpoint(c.from), sc.Universe.Endpoint(c.to)
				if from == nil || to == nil {
					t.Fatalf("no endpoint %s or %s", c.from, c.to)
				}
				f := Flow{From: from, To: to, Probe: Probe{Port: c.port, Protocol: c.proto}}
				for _, o := range sc.Oracles {
					if got := o.Allowed(f); got != c.want {
						t.Errorf("%s: %s -> %s %s: %v, want %v", o.Name(), c.from, c.to, f.Probe, got, c.want)
					}
				}
			}
		})
	}
}

// TestPluginFixturesRefused: each edit makes the tree mean something the
// e2e could not prove with the agents it has (or something netdep does not
// emit), and the loader must refuse it, naming why.
func TestPluginFixturesRefused(t *testing.T) {
	tests := []struct {
		name, dir, file, old, new, want string
	}{
		{
			name: "cnp isolates on its own", dir: "plugins-cilium", file: "payments.yaml",
			old: "  enableDefaultDeny: {egress: false, ingress: false}\n", new: "",
			want: "spec.enableDefaultDeny: want {egress: false, ingress: false}",
		},
		{
			name: "cnp dns rule wider than allow-dns", dir: "plugins-cilium", file: "payments.yaml",
			old:  "{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}",
			new:  "{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system}}",
			want: "allows payments/payment -> kube-system/unlabelled 53/TCP, which the NetworkPolicies deny",
		},
		{
			name: "cnp allows a host nobody declared", dir: "plugins-cilium", file: "payments.yaml",
			old: "{matchName: api.stripe.com}]\n      toPorts", new: "{matchName: api.stripe.com}, {matchName: evil.example.com}]\n      toPorts",
			want: "host flows: the declared graph has",
		},
		{
			name: "cnp field the e2e does not read", dir: "plugins-cilium", file: "payments.yaml",
			old: "  endpointSelector: {matchLabels: {app: payment}}\n", new: "  endpointSelector: {matchLabels: {app: payment}}\n  egressDeny: [{toCIDR: [10.0.0.0/8]}]\n",
			want: "egressDeny",
		},
		{
			name: "calico denies a direction v1 leaves open", dir: "plugins-calico-log", file: "policies.yaml",
			old: "  types: [Ingress]\n  ingress: [{action: Log}, {action: Deny}]\n", new: "  types: [Ingress, Egress]\n  ingress: [{action: Log}, {action: Deny}]\n  egress: [{action: Log}, {action: Deny}]\n",
			want: "denies egress of payments/payment, which no NetworkPolicy isolates",
		},
		{
			name: "calico allow rule", dir: "plugins-calico-log", file: "policies.yaml",
			old: "  types: [Ingress]\n  ingress: [{action: Log}, {action: Deny}]\n", new: "  types: [Ingress]\n  ingress: [{action: Log}, {action: Allow}]\n",
			want: "want exactly [{action: Log}, {action: Deny}]",
		},
		{
			name: "calico before the kubernetes policies", dir: "plugins-calico-log", file: "policies.yaml",
			old: "  order: 2000\n  selector: all()\n  types: [Ingress]\n", new: "  order: 500\n  selector: all()\n  types: [Ingress]\n",
			want: "spec.order: want more than 1000",
		},
		{
			name: "staged beside enforced", dir: "plugins-calico-audit", file: "policies.yaml",
			old:  "apiVersion: projectcalico.org/v3\nkind: StagedKubernetesNetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: shop\n",
			new:  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: shop\n",
			want: "staged objects beside 1 NetworkPolicies",
		},
		{
			name: "staged set that would not enforce the graph", dir: "plugins-calico-audit", file: "policies.yaml",
			old: "    - to:\n        - ipBlock: {cidr: 203.0.113.10/32}\n", new: "    - to:\n        - ipBlock: {cidr: 203.0.113.0/24}\n",
			want: "would be: shop/checkout -> external/elsewhere 443/TCP: the declared graph says false, the evaluator over the staged objects true",
		},
		{
			name: "staged action other than Set", dir: "plugins-calico-audit", file: "policies.yaml",
			old:  "  namespace: payments\n  labels: {app.kubernetes.io/managed-by: netdep}\n  annotations: {argocd.argoproj.io/sync-wave: \"1\", netdep.io/source: netdep.yaml}\nspec:\n  stagedAction: Set\n",
			new:  "  namespace: payments\n  labels: {app.kubernetes.io/managed-by: netdep}\n  annotations: {argocd.argoproj.io/sync-wave: \"1\", netdep.io/source: netdep.yaml}\nspec:\n  stagedAction: Delete\n",
			want: "spec.stagedAction \"Delete\": want Set",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyFixture(t, tc.dir)
			f := filepath.Join(dir, "policies", tc.file)
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if n := bytes.Count(b, []byte(tc.old)); n != 1 {
				t.Fatalf("the text to replace occurs %d times in %s", n, f)
			}
			if err := os.WriteFile(f, bytes.Replace(b, []byte(tc.old), []byte(tc.new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = LoadFixture(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func copyFixture(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "scenarios", name))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTallyNotEnforced: plugin objects and host flows are named in the
// tally and counted neither as passed nor as failed.
func TestTallyNotEnforced(t *testing.T) {
	sc, err := LoadFixture(filepath.Join("testdata", "scenarios", "plugins-cilium"))
	if err != nil {
		t.Fatal(err)
	}
	tally := NewTally(AgentKinds()[:1])
	tally.AddScenario(sc)
	var b bytes.Buffer
	tally.Write(&b)
	want := `
== not enforced by any agent here (created in the API server when its CRDs are at hand; oracles computed over the NetworkPolicies)
plugins-cilium: CiliumNetworkPolicy payments/payment.hosts (Cilium)

== not probed: host flows (egress by DNS name have no address here; not counted)
plugins-cilium: payments/payment -> host *.googleapis.com 443/TCP (CiliumNetworkPolicy payments/payment.hosts (Cilium))
plugins-cilium: payments/payment -> host api.stripe.com 443/TCP (CiliumNetworkPolicy payments/payment.hosts (Cilium))

0 passed, 0 failed
`
	if !strings.HasSuffix(b.String(), want) {
		t.Errorf("tally:\n%s\nwant it to end with\n%s", b.String(), want)
	}
}

// TestPluginCRDs: the CRD of every kind the loader admits is found in
// ../shared/crds and names that kind (skipped, saying so, where the folder
// is absent).
func TestPluginCRDs(t *testing.T) {
	if _, err := os.Stat(CRDDir()); err != nil {
		t.Skipf("SKIPPED: no upstream CRDs beside the repository (%v)", err)
	}
	var objs []PluginObject
	for _, k := range PluginKinds {
		objs = append(objs, PluginObject{Kind: k})
	}
	crds, err := PluginCRDs(CRDDir(), objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) != len(PluginKinds) {
		t.Fatalf("%d CRDs for %d kinds", len(crds), len(PluginKinds))
	}
	for i, crd := range crds {
		k := PluginKinds[i]
		group, _, _ := unstructuredString(crd.Object, "spec", "group")
		kind, _, _ := unstructuredString(crd.Object, "spec", "names", "kind")
		if group != k.GVK.Group || kind != k.GVK.Kind {
			t.Errorf("%s: CRD %s is for %s %s", k.CRD, crd.GetName(), group, kind)
		}
	}
}

func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	return unstructured.NestedString(obj, fields...)
}

// TestSpecHosts: an example's unpinned host calls (schema.PeerHost) must be
// exactly the host flows its CiliumNetworkPolicies allow; a call from a
// namespace whose egress is open needs no policy and is listed as not
// probed all the same.
func TestSpecHosts(t *testing.T) {
	rule := func(host string, port int32) netdepschema.Rule {
		return netdepschema.Rule{
			Service:   &netdepschema.Service{Namespace: "payments", Name: "payment"},
			Direction: netdepschema.Egress,
			Peer:      netdepschema.Peer{Kind: netdepschema.PeerHost, Host: host},
			Ports:     []netdepschema.Port{{Protocol: corev1.ProtocolTCP, Port: port}},
		}
	}
	spec := func(isolateEgress bool, rules ...netdepschema.Rule) *netdepschema.Spec {
		return &netdepschema.Spec{
			Environments: []*netdepschema.Environment{{Name: "prod", Rules: rules}},
			Namespaces:   []*netdepschema.Namespace{{Name: "payments", Managed: true, IsolateIngress: true, IsolateEgress: isolateEgress}},
		}
	}
	tests := []struct {
		name     string
		fixture  string
		spec     *netdepschema.Spec
		want     string // error substring, "" for none
		unprobed int
	}{
		{"as the CNP says", "plugins-cilium", spec(true, rule("*.googleapis.com", 443), rule("api.stripe.com", 443)), "", 2},
		{"a call the CNP lacks", "plugins-cilium", spec(true, rule("*.googleapis.com", 443), rule("api.stripe.com", 443), rule("api.example.com", 443)), "host flows: the spec's unpinned host calls", 0},
		{"a port the CNP lacks", "plugins-cilium", spec(true, rule("*.googleapis.com", 443), rule("api.stripe.com", 8443)), "host flows: the spec's unpinned host calls", 0},
		{"egress open, no CNP", "plugins-calico-log", spec(false, rule("api.stripe.com", 443)), "", 1},
		{"egress isolated, no CNP", "plugins-calico-log", spec(true, rule("api.stripe.com", 443)), "host flows: the spec's unpinned host calls", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := LoadFixture(filepath.Join("testdata", "scenarios", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			err = sc.specHosts(tc.spec, "prod")
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			case tc.want == "" && len(sc.Unprobed) != tc.unprobed:
				t.Errorf("%d host flows not probed, want %d: %v", len(sc.Unprobed), tc.unprobed, sc.Unprobed)
			}
		})
	}
}

// TestGeneratorTrees: the loader reads the plugin objects netdep itself
// writes (generator/kustomize's golden trees, one per plugin and mode),
// each overlay built with krusty: every CiliumNetworkPolicy is in the
// subset it reads, every Calico policy is the Log+Deny shape, an audit
// overlay holds staged objects only and converts to its would-be
// NetworkPolicies. The universe-bound checks (isolation, allows within
// v1) run on the examples, whose universe comes from their spec.
func TestGeneratorTrees(t *testing.T) {
	root := filepath.Join("..", "..", "generator", "kustomize", "testdata", "build")
	kinds := map[string]int{}
	for _, name := range []string{"cilium-hosts", "cilium-audit", "calico-log", "calico-audit"} {
		overlays, err := filepath.Glob(filepath.Join(root, name, "overlays", "*"))
		if err != nil || len(overlays) == 0 {
			t.Fatalf("%s: no overlays (%v)", name, err)
		}
		for _, dir := range overlays {
			m, err := LoadManifests(dir)
			if err != nil {
				t.Errorf("%s: %v", dir, err)
				continue
			}
			staged := 0
			for _, p := range m.Plugin {
				kinds[p.Kind.GVK.Kind]++
				switch p.Kind.GVK {
				case ciliumNPGVK:
					if _, _, err := ciliumPolicy(&Universe{}, p); err != nil {
						t.Errorf("%s: %v", dir, err)
					}
				case calicoNPGVK:
					if err := calicoLogDeny(&Universe{}, p, m.Policies); err != nil {
						t.Errorf("%s: %v", dir, err)
					}
				default:
					staged++
				}
			}
			if staged > 0 {
				if len(m.Policies) > 0 || staged != len(m.Plugin) {
					t.Errorf("%s: %d staged objects beside %d NetworkPolicies and %d enforced plugin objects", dir, staged, len(m.Policies), len(m.Plugin)-staged)
				}
				pols, calico, err := WouldBe(m.Plugin)
				if err != nil {
					t.Errorf("%s: %v", dir, err)
				}
				for _, p := range calico {
					if err := calicoLogDeny(&Universe{}, p, pols); err != nil {
						t.Errorf("%s: %v", dir, err)
					}
				}
				if len(pols) == 0 {
					t.Errorf("%s: staged objects with no would-be NetworkPolicy", dir)
				}
			}
		}
	}
	for _, k := range PluginKinds {
		if kinds[k.GVK.Kind] == 0 {
			t.Errorf("no %s in the generator's trees: the loader is not tested on it", k.GVK.Kind)
		}
	}
	t.Logf("plugin objects read: %v", kinds)
}
