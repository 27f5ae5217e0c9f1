package verify

import (
	"net/netip"
	"slices"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// declared answers, for one environment of one spec, which connections the
// dependency files declare: the graph the policies must implement exactly.
// It reads the spec's rules directly and never looks at a NetworkPolicy, so
// comparing it with the evaluator's answer on the generated policies tests
// the generator rather than restating it.
type declared struct {
	w    *world.World
	spec *schema.Spec
	env  *schema.Environment
	// egress and ingress are, per world pod, the rules of the service the
	// pod stands for (none for other pods).
	egress, ingress []podRules
	// isoIn and isoEg say, per world pod, whether netdep isolates it.
	isoIn, isoEg []bool
	// podsByNS indexes world pods by namespace; podByService by service.
	podsByNS     map[string][]int
	podByService map[serviceKey]int
	// admin are the environment's Admin-tier guardrails in evaluation
	// order; adminIn and adminEg, per world pod, say whether one of a
	// direction has the pod as its subject.
	admin            []*schema.Guardrail
	adminIn, adminEg []bool
	// outsideOpen says, per world pod, that ingress from outside the
	// cluster reaches it: its namespace's default deny is Baseline-tier
	// only (ClusterNetworkPolicy ingress peers are pods, so it cannot deny
	// addresses), and no netdep NetworkPolicy isolates the pod's ingress.
	outsideOpen []bool
}

// serviceKey identifies a service across specs (two revisions' objects for
// one service differ) without building its ID string.
type serviceKey struct{ namespace, name string }

func keyOf(s *schema.Service) serviceKey { return serviceKey{s.Namespace, s.Name} }

// podRules are one pod's rules of one direction. A service peer is that
// service's pod and no other, so those rules are kept as the ports they
// allow per peer pod: a hub called by hundreds answers in one lookup.
type podRules struct {
	rules  []schema.Rule        // all of them, in order
	byPeer map[int]eval.PortSet // service peers, by the peer's pod
	other  []schema.Rule        // raw-selector and CIDR peers
}

func newDeclared(w *world.World, spec *schema.Spec, env *schema.Environment) *declared {
	n := len(w.Universe.Pods)
	d := &declared{w: w, spec: spec, env: env, egress: make([]podRules, n), ingress: make([]podRules, n)}
	d.podsByNS = map[string][]int{}
	d.podByService = map[serviceKey]int{}
	for i, p := range w.Universe.Pods {
		d.podsByNS[p.Namespace] = append(d.podsByNS[p.Namespace], i)
		if w.Pods[i].Kind == world.ServicePod {
			d.podByService[keyOf(w.Pods[i].Service)] = i
		}
		ns := spec.Namespace(p.Namespace)
		managed := ns != nil && ns.Managed
		d.isoIn = append(d.isoIn, managed && ns.IsolateIngress)
		d.isoEg = append(d.isoEg, managed && ns.IsolateEgress)
	}
	d.admin = env.AdminGuardrails()
	d.adminIn, d.adminEg = make([]bool, n), make([]bool, n)
	d.outsideOpen = make([]bool, n)
	for i, p := range w.Universe.Pods {
		baselineOnly := !env.NetworkPolicyDeny(spec.Namespace(p.Namespace))
		for _, g := range d.admin {
			if subjectHolds(g, p) {
				if g.Egress {
					d.adminEg[i] = true
				} else {
					d.adminIn[i] = true
				}
			}
		}
		if baselineOnly && d.isoIn[i] && !d.ingressSelected(i) {
			d.outsideOpen[i] = true
		}
	}
	for _, r := range env.Rules {
		pod, ok := d.podByService[keyOf(r.Service)]
		if !ok {
			continue
		}
		pr := &d.ingress[pod]
		if r.Direction == schema.Egress {
			pr = &d.egress[pod]
		}
		pr.rules = append(pr.rules, r)
		if r.Peer.Kind != schema.PeerService {
			pr.other = append(pr.other, r)
			continue
		}
		peer, ok := d.podByService[keyOf(r.Peer.Service)]
		if !ok {
			continue // a service without a pod here: the rule matches nothing
		}
		if pr.byPeer == nil {
			pr.byPeer = map[int]eval.PortSet{}
		}
		pr.byPeer[peer] = pr.byPeer[peer].Union(portSet(r.Ports, r.AnyPort))
	}
	return d
}

// ingressSelected reports whether one of netdep's NetworkPolicies selects
// pod i for ingress: a service policy of its namespace (whose selector its
// labels carry) or allow-dns-ingress (a DNS pod). A namespace isolated for
// ingress has them.
func (d *declared) ingressSelected(i int) bool {
	pod := d.w.Universe.Pods[i]
	for _, s := range d.env.Services {
		if s.Namespace == pod.Namespace && labelsHold(s.Selector, pod.Labels) {
			return true
		}
	}
	return d.dnsServer(i)
}

// subjectHolds reports whether guardrail g's subject selects pod p.
func subjectHolds(g *schema.Guardrail, p eval.Pod) bool {
	if g.SubjectPods != nil {
		return p.Namespace == g.SubjectPods.Namespace && labelsHold(g.SubjectPods.Selector, p.Labels)
	}
	for _, ns := range g.SubjectNamespaces {
		if ns == p.Namespace {
			return true
		}
	}
	return false
}

func labelsHold(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// adminSide walks the Admin-tier guardrails for one side of pod self with
// peer, as the tier is evaluated: in order, each rule deciding the ports
// still open. It returns the ports accepted and the ports no guardrail
// decided (left to the NetworkPolicies and the Baseline tier).
func (d *declared) adminSide(self int, peer eval.Endpoint, externals []eval.External, egress bool) (accepted, open eval.PortSet) {
	open = eval.AllPorts()
	if egress && !d.adminEg[self] || !egress && !d.adminIn[self] {
		return accepted, open
	}
	pod := d.w.Universe.Pods[self]
	for _, g := range d.admin {
		if g.Egress != egress || !subjectHolds(g, pod) || !d.guardrailPeer(g, self, peer, externals) {
			continue
		}
		ps := portSet(g.Ports, g.AnyPort).Intersect(open)
		if !g.Deny {
			accepted = accepted.Union(ps)
		}
		open = open.Subtract(ps)
	}
	return accepted, open
}

// guardrailPeer is the declared meaning of a guardrail's peers.
func (d *declared) guardrailPeer(g *schema.Guardrail, self int, peer eval.Endpoint, externals []eval.External) bool {
	if !peer.External {
		ns := d.w.Universe.Pods[peer.Index].Namespace
		if g.PeerNamespaces != nil {
			return slices.Contains(g.PeerNamespaces, ns)
		}
		if g.PeerNamespacesExcept != nil {
			return !slices.Contains(g.PeerNamespacesExcept, ns)
		}
	}
	for _, p := range g.Peers {
		if d.matches(p, self, peer, externals) {
			return true
		}
	}
	return false
}

// side is what pod self's side of a connection with peer declares, through
// the tiers: the Admin guardrails first, then netdep's rules where it
// isolates the pod (AllPorts where it does not).
func (d *declared) side(self int, peer eval.Endpoint, externals []eval.External, egress bool) eval.PortSet {
	rest := eval.AllPorts()
	if d.isolated(self, egress) && !(!egress && peer.External && d.outsideOpen[self]) {
		rest = d.allowed(self, peer, externals, egress)
	}
	if d.admin == nil {
		return rest
	}
	accepted, open := d.adminSide(self, peer, externals, egress)
	return accepted.Union(open.Intersect(rest))
}

// isolated reports whether netdep isolates pod i in the given direction: the
// pod lives in a managed namespace isolated that way.
func (d *declared) isolated(pod int, egress bool) bool {
	if egress {
		return d.isoEg[pod]
	}
	return d.isoIn[pod]
}

// eachDeclared calls fn for every (src, dst) pair with declared ports. For a
// source netdep isolates, only the peers of its egress rules and DNS are
// candidates. An open source may reach every destination whose ingress
// admits it: those nobody isolates, those whose ingress names it as a
// service peer, and those with raw-selector, CIDR or DNS-server ingress
// (few); trying every pod for each open source instead was a third of
// verify's time at 10,000 services.
func (d *declared) eachDeclared(externals []eval.External, fn func(src, dst eval.Endpoint, want eval.PortSet)) {
	nPods := len(d.w.Universe.Pods)
	var open []int              // destinations any source may be declared to reach
	admitted := map[int][]int{} // source pod -> destinations naming it in ingress
	for i := 0; i < nPods; i++ {
		pr := &d.ingress[i]
		if !d.isolated(i, false) || len(pr.other) > 0 || d.dnsServer(i) {
			open = append(open, i)
			continue
		}
		for peer := range pr.byPeer {
			admitted[peer] = append(admitted[peer], i)
		}
	}
	var dsts []int
	all := func(src eval.Endpoint, emit func(eval.Endpoint)) {
		dsts = append(dsts[:0], open...)
		if !src.External {
			dsts = append(dsts, admitted[src.Index]...)
			slices.Sort(dsts)
		}
		for _, i := range dsts {
			emit(eval.PodEndpoint(i))
		}
		if !src.External {
			for i := range externals {
				emit(eval.ExternalEndpoint(i))
			}
		}
	}
	try := func(src, dst eval.Endpoint) {
		if src == dst {
			return
		}
		if want := d.ports(src, dst, externals); !want.IsEmpty() {
			fn(src, dst, want)
		}
	}
	for i := 0; i < nPods+len(externals); i++ {
		src := eval.PodEndpoint(i)
		if i >= nPods {
			src = eval.ExternalEndpoint(i - nPods)
			if externals[i-nPods].Host != "" {
				continue // a host is only ever a destination
			}
		}
		if src.External || !d.isolated(i, true) || d.adminEg[i] {
			all(src, func(dst eval.Endpoint) { try(src, dst) })
			continue
		}
		seen := map[eval.Endpoint]bool{}
		cands := func(p schema.Peer) {
			for _, dst := range d.peerEndpoints(p, externals) {
				if !seen[dst] {
					seen[dst] = true
					try(src, dst)
				}
			}
		}
		if d.env.DNS != nil {
			for _, p := range d.env.DNS.Peers {
				cands(p)
			}
		}
		for _, r := range d.egress[i].rules {
			cands(r.Peer)
		}
	}
}

// peerEndpoints lists the world endpoints a declared peer matches.
func (d *declared) peerEndpoints(p schema.Peer, externals []eval.External) []eval.Endpoint {
	var out []eval.Endpoint
	switch p.Kind {
	case schema.PeerService:
		if i, ok := d.podByService[keyOf(p.Service)]; ok {
			out = append(out, eval.PodEndpoint(i))
		}
	case schema.PeerSelector:
		for _, i := range d.podsByNS[p.Namespace] {
			if d.matches(p, -1, eval.PodEndpoint(i), externals) {
				out = append(out, eval.PodEndpoint(i))
			}
		}
	case schema.PeerCIDR, schema.PeerHost:
		for i := range externals {
			if d.matches(p, -1, eval.ExternalEndpoint(i), externals) {
				out = append(out, eval.ExternalEndpoint(i))
			}
		}
	}
	return out
}

// ports returns the declared ports from src to dst (AllPorts when neither
// side is isolated), externals included.
func (d *declared) ports(src, dst eval.Endpoint, externals []eval.External) eval.PortSet {
	eg := eval.AllPorts()
	if !src.External {
		eg = d.side(src.Index, dst, externals, true)
	}
	if eg.IsEmpty() {
		return eg
	}
	in := eval.AllPorts()
	if !dst.External {
		in = d.side(dst.Index, src, externals, false)
	}
	return eg.Intersect(in)
}

// allowed is what pod self's declared rules of one direction allow with peer.
func (d *declared) allowed(self int, peer eval.Endpoint, externals []eval.External, egress bool) eval.PortSet {
	var out eval.PortSet
	info := d.w.Pods[self]
	if egress && d.env.DNS != nil {
		for _, p := range d.env.DNS.Peers {
			if d.matches(p, self, peer, externals) {
				out = out.Union(portSet(d.env.DNS.Ports, false))
			}
		}
	}
	if !egress && !peer.External && d.dnsServer(self) {
		out = out.Union(portSet(d.env.DNS.Ports, false))
	}
	if info.Kind != world.ServicePod {
		return out
	}
	pr := &d.ingress[self]
	if egress {
		pr = &d.egress[self]
	}
	if !peer.External {
		if ps, ok := pr.byPeer[peer.Index]; ok {
			out = out.Union(ps)
		}
	}
	for _, r := range pr.other {
		if d.matches(r.Peer, self, peer, externals) {
			out = out.Union(portSet(r.Ports, r.AnyPort))
		}
	}
	return out
}

// dnsServer reports whether pod i is one of the cluster DNS pods of the
// environment: its DNS selector matches it. Every pod of the cluster may
// send DNS to them (PRODUCT.md section 1 allows DNS from every pod of an
// egress-isolated namespace, and a pod nobody isolates reaches anyone), so
// where netdep isolates their ingress, their declared ingress admits DNS
// from every pod.
func (d *declared) dnsServer(i int) bool {
	if d.env.DNS == nil {
		return false
	}
	for _, p := range d.env.DNS.Peers {
		if p.Kind == schema.PeerSelector && d.matches(p, -1, eval.PodEndpoint(i), nil) {
			return true
		}
	}
	return false
}

// matches is the declared meaning of a peer: a service peer is that
// service's pod and no other; a raw peer is every pod of its namespace
// carrying its labels; a CIDR is every address inside it and outside its
// excepts.
func (d *declared) matches(p schema.Peer, self int, peer eval.Endpoint, externals []eval.External) bool {
	if peer.External {
		x := externals[peer.Index]
		switch {
		case x.Host != "" && p.Kind == schema.PeerHost:
			// A pattern call declares every name it matches, as Cilium's
			// matchPattern admits them.
			return eval.HostMatches(p.Host, x.Host)
		case x.Host != "" && p.Kind == schema.PeerCIDR:
			// An unpinned host's addresses are unknown: only a whole
			// family holds it, the evaluator's rule.
			return eval.BlockHoldsHost(p.CIDR, p.Except)
		case x.Host != "" || p.Kind != schema.PeerCIDR:
			return false
		}
		return cidrHolds(p, x.Prefixes[0].Addr())
	}
	pod := d.w.Universe.Pods[peer.Index]
	switch p.Kind {
	case schema.PeerService:
		info := d.w.Pods[peer.Index]
		return info.Kind == world.ServicePod && keyOf(info.Service) == keyOf(p.Service)
	case schema.PeerSelector:
		if pod.Namespace != p.Namespace {
			return false
		}
		for k, v := range p.Selector {
			if pod.Labels[k] != v {
				return false
			}
		}
		return true
	}
	return false
}

func cidrHolds(p schema.Peer, a netip.Addr) bool {
	block, err := netip.ParsePrefix(p.CIDR)
	if err != nil || !block.Contains(a) {
		return false
	}
	for _, x := range p.Except {
		if ex, err := netip.ParsePrefix(x); err == nil && ex.Contains(a) {
			return false
		}
	}
	return true
}

func portSet(ports []schema.Port, any bool) eval.PortSet {
	if any {
		return eval.AllPorts()
	}
	rs := make([]eval.PortRange, 0, len(ports))
	for _, p := range ports {
		end := p.EndPort
		if end == 0 {
			end = p.Port
		}
		rs = append(rs, eval.PortRange{Protocol: p.Protocol, From: p.Port, To: end})
	}
	return eval.NewPortSet(rs...)
}
