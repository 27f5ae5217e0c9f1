package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// This file wires the e2e test to the product: the universe of an example
// comes from its dependency files (schema.Load, then world.New, the
// world `netdep verify` evaluates over), the policies are the committed,
// rendered overlay (built with krusty, as `kubectl kustomize` does, not by
// netdep), and the oracle is netdep's own evaluator (generator/eval).

// ExampleScenarios returns one scenario per environment of every example
// under root (examples/<name>/ with its generated tree in netpol/).
func ExampleScenarios(root string) ([]*Scenario, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(dirs)
	var out []*Scenario
	for _, dir := range dirs {
		if st, err := os.Stat(filepath.Join(dir, "netpol")); err != nil || !st.IsDir() {
			continue
		}
		spec, probs := schema.Load([]string{dir})
		if len(probs.Errors()) > 0 {
			return nil, fmt.Errorf("%s: %v", dir, probs.Errors())
		}
		for _, env := range spec.EnvNames() {
			tree := filepath.Join(dir, "netpol", "base")
			name := filepath.Base(dir)
			if env != "" {
				tree = filepath.Join(dir, "netpol", "overlays", env)
				name += "-" + env
			}
			m, err := LoadManifests(tree)
			if err != nil {
				return nil, err
			}
			sc, err := specScenario("example-"+name, spec, env, m)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tree, err)
			}
			out = append(out, sc)
		}
	}
	return out, nil
}

// specScenario builds the universe of PRODUCT.md section 4 for env from
// spec, and the evaluator's oracle over the tree's NetworkPolicies in that
// same universe.
// An environment with guardrails in ClusterNetworkPolicies is enforced in
// their v1alpha1 equivalents; one whose tree holds the v1alpha1 objects
// (guardrails.api: v1alpha1) is enforced as written (guardrails.go). The
// plugins' objects (Cilium, Calico) are enforced by no agent here
// (plugins.go): the oracle is over the NetworkPolicies, and an audit
// environment (staged objects only) has no policy at all.
func specScenario(name string, spec *schema.Spec, env string, m *Manifests) (*Scenario, error) {
	pols, cnps, objs := m.Policies, m.ClusterPolicies, m.Admin
	u, addrs, err := specUniverse(env, spec)
	if err != nil {
		return nil, err
	}
	u.AddPolicyPorts(pols)
	sc := &Scenario{Name: name, Universe: u, Policies: pols}
	switch {
	case len(m.Plugin) > 0 && (len(objs) > 0 || len(cnps) > 0):
		// The checks that make the v1 oracle the plugin's (plugins.go) know
		// isolation by NetworkPolicies only; over guardrails they would
		// not hold, so no verdict here would be the plugin's.
		sc.NotEnforced = m.Plugin
		sc.Oracles = []Oracle{AllowAll{}}
		sc.Unenforceable = fmt.Sprintf("plugin objects (first %s) beside guardrails: the e2e cannot tell what the plugin would enforce over them", m.Plugin[0])
		return sc, nil
	case len(objs) > 0:
		if err := sc.withV1Alpha1Objects(objs, addrs); err != nil {
			return nil, err
		}
		return sc, nil
	case len(cnps) > 0:
		if err := sc.withClusterPolicies(cnps, addrs); err != nil {
			return nil, err
		}
		return sc, nil
	}
	o, err := NewEvalOracle(u, addrs, pols)
	if err != nil {
		return nil, err
	}
	sc.Oracles = []Oracle{o}
	wouldBe, err := sc.withPluginObjects(m.Plugin, o)
	if err != nil {
		return nil, err
	}
	if wouldBe != nil {
		// Staged objects only: the evaluator over no NetworkPolicy allows
		// every flow, which is the oracle; said so by name.
		sc.Oracles = []Oracle{StagedOnly{}}
		u.AddPolicyPorts(wouldBe)
	}
	if err := sc.specHosts(spec, env); err != nil {
		return nil, err
	}
	if e := spec.Environment(env); e != nil && e.Audit() && e.PluginOrDefault() == schema.PluginCilium {
		// Cilium cannot stage a policy: its audit mode is agent
		// configuration, under which it enforces nothing, the
		// NetworkPolicies included. The agents here have no such mode.
		sc.Notes = append(sc.Notes, "mode: audit on cilium: the tree is the enforced one; in the cluster it is enforced only once the agent's policy-audit-mode is off, which is what is probed here")
	}
	return sc, nil
}

// specHosts holds the tree's host flows (the CiliumNetworkPolicies'
// toFQDNs) to the spec's: every unpinned host call (schema.PeerHost) of a
// service in an egress-isolated namespace is one, and no other is. The
// calls of services whose egress is open are not probed either (no
// address) and are listed with them. Pinned hosts are ipBlocks: probed.
func (sc *Scenario) specHosts(spec *schema.Spec, env string) error {
	e := spec.Environment(env)
	if e == nil {
		return nil
	}
	key := func(from, host, ports string) string { return from + " -> host " + host + " " + ports }
	var want, open []string
	for _, r := range e.Rules {
		if r.Peer.Kind != schema.PeerHost || r.Direction != schema.Egress {
			continue
		}
		var ports []Port
		for _, p := range r.Ports {
			ports = append(ports, Port{Protocol: p.Protocol, Port: p.Port, EndPort: p.EndPort})
		}
		id := r.Service.Namespace + "/" + r.Service.Name
		k := key(id, r.Peer.Host, portsText(ports, r.AnyPort))
		if ns := spec.Namespace(r.Service.Namespace); ns != nil && ns.Managed && ns.IsolateEgress {
			want = append(want, k)
			continue
		}
		from := sc.Universe.Endpoint(id)
		if from == nil {
			return fmt.Errorf("host call %s: no pod for the service", k)
		}
		open = append(open, k)
		sc.Unprobed = append(sc.Unprobed, HostFlow{From: from, Host: r.Peer.Host, Ports: portsText(ports, r.AnyPort), Object: "egress not isolated: no policy needed"})
	}
	var got []string
	for _, h := range sc.Unprobed {
		if !slices.Contains(open, key(h.From.ID(), h.Host, h.Ports)) {
			got = append(got, key(h.From.ID(), h.Host, h.Ports))
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(slices.Compact(want), slices.Compact(got)) {
		return fmt.Errorf("host flows: the spec's unpinned host calls from egress-isolated services are %q, the CiliumNetworkPolicies of the tree allow %q", want, got)
	}
	return nil
}

// specUniverse is the world `netdep verify` evaluates env over
// (world.New), as test bed endpoints, completed, with the address
// prefixes the specs name. Several specs (the revisions of a rollout) give
// the union of their pods, as `netdep diff` evaluates both sides; a
// namespace's isolation is the last spec's that manages it.
func specUniverse(env string, specs ...*schema.Spec) (*Universe, []netip.Prefix, error) {
	w := world.New(env, specs...)
	u := &Universe{}
	for _, n := range w.Universe.Namespaces {
		ns := Namespace{Name: n.Name}
		for _, spec := range specs {
			if sn := spec.Namespace(n.Name); sn != nil {
				ns.Managed, ns.IsolateIngress, ns.IsolateEgress = sn.Managed, sn.IsolateIngress, sn.IsolateEgress
			}
		}
		u.Namespaces = append(u.Namespaces, ns)
	}
	for i, p := range w.Universe.Pods {
		info := w.Pods[i]
		e := &Endpoint{Namespace: p.Namespace, Labels: p.Labels}
		switch info.Kind {
		case world.ServicePod:
			e.Name = info.Service.Name
			for _, sp := range info.Service.Ports {
				e.Ports = append(e.Ports, Port{Name: sp.Name, Protocol: sp.Protocol, Port: sp.Port, EndPort: sp.EndPort})
			}
		case world.UnlabelledPod:
			e.Name = "unlabelled"
		default:
			// A pod carrying a raw peer's (or DNS's) selector labels; its
			// report name is not a valid object name.
			sum := sha256.Sum256([]byte(info.Name))
			e.Name = "peer-" + hex.EncodeToString(sum[:])[:8]
		}
		u.Pods = append(u.Pods, e)
	}
	if err := u.Complete(); err != nil {
		return nil, nil, err
	}
	return u, w.Universe.Addresses, nil
}

// EvalOracle is netdep's evaluator (generator/eval) over the universe as the
// test bed builds it: the same pods, labels, container ports and IPs (so
// ipBlock peers see pod addresses as kube-router does).
type EvalOracle struct {
	ev  *eval.Evaluator
	eps map[*Endpoint]eval.Endpoint
}

// NewEvalOracle compiles pols over u. It also adds to u one host outside the
// cluster per address class the evaluator distinguishes (every CIDR and
// except of the policies and of addrs splits the address space), so every
// ipBlock decision is probed at least once.
func NewEvalOracle(u *Universe, addrs []netip.Prefix, pols []*networkingv1.NetworkPolicy) (*EvalOracle, error) {
	return NewClusterEvalOracle(u, addrs, pols, nil)
}

// NewClusterEvalOracle is NewEvalOracle with ClusterNetworkPolicies too
// (eval.NewWithClusterPolicies: Admin tier, NetworkPolicies, Baseline
// tier); their networks split the address space as ipBlocks do.
func NewClusterEvalOracle(u *Universe, addrs []netip.Prefix, pols []*networkingv1.NetworkPolicy, cnps []*v1beta1.ClusterNetworkPolicy) (*EvalOracle, error) {
	var eu eval.Universe
	for _, ns := range u.Namespaces {
		eu.Namespaces = append(eu.Namespaces, eval.Namespace{Name: ns.Name})
	}
	for _, p := range u.Pods {
		eu.Pods = append(eu.Pods, eval.Pod{
			Namespace: p.Namespace, Name: p.Name, Labels: p.Labels,
			Ports: containerPorts(p.Ports), IPs: []netip.Addr{p.IP},
		})
	}
	eu.Addresses = append(eu.Addresses, addrs...)
	for _, x := range u.External {
		eu.Addresses = append(eu.Addresses, netip.PrefixFrom(x.IP, 32))
	}
	ev, err := eval.NewWithClusterPolicies(eu, pols, cnps)
	if err != nil {
		return nil, fmt.Errorf("netdep's evaluator rejects the policies: %w", err)
	}
	o := &EvalOracle{ev: ev, eps: map[*Endpoint]eval.Endpoint{}}
	for i, p := range u.Pods {
		o.eps[p] = eval.PodEndpoint(i)
	}
	have := map[int]bool{}
	for _, x := range u.External {
		ep := ev.ExternalFor(x.IP)
		o.eps[x] = ep
		have[ep.Index] = true
	}
	for i, class := range ev.Externals() {
		if have[i] {
			continue
		}
		ip, ok := representative(class.Prefixes)
		if !ok {
			continue // IPv6, or nothing usable: the test bed is IPv4 only
		}
		x := &Endpoint{Name: "addr-" + strings.ReplaceAll(ip.String(), ".", "-"), IP: ip}
		u.External = append(u.External, x)
		o.eps[x] = ev.ExternalFor(ip)
	}
	sort.Slice(u.External, func(i, j int) bool { return u.External[i].ID() < u.External[j].ID() })
	return o, nil
}

func (o *EvalOracle) Name() string {
	if len(o.ev.ClusterPolicies()) > 0 {
		return "netdep evaluator (generator/eval, with the v1beta1 ClusterNetworkPolicies)"
	}
	return "netdep evaluator (generator/eval)"
}

func (o *EvalOracle) Allowed(f Flow) bool {
	src, ok1 := o.eps[f.From]
	dst, ok2 := o.eps[f.To]
	if !ok1 || !ok2 {
		panic("e2e: endpoint unknown to the evaluator: " + f.From.ID() + " or " + f.To.ID())
	}
	return o.ev.Explain(eval.Query{Src: src, Dst: dst, Protocol: f.Protocol, Port: f.Port}).Allowed
}

// representative picks an address of a class to put a host on. Documentation
// ranges first, then the class's first usable address; never loopback,
// multicast, 0.0.0.0/8 or the test bed's own range. The address exists only
// inside the test's namespaces: no packet to it leaves them.
func representative(prefixes []netip.Prefix) (netip.Addr, bool) {
	in := func(a netip.Addr) bool {
		for _, p := range prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	usable := func(a netip.Addr) bool {
		return a.Is4() && !a.IsLoopback() && !a.IsMulticast() && !a.IsUnspecified() &&
			a.As4()[0] != 0 && a.As4()[0] < 224 && !testbedRange.Contains(a)
	}
	for _, s := range []string{"192.0.2.77", "198.51.100.77", "203.0.113.77"} {
		if a := netip.MustParseAddr(s); in(a) && usable(a) {
			return a, true
		}
	}
	for _, p := range prefixes {
		a := p.Masked().Addr()
		if p.Bits() < 31 {
			a = a.Next()
		}
		for k := 0; k < 4 && p.Contains(a); k++ {
			if usable(a) {
				return a, true
			}
			a = a.Next()
		}
	}
	return netip.Addr{}, false
}

// containerPorts is what the pod spec declares: the world's container ports
// (world.ContainerPorts), so the test bed's pods are the pods verify
// evaluates.
func containerPorts(ports []Port) []corev1.ContainerPort {
	sp := make([]schema.Port, len(ports))
	for i, p := range ports {
		sp[i] = schema.Port(p)
	}
	return world.ContainerPorts(sp)
}
