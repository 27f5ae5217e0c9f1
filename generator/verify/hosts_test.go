package verify

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

// The objects of issue 21's design, built in the test from a spec (the
// generator's own are h21g's): until generate emits them, these are what
// verify is proved against.

// cnpYAML is the CiliumNetworkPolicies of the design for env: one per
// service with PeerHost rules in an egress-isolated managed namespace.
func cnpYAML(spec *schema.Spec, env *schema.Environment) string {
	type svcHosts struct {
		svc   *schema.Service
		rules []schema.Rule
	}
	var order []string
	by := map[string]*svcHosts{}
	for _, r := range env.Rules {
		if r.Peer.Kind != schema.PeerHost || r.Direction != schema.Egress {
			continue
		}
		ns := spec.Namespace(r.Service.Namespace)
		if ns == nil || !ns.Managed || !ns.IsolateEgress {
			continue
		}
		id := r.Service.ID()
		if by[id] == nil {
			by[id] = &svcHosts{svc: r.Service}
			order = append(order, id)
		}
		by[id].rules = append(by[id].rules, r)
	}
	slices.Sort(order)
	var b strings.Builder
	for _, id := range order {
		sh := by[id]
		fmt.Fprintf(&b, "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: %s.hosts\n  namespace: %s\n", sh.svc.Name, sh.svc.Namespace)
		b.WriteString("spec:\n  endpointSelector: {matchLabels: {")
		var labels []string
		for k, v := range sh.svc.Selector {
			labels = append(labels, strconv.Quote(k)+": "+strconv.Quote(v))
		}
		slices.Sort(labels)
		b.WriteString(strings.Join(labels, ", ") + "}}\n  enableDefaultDeny: {egress: false, ingress: false}\n  egress:\n")
		// One rule per distinct port set, names sorted.
		byPorts := map[string][]string{}
		portsOf := map[string]string{}
		var keys []string
		var names []string
		for _, r := range sh.rules {
			k := toPorts(r)
			if _, ok := byPorts[k]; !ok {
				keys = append(keys, k)
			}
			byPorts[k] = append(byPorts[k], r.Peer.Host)
			portsOf[k] = k
			names = append(names, r.Peer.Host)
		}
		slices.Sort(keys)
		for _, k := range keys {
			hs := slices.Compact(slices.Sorted(slices.Values(byPorts[k])))
			b.WriteString("  - toFQDNs: [" + fqdns(hs) + "]\n")
			if k != "" {
				b.WriteString("    toPorts: [{ports: [" + k + "]}]\n")
			}
		}
		names = slices.Compact(slices.Sorted(slices.Values(names)))
		if env.DNS != nil {
			var dports []string
			for _, p := range env.DNS.Ports {
				dports = append(dports, fmt.Sprintf("{port: %q, protocol: %s}", strconv.Itoa(int(p.Port)), p.Protocol))
			}
			for _, p := range env.DNS.Peers {
				switch p.Kind {
				case schema.PeerSelector:
					sel := []string{"k8s:io.kubernetes.pod.namespace: " + p.Namespace}
					for k, v := range p.Selector {
						sel = append(sel, strconv.Quote(k)+": "+strconv.Quote(v))
					}
					slices.Sort(sel)
					b.WriteString("  - toEndpoints: [{matchLabels: {" + strings.Join(sel, ", ") + "}}]\n")
				case schema.PeerCIDR:
					b.WriteString("  - toCIDR: [" + p.CIDR + "]\n")
				}
				b.WriteString("    toPorts: [{ports: [" + strings.Join(dports, ", ") + "], rules: {dns: [" + fqdns(names) + "]}}]\n")
			}
		}
	}
	return b.String()
}

func fqdns(hs []string) string {
	var out []string
	for _, h := range hs {
		if strings.HasPrefix(h, "*") {
			out = append(out, fmt.Sprintf("{matchPattern: %q}", h))
		} else {
			out = append(out, "{matchName: "+h+"}")
		}
	}
	return strings.Join(out, ", ")
}

// toPorts is a rule's ports as Cilium ports ("" for any port).
func toPorts(r schema.Rule) string {
	if r.AnyPort {
		return ""
	}
	var ps []string
	for _, p := range r.Ports {
		s := fmt.Sprintf("{port: %q, protocol: %s", strconv.Itoa(int(p.Port)), p.Protocol)
		if p.EndPort != 0 {
			s += fmt.Sprintf(", endPort: %d", p.EndPort)
		}
		ps = append(ps, s+"}")
	}
	slices.Sort(ps)
	return strings.Join(ps, ", ")
}

// logDeniedYAML is the design's netdep-log-denied policy per managed
// namespace isolated in some direction.
func logDeniedYAML(spec *schema.Spec, staged bool) string {
	var b strings.Builder
	kind, action := "NetworkPolicy", ""
	if staged {
		kind, action = "StagedNetworkPolicy", "  stagedAction: Set\n"
	}
	for _, ns := range spec.Namespaces {
		if !ns.Managed || !ns.IsolateIngress && !ns.IsolateEgress {
			continue
		}
		var types []string
		fmt.Fprintf(&b, "---\napiVersion: projectcalico.org/v3\nkind: %s\nmetadata: {name: netdep-log-denied, namespace: %s}\nspec:\n%s  order: 2000\n  selector: all()\n", kind, ns.Name, action)
		if ns.IsolateIngress {
			types = append(types, "Ingress")
			b.WriteString("  ingress: [{action: Log}, {action: Deny}]\n")
		}
		if ns.IsolateEgress {
			types = append(types, "Egress")
			b.WriteString("  egress: [{action: Log}, {action: Deny}]\n")
		}
		b.WriteString("  types: [" + strings.Join(types, ", ") + "]\n")
	}
	return b.String()
}

// readObjects reads YAML as the manifest reader does.
func readObjects(t *testing.T, yml string) *Manifests {
	t.Helper()
	c := &collector{}
	if err := c.add("objects.yaml", []byte(yml)); err != nil {
		t.Fatal(err)
	}
	m, err := c.result()
	if err != nil {
		t.Fatalf("%v\n%s", err, yml)
	}
	if len(m.NotEvaluated) > 0 {
		t.Fatalf("not evaluated: %+v", m.NotEvaluated)
	}
	return m
}

// addHosts gives services of env PeerHost egress rules, as schema resolves
// unpinned host calls on cilium (h21s).
func addHosts(env *schema.Environment, svc *schema.Service, hosts []string, ports ...schema.Port) {
	for _, h := range hosts {
		r := schema.Rule{Service: svc, Direction: schema.Egress, Peer: schema.Peer{Kind: schema.PeerHost, Host: h}, Ports: ports, AnyPort: len(ports) == 0}
		env.Rules = append(env.Rules, r)
	}
}

func tcp(p int32) schema.Port { return schema.Port{Port: p, Protocol: "TCP"} }

// shopWithHosts is examples/shop with payment calling api.stripe.com and
// *.googleapis.com on 443 in dev, on plugin.
func shopWithHosts(t *testing.T, plugin schema.Plugin, mode schema.Mode) (*schema.Spec, *schema.Environment, *policy.Set) {
	spec, set := loadExample(t, "shop")
	env := spec.Environment("dev")
	env.Plugin, env.Mode = plugin, mode
	pay := serviceOf(t, env, "payments", "payment")
	addHosts(env, pay, []string{"api.stripe.com", "*.googleapis.com"}, tcp(443))
	return spec, env, set
}

func TestCiliumHostsExact(t *testing.T) {
	spec, env, set := shopWithHosts(t, schema.PluginCilium, "")
	cnps := cnpYAML(spec, env)
	if !strings.Contains(cnps, "matchPattern: \"*.googleapis.com\"") {
		t.Fatalf("builder wrote no wildcard:\n%s", cnps)
	}
	m := readObjects(t, cnps)
	m.Policies = set.Render("dev")
	r, err := CheckManifests(spec, "dev", m)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Exact() || r.Hosts != 2 || r.PluginPolicies != 1 {
		t.Fatalf("%s\nmissing %v\nexcess %v", r.Summary(), r.Missing, r.Excess)
	}
	// Without the CiliumNetworkPolicy the host calls are missing, named by
	// host.
	r, err = CheckWith(spec, "dev", set.Render("dev"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Missing) == 0 || !strings.Contains(r.Missing[0].Destination+r.Missing[len(r.Missing)-1].Destination, "host ") {
		t.Fatalf("no host missing: %v", r.Missing)
	}
}

func TestCiliumMutationsAreCaught(t *testing.T) {
	spec, env, set := shopWithHosts(t, schema.PluginCilium, "")
	cnps := cnpYAML(spec, env)
	for _, c := range []struct {
		name           string
		edit           func(string) string
		missing, extra bool
	}{
		{"drop the toFQDNs rule", func(s string) string {
			return strings.Replace(s, "  - toFQDNs: [{matchPattern: \"*.googleapis.com\"}, {matchName: api.stripe.com}]\n    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n", "", 1)
		}, true, false},
		{"drop one name", func(s string) string {
			return strings.Replace(s, ", {matchName: api.stripe.com}]\n    toPorts", "]\n    toPorts", 1)
		}, true, false},
		{"widen a name to matchPattern *", func(s string) string {
			return strings.Replace(s, "{matchName: api.stripe.com}]\n", "{matchPattern: \"*\"}]\n", 1)
		}, false, true},
		{"widen its ports to any", func(s string) string {
			return strings.Replace(s, "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n", "", 1)
		}, false, true},
		{"a wildcard for a name", func(s string) string {
			return strings.Replace(s, "{matchPattern: \"*.googleapis.com\"}, ", "{matchPattern: \"*.stripe.com\"}, ", 1)
		}, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			mut := c.edit(cnps)
			if mut == cnps {
				t.Fatalf("edit changed nothing:\n%s", cnps)
			}
			m := readObjects(t, mut)
			m.Policies = set.Render("dev")
			r, err := CheckManifests(spec, "dev", m)
			if err != nil {
				t.Fatal(err)
			}
			if (len(r.Missing) > 0) != c.missing || (len(r.Excess) > 0) != c.extra {
				t.Fatalf("missing %v\nexcess %v", r.Missing, r.Excess)
			}
		})
	}
}

// A v1 egress to 0.0.0.0/0 reaches an unpinned host, a /8 does not: the
// declared model and the evaluator agree either way.
func TestWholeFamilyCIDRHoldsHost(t *testing.T) {
	for _, cidr := range []string{"0.0.0.0/0", "10.0.0.0/8"} {
		spec, env, set := shopWithHosts(t, schema.PluginCilium, "")
		pay := serviceOf(t, env, "payments", "payment")
		env.Rules = append(env.Rules, schema.Rule{Service: pay, Direction: schema.Egress, Peer: schema.Peer{Kind: schema.PeerCIDR, CIDR: cidr}, Ports: []schema.Port{tcp(8443)}})
		m := readObjects(t, cnpYAML(spec, env))
		extra := &networkingv1.NetworkPolicy{}
		extra.Name, extra.Namespace = "payment-wide", "payments"
		extra.Spec.PodSelector.MatchLabels = pay.Selector
		extra.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
		port := networkingv1.NetworkPolicyPort{Port: intOrStr(8443)}
		extra.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: cidr}}}, Ports: []networkingv1.NetworkPolicyPort{port}}}
		m.Policies = append(set.Render("dev"), extra)
		r, err := CheckManifests(spec, "dev", m)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Exact() {
			t.Fatalf("%s: missing %v\nexcess %v", cidr, r.Missing, r.Excess)
		}
		ev, err := eval.NewWithPlugins(worldOf(spec), m.Policies, nil, m.Plugins)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := ev.HostFor("api.stripe.com")
		got := ev.Reachability().Ports(podOf(t, ev, "payments", "payment"), h)
		if want := cidr == "0.0.0.0/0"; got.Contains("TCP", 8443) != want {
			t.Errorf("%s: payment -> api.stripe.com 8443: %v, want %v", cidr, got, want)
		}
	}
}

// Calico log: denied isolates as the default deny does and keeps the
// graph exact; a Deny turned Allow or Pass opens everything; the Deny
// dropped changes nothing (the tier's end denies for a policy that
// applies).
func TestCalicoLogDeniedExactAndMutations(t *testing.T) {
	spec, set := loadExample(t, "shop")
	env := spec.Environment("dev")
	env.Plugin, env.LogDenied = schema.PluginCalico, true
	logs := logDeniedYAML(spec, false)
	for _, c := range []struct {
		name  string
		edit  func(string) string
		exact bool
	}{
		{"as emitted", func(s string) string { return s }, true},
		{"Deny dropped", func(s string) string { return strings.ReplaceAll(s, ", {action: Deny}]", "]") }, true},
		{"Deny turned Allow", func(s string) string { return strings.ReplaceAll(s, "{action: Deny}", "{action: Allow}") }, false},
		{"Deny turned Pass", func(s string) string { return strings.ReplaceAll(s, "{action: Deny}", "{action: Pass}") }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := readObjects(t, c.edit(logs))
			m.Policies = set.Render("dev")
			r, err := CheckManifests(spec, "dev", m)
			if err != nil {
				t.Fatal(err)
			}
			if r.Exact() != c.exact || r.PluginPolicies == 0 {
				t.Fatalf("exact %v, want %v (%d plugin policies): %d missing, %d excess", r.Exact(), c.exact, r.PluginPolicies, len(r.Missing), len(r.Excess))
			}
		})
	}
}

// Calico audit: everything staged, nothing enforced; the would-be set is
// exact and the report says both.
func TestCalicoAuditWouldBe(t *testing.T) {
	spec, set := loadExample(t, "shop")
	env := spec.Environment("dev")
	env.Plugin, env.Mode, env.LogDenied = schema.PluginCalico, schema.ModeAudit, true
	var b strings.Builder
	for _, p := range set.Render("dev") {
		b.WriteString(stagedNP(t, p))
	}
	b.WriteString(logDeniedYAML(spec, true))
	m := readObjects(t, b.String())
	if len(m.Policies) != 0 || m.Plugins.Len() != 0 || len(m.StagedPolicies) == 0 || len(m.StagedCalico) == 0 {
		t.Fatalf("read %d enforced, %d plugin, %d+%d staged", len(m.Policies), m.Plugins.Len(), len(m.StagedPolicies), len(m.StagedCalico))
	}
	r, err := CheckManifests(spec, "dev", m)
	if err != nil {
		t.Fatal(err)
	}
	n := len(m.StagedPolicies) + len(m.StagedCalico)
	if !r.Exact() || r.Audit == nil || r.Audit.Enforced != "none" || r.Audit.Staged != n {
		t.Fatalf("%+v %s", r.Audit, r.Summary())
	}
	want := fmt.Sprintf("audit: nothing netdep emits is enforced here (%d staged objects); would be: exact (", n)
	if !strings.HasPrefix(r.Summary(), want) {
		t.Errorf("Summary() = %q, want prefix %q", r.Summary(), want)
	}
	// Nothing enforced: the enforced objects alone allow everything.
	open, err := CheckWith(spec, "dev", m.Policies, Options{Plugins: m.Plugins})
	if err != nil {
		t.Fatal(err)
	}
	if len(open.Missing) != 0 || len(open.Excess) == 0 {
		t.Errorf("enforced set: %d missing, %d excess; want only excess (nothing denies)", len(open.Missing), len(open.Excess))
	}
	// A staged allow dropped: the would-be set misses it.
	m2 := *m
	m2.StagedPolicies = slices.DeleteFunc(slices.Clone(m.StagedPolicies), func(p *networkingv1.NetworkPolicy) bool { return p.Name == "payment" })
	r, err = CheckManifests(spec, "dev", &m2)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Missing) == 0 {
		t.Errorf("dropping a staged allow: still %s", r.Summary())
	}
}

// Cilium audit: the same objects, enforcement up to the agent.
func TestCiliumAuditReport(t *testing.T) {
	spec, env, set := shopWithHosts(t, schema.PluginCilium, schema.ModeAudit)
	m := readObjects(t, cnpYAML(spec, env))
	m.Policies = set.Render("dev")
	r, err := CheckManifests(spec, "dev", m)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Exact() || r.Audit == nil || r.Audit.Enforced != "agent" || !strings.Contains(r.Summary(), "policy audit mode") {
		t.Fatalf("%+v %s", r.Audit, r.Summary())
	}
}

func stagedNP(t *testing.T, p *networkingv1.NetworkPolicy) string {
	t.Helper()
	m, err := DecodeObjects("np", []any{p})
	if err != nil || len(m.Policies) != 1 {
		t.Fatalf("%v", err)
	}
	y := marshalYAML(t, p)
	y = strings.Replace(y, "apiVersion: networking.k8s.io/v1", "apiVersion: projectcalico.org/v3", 1)
	y = strings.Replace(y, "kind: NetworkPolicy", "kind: StagedKubernetesNetworkPolicy", 1)
	return "---\n" + y
}

// TestRandomHostSpecsAreExact: random specs, random host calls on
// services (names and wildcards, shared and not, some any-port), over the
// generated NetworkPolicies plus the design's CiliumNetworkPolicies, in
// enforce and audit, are exact in every environment.
func TestRandomHostSpecsAreExact(t *testing.T) {
	n := 120
	if testing.Short() {
		n = 15
	}
	hosts, cnps := 0, 0
	defer func() {
		if !t.Failed() && (hosts == 0 || cnps == 0) {
			t.Errorf("no host class (%d) or CiliumNetworkPolicy (%d) was checked", hosts, cnps)
		}
	}()
	pool := []string{"api.stripe.com", "*.googleapis.com", "storage.googleapis.com", "hooks.slack.com", "*.slack.com", "example.org"}
	for seed := int64(0); seed < int64(n); seed++ {
		rng := rand.New(rand.NewSource(seed))
		files := synth.Org(synth.Options{Services: 3 + int(seed%20), PerNamespace: 2 + int(seed%5), Seed: seed, NoProject: seed%5 == 0})
		spec, probs := schema.Parse(files)
		if len(probs.Errors()) > 0 {
			t.Fatalf("seed %d: %v", seed, probs)
		}
		set, err := policy.Generate(spec)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, name := range spec.EnvNames() {
			env := spec.Environment(name)
			env.Plugin = schema.PluginCilium
			if rng.Intn(3) == 0 {
				env.Mode = schema.ModeAudit
			}
			for _, s := range env.Services {
				if rng.Intn(3) != 0 {
					continue
				}
				hs := []string{pool[rng.Intn(len(pool))], pool[rng.Intn(len(pool))]}
				var ports []schema.Port
				switch rng.Intn(3) {
				case 0:
					ports = []schema.Port{tcp(443)}
				case 1:
					ports = []schema.Port{{Port: 8000, EndPort: 8100, Protocol: "TCP"}, {Port: 53, Protocol: "UDP"}}
				}
				addHosts(env, s, hs, ports...)
			}
			m := readObjects(t, cnpYAML(spec, env)+"\n")
			m.Policies = set.Render(name)
			r, err := CheckManifests(spec, name, m)
			if err != nil {
				t.Fatalf("seed %d env %q: %v", seed, name, err)
			}
			if !r.Exact() {
				t.Fatalf("seed %d env %q not exact:\nmissing %v\nexcess %v\n%s", seed, name, r.Missing, r.Excess, cnpYAML(spec, env))
			}
			hosts += r.Hosts
			cnps += r.PluginPolicies
		}
	}
}

func serviceOf(t *testing.T, env *schema.Environment, ns, name string) *schema.Service {
	t.Helper()
	for _, s := range env.Services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %s/%s", ns, name)
	return nil
}

func marshalYAML(t *testing.T, o any) string {
	t.Helper()
	j, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		t.Fatal(err)
	}
	return string(y)
}

func worldOf(spec *schema.Spec) eval.Universe { return world.New("dev", spec).Universe }

func podOf(t *testing.T, ev *eval.Evaluator, ns, name string) eval.Endpoint {
	t.Helper()
	i, ok := ev.PodIndex(ns, name)
	if !ok {
		t.Fatalf("no pod %s/%s", ns, name)
	}
	return eval.PodEndpoint(i)
}

func intOrStr(p int) *intstr.IntOrString {
	v := intstr.FromInt32(int32(p))
	return &v
}
