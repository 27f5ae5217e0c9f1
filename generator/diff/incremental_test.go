package diff

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/eval/evaltest"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

// universeOf is the diff universe of a random evaluator case: its pods (the
// same on both sides unless head is given), the address classes of both
// sides' blocks and two host classes.
func universeOf(c evaltest.Case, headPods []eval.Pod, pols [2][]*networkingv1.NetworkPolicy, cnps [2][]*v1beta1.ClusterNetworkPolicy, plugins [2]eval.Plugins) *universe {
	u := &universe{namespaces: c.Universe.Namespaces}
	u.pods[base], u.pods[head] = c.Universe.Pods, c.Universe.Pods
	if headPods != nil {
		u.pods[head] = headPods
	}
	for _, p := range c.Universe.Pods {
		u.eps = append(u.eps, Endpoint{Kind: KindService, Namespace: p.Namespace, Service: p.Name})
	}
	u.nPod = len(u.eps)
	u.prefixes = blocks(pols, cnps, plugins)
	for _, ac := range addressClasses(u.prefixes) {
		u.eps = append(u.eps, ac.ep)
		u.addrs = append(u.addrs, ac.addr)
	}
	// Two host classes: destinations only, reached through egress left
	// open or a whole-family block (the random blocks include 0.0.0.0/0
	// at times).
	for _, h := range []string{"*.example.com", "api.stripe.com"} {
		u.eps = append(u.eps, Endpoint{Kind: KindHost, Host: h})
		u.hosts = append(u.hosts, h)
	}
	return u
}

// mutate returns a random change of pols: a policy added, removed, replaced
// by another of the same name, or one rule dropped; the new policies come
// from an unrelated random case, so they name namespaces and labels of the
// same vocabulary.
func mutate(rng *rand.Rand, pols []*networkingv1.NetworkPolicy) ([]*networkingv1.NetworkPolicy, string) {
	out := append([]*networkingv1.NetworkPolicy(nil), pols...)
	fresh := func() *networkingv1.NetworkPolicy {
		for {
			c := evaltest.Random(rng, evaltest.RandomOptions{})
			if len(c.Policies) > 0 {
				return c.Policies[rng.IntN(len(c.Policies))].DeepCopy()
			}
		}
	}
	for {
		switch k := rng.IntN(4); {
		case k == 0 || len(out) == 0:
			p := fresh()
			p.Name = fmt.Sprintf("added%d", rng.IntN(1000))
			return append(out, p), "add " + p.Namespace + "/" + p.Name
		case k == 1:
			i := rng.IntN(len(out))
			what := "remove " + out[i].Namespace + "/" + out[i].Name
			return append(out[:i], out[i+1:]...), what
		case k == 2:
			i := rng.IntN(len(out))
			p := fresh()
			p.Name, p.Namespace = out[i].Name, out[i].Namespace
			out[i] = p
			return out, "replace " + p.Namespace + "/" + p.Name
		default:
			i := rng.IntN(len(out))
			p := out[i].DeepCopy()
			switch {
			case len(p.Spec.Ingress) > 0:
				p.Spec.Ingress = p.Spec.Ingress[1:]
			case len(p.Spec.Egress) > 0:
				p.Spec.Egress = p.Spec.Egress[1:]
			default:
				continue
			}
			out[i] = p
			return out, "drop a rule of " + p.Namespace + "/" + p.Name
		}
	}
}

// randomPlugins are a few random CiliumNetworkPolicies and Calico
// policies over c's namespaces and labels, within what the evaluator
// evaluates: endpoint selectors, toEndpoints/fromEndpoints (the namespace
// key too), toCIDR/toCIDRSet/fromCIDR, toFQDNs of the universe's two
// host classes (and one only the policy names), ports with ranges and ANY,
// enableDefaultDeny either way; Calico Log, Deny, Allow and Pass.
func randomPlugins(rng *rand.Rand, c evaltest.Case) eval.Plugins {
	var out eval.Plugins
	pods := c.Universe.Pods
	pick := func() eval.Pod { return pods[rng.IntN(len(pods))] }
	sel := func() *metav1.LabelSelector {
		p := pick()
		m := map[string]string{}
		for k, v := range p.Labels {
			if rng.IntN(2) == 0 {
				m[k] = v
			}
		}
		return &metav1.LabelSelector{MatchLabels: m}
	}
	peer := func() metav1.LabelSelector {
		s := *sel()
		if rng.IntN(2) == 0 {
			s.MatchLabels = maps.Clone(s.MatchLabels)
			if s.MatchLabels == nil {
				s.MatchLabels = map[string]string{}
			}
			s.MatchLabels[policy.CiliumNamespaceLabel] = pick().Namespace
		}
		return s
	}
	ports := func() []eval.CiliumPortRule {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return []eval.CiliumPortRule{{Ports: []eval.CiliumPort{{Port: "80", Protocol: "TCP"}, {Port: "53", Protocol: "UDP"}}}}
		case 2:
			return []eval.CiliumPortRule{{Ports: []eval.CiliumPort{{Port: "8000", EndPort: 9100, Protocol: "TCP"}}}}
		}
		return []eval.CiliumPortRule{{Ports: []eval.CiliumPort{{Port: "443", Protocol: "ANY"}}}}
	}
	hosts := []eval.CiliumFQDN{{MatchName: "api.stripe.com"}, {MatchPattern: "*.example.com"}, {MatchName: "only.policy.net"}}
	for i := range rng.IntN(3) {
		p := pick()
		cnp := &eval.CiliumNetworkPolicy{Spec: &eval.CiliumSpec{EndpointSelector: sel()}}
		cnp.APIVersion, cnp.Kind = eval.CiliumAPI, "CiliumNetworkPolicy"
		cnp.Namespace, cnp.Name = p.Namespace, fmt.Sprintf("cnp%d", i)
		if rng.IntN(2) == 0 {
			f := false
			cnp.Spec.EnableDefaultDeny = &eval.CiliumDefaultDeny{Ingress: &f, Egress: &f}
		}
		for range rng.IntN(3) {
			var r eval.CiliumEgressRule
			switch rng.IntN(3) {
			case 0:
				r.ToEndpoints = []metav1.LabelSelector{peer()}
			case 1:
				r.ToFQDNs = []eval.CiliumFQDN{hosts[rng.IntN(len(hosts))]}
			default:
				if rng.IntN(2) == 0 {
					r.ToCIDR = []string{"10.0.0.0/8"}
				} else {
					r.ToCIDRSet = []eval.CiliumCIDRRule{{CIDR: "0.0.0.0/0", Except: []string{"10.0.1.0/24"}}}
				}
			}
			r.ToPorts = ports()
			cnp.Spec.Egress = append(cnp.Spec.Egress, r)
		}
		for range rng.IntN(2) {
			var r eval.CiliumIngressRule
			if rng.IntN(2) == 0 {
				r.FromEndpoints = []metav1.LabelSelector{peer()}
			} else {
				r.FromCIDR = []string{"192.168.0.0/16"}
			}
			r.ToPorts = ports()
			cnp.Spec.Ingress = append(cnp.Spec.Ingress, r)
		}
		if len(cnp.Spec.Ingress)+len(cnp.Spec.Egress) > 0 {
			out.Cilium = append(out.Cilium, cnp)
		}
	}
	actions := []string{eval.CalicoLog, "Deny", "Allow", "Pass"}
	for i := range rng.IntN(2) {
		order := float64(1001 + rng.IntN(2000))
		cp := &eval.CalicoNetworkPolicy{Spec: eval.CalicoSpec{Order: &order, Selector: "all()"}}
		cp.APIVersion, cp.Kind = eval.CalicoAPI, "NetworkPolicy"
		cp.Namespace, cp.Name = pick().Namespace, fmt.Sprintf("calico%d", i)
		rules := func() []eval.CalicoRule {
			var rs []eval.CalicoRule
			if rng.IntN(2) == 0 {
				rs = append(rs, eval.CalicoRule{Action: eval.CalicoLog})
			}
			return append(rs, eval.CalicoRule{Action: actions[1+rng.IntN(3)]})
		}
		switch rng.IntN(3) {
		case 0:
			cp.Spec.Types, cp.Spec.Ingress = []string{"Ingress"}, rules()
		case 1:
			cp.Spec.Types, cp.Spec.Egress = []string{"Egress"}, rules()
		default:
			cp.Spec.Types, cp.Spec.Ingress, cp.Spec.Egress = []string{"Ingress", "Egress"}, rules(), rules()
		}
		out.Calico = append(out.Calico, cp)
	}
	return out
}

// TestIncrementalEqualsFull is the incremental flow diff's proof: on random
// changes (policies added, removed, replaced, rules dropped, one or more at
// once) over random universes and policies (named ports, ipBlocks, nil and
// empty fields, policies not yet defaulted), it reports exactly the flows
// that comparing every pair does, in the same order. A third of the cases
// carry the same random ClusterNetworkPolicies on both sides (Admin and
// Baseline tiers, Pass, networks), another third the same random plugin
// policies (randomPlugins: CiliumNetworkPolicy and Calico's NetworkPolicy);
// a few changes also relabel a pod or change a ClusterNetworkPolicy or a
// plugin policy, where the incremental path must step aside.
func TestIncrementalEqualsFull(t *testing.T) {
	const changes = 400
	rng := rand.New(rand.NewPCG(17, 1))
	incremental, withPlugins := 0, 0
	for n := range changes {
		c := evaltest.Random(rng, evaltest.RandomOptions{PodIPs: n%3 == 0})
		var pols [2][]*networkingv1.NetworkPolicy
		pols[base] = c.Policies
		pols[head] = c.Policies
		var what []string
		for range 1 + rng.IntN(3) {
			var w string
			pols[head], w = mutate(rng, pols[head])
			what = append(what, w)
		}
		var cnps [2][]*v1beta1.ClusterNetworkPolicy
		if n%3 == 1 {
			cnps[base] = evaltest.RandomClusterPolicies(rng, 1+rng.IntN(3))
			cnps[head] = cnps[base]
		}
		changedCluster := false
		if n%20 == 4 {
			var extra *v1beta1.ClusterNetworkPolicy
			for extra == nil {
				if ps := evaltest.RandomClusterPolicies(rng, 1); len(ps) > 0 {
					extra = ps[0]
				}
			}
			extra.Name = "added-cnp"
			cnps[head] = append(slices.Clone(cnps[base]), extra)
			changedCluster = true
			what = append(what, "add a ClusterNetworkPolicy")
		}
		var headPods []eval.Pod
		if n%10 == 9 {
			headPods = append([]eval.Pod(nil), c.Universe.Pods...)
			i := rng.IntN(len(headPods))
			headPods[i].Labels = map[string]string{"app": "relabelled"}
			what = append(what, "relabel "+headPods[i].Name)
		}
		// A third of the cases (apart from the cluster ones) carry the
		// same random plugin policies on both sides; a few change one,
		// where the incremental path must step aside.
		var plugins [2]eval.Plugins
		if n%3 == 2 {
			plugins[base] = randomPlugins(rng, c)
			plugins[head] = plugins[base]
		}
		changedPlugin := false
		if n%20 == 8 {
			extra := randomPlugins(rng, c)
			for extra.Len() == 0 {
				extra = randomPlugins(rng, c)
			}
			for _, p := range extra.Cilium {
				p.Name = "added-" + p.Name
			}
			for _, p := range extra.Calico {
				p.Name = "added-" + p.Name
			}
			plugins[head] = eval.Plugins{
				Cilium: append(slices.Clone(plugins[base].Cilium), extra.Cilium...),
				Calico: append(slices.Clone(plugins[base].Calico), extra.Calico...),
			}
			changedPlugin = true
			what = append(what, "add a plugin policy")
		}
		if plugins[base].Len() > 0 {
			withPlugins++
		}
		u := universeOf(c, headPods, pols, cnps, plugins)
		want, err := fullFlowChanges(u, pols, cnps, plugins)
		if err != nil {
			t.Fatalf("change %d (%s): full: %v", n, strings.Join(what, ", "), err)
		}
		got, ok, err := incrementalFlowChanges(u, pols, cnps, plugins, equalObjects{})
		if err != nil {
			t.Fatalf("change %d (%s): incremental: %v", n, strings.Join(what, ", "), err)
		}
		if headPods != nil || changedCluster || changedPlugin {
			if ok {
				t.Fatalf("change %d (%s): the incremental path ran with pods that differ", n, strings.Join(what, ", "))
			}
			continue
		}
		if !ok {
			t.Fatalf("change %d (%s): the incremental path stepped aside with the same pods", n, strings.Join(what, ", "))
		}
		incremental++
		if d := cmp.Diff(want, got, cmp.AllowUnexported(flowSets{})); d != "" {
			t.Fatalf("change %d (%s): incremental differs from full (-full +incremental):\n%s", n, strings.Join(what, ", "), d)
		}
	}
	if incremental < 280 {
		t.Fatalf("only %d changes took the incremental path, want at least 280", incremental)
	}
	if withPlugins < 100 {
		t.Fatalf("only %d changes carried plugin policies, want at least 100", withPlugins)
	}
}

// TestIncrementalEqualsFullSpecs is the same proof through the pipeline:
// random changes of small synthetic organisations' dependency files (a call
// moved, dropped or added, a port renumbered, a namespace's isolation
// changed), every environment, the universe built as Compare builds it.
func TestIncrementalEqualsFullSpecs(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2))
	tried, compared := 0, 0
	for compared < 60 && tried < 400 {
		tried++
		files := synth.Org(synth.Options{Services: 20 + rng.IntN(40), PerNamespace: 5 + rng.IntN(10), Seed: int64(tried)})
		changed, what := mutateSpec(rng, files)
		if changed == nil {
			continue
		}
		b, errB := generator.FromFiles(changed)
		if errB != nil {
			continue // the change made the files invalid: try another
		}
		a := mustGenerate(t, files)
		for _, env := range environments(a.Set, b.Set) {
			specs := [2]*schema.Spec{a.Spec, b.Spec}
			pols := [2][]*networkingv1.NetworkPolicy{a.Set.Render(env), b.Set.Render(env)}
			var cnps [2][]*v1beta1.ClusterNetworkPolicy
			var plugins [2]eval.Plugins
			u := buildUniverse(specs, env, pols, cnps, plugins)
			want, err := fullFlowChanges(u, pols, cnps, plugins)
			if err != nil {
				t.Fatal(err)
			}
			got, ok, err := incrementalFlowChanges(u, pols, cnps, plugins, equalObjects{})
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue
			}
			if d := cmp.Diff(want, got, cmp.AllowUnexported(flowSets{})); d != "" {
				t.Fatalf("org %d (%s), env %s: incremental differs from full (-full +incremental):\n%s", tried, what, env, d)
			}
		}
		compared++
	}
	if compared < 60 {
		t.Fatalf("only %d valid changes in %d tries", compared, tried)
	}
}

// mutateSpec changes one random line of one random team file.
func mutateSpec(rng *rand.Rand, files []schema.File) ([]schema.File, string) {
	var teams []int
	for i, f := range files {
		if strings.Contains(f.Path, "team-") {
			teams = append(teams, i)
		}
	}
	if len(teams) == 0 {
		return nil, ""
	}
	fi := teams[rng.IntN(len(teams))]
	lines := strings.Split(string(files[fi].Data), "\n")
	var calls, ports []int
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "            - ") && i > 0:
			calls = append(calls, i)
		case strings.HasPrefix(l, "            http: ") || strings.HasPrefix(l, "            grpc: "):
			ports = append(ports, i)
		}
	}
	var what string
	switch k := rng.IntN(4); {
	case k == 0 && len(calls) > 0:
		i := calls[rng.IntN(len(calls))]
		what = "drop " + strings.TrimSpace(lines[i])
		lines = append(lines[:i], lines[i+1:]...)
	case k == 1 && len(calls) > 1:
		i, j := calls[rng.IntN(len(calls))], calls[rng.IntN(len(calls))]
		what = "copy " + strings.TrimSpace(lines[i])
		lines = append(lines[:j], append([]string{lines[i]}, lines[j:]...)...)
	case k == 2 && len(ports) > 0:
		i := ports[rng.IntN(len(ports))]
		key, _, _ := strings.Cut(lines[i], ": ")
		lines[i] = fmt.Sprintf("%s: \"%d\"", key, 1000+rng.IntN(30000))
		what = "renumber " + strings.TrimSpace(lines[i])
	default:
		for i, l := range lines {
			if strings.HasPrefix(l, "namespace: ") {
				iso := []string{"[ingress]", "[egress]", "[ingress, egress]"}[rng.IntN(3)]
				lines = append(lines[:i+1], append([]string{"isolate: " + iso}, lines[i+1:]...)...)
				what = "isolate " + iso
				break
			}
		}
	}
	out := append([]schema.File(nil), files...)
	out[fi] = schema.File{Path: files[fi].Path, Data: []byte(strings.Join(lines, "\n"))}
	return out, what
}

// TestHostEndpoint: a host class is named by its name, sorts after the
// addresses, and matches a declared host call (its pattern included) and a
// whole-family block only.
func TestHostEndpoint(t *testing.T) {
	h := Endpoint{Kind: KindHost, Host: "storage.googleapis.com"}
	if got := h.String(); got != "host storage.googleapis.com" {
		t.Errorf("String() = %q", got)
	}
	if compareEndpoints(Endpoint{Kind: KindExternal, CIDR: "10.0.0.0/8"}, h) >= 0 {
		t.Error("a host sorts before an address class")
	}
	for _, c := range []struct {
		p    schema.Peer
		want bool
	}{
		{schema.Peer{Kind: schema.PeerHost, Host: "*.googleapis.com"}, true},
		{schema.Peer{Kind: schema.PeerHost, Host: "googleapis.com"}, false},
		{schema.Peer{Kind: schema.PeerCIDR, CIDR: "0.0.0.0/0"}, true},
		{schema.Peer{Kind: schema.PeerCIDR, CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}, false},
		{schema.Peer{Kind: schema.PeerCIDR, CIDR: "10.0.0.0/8"}, false},
	} {
		if got := peerMatches(c.p, h); got != c.want {
			t.Errorf("peerMatches(%+v) = %v, want %v", c.p, got, c.want)
		}
		if got := peerIs(c.p, h); got != c.want {
			t.Errorf("peerIs(%+v) = %v, want %v", c.p, got, c.want)
		}
	}
	if rs := risksOf(Flow{From: Endpoint{Kind: KindService, Namespace: "a", Service: "b"}, To: h}, nil); !slices.Equal(rs, []Risk{RiskEgressExternal}) {
		t.Errorf("risks %v, want egress-external", rs)
	}
}
