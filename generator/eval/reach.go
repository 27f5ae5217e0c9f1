package eval

import (
	networkingv1 "k8s.io/api/networking/v1"
	"net/netip"
	"slices"
)

// Reachability is the whole connectivity matrix of an Evaluator: for every
// source endpoint class, its destinations grouped by the exact set of ports
// allowed. It is compact (classes, not pods; groups, not pairs); Flows
// expands it.
type Reachability struct {
	e *Evaluator
	// rows[s] for every endpoint class s: disjoint destination groups,
	// sorted by port set.
	rows [][]group
}

type group struct {
	ports PortSet
	dsts  members // endpoint classes
}

// Flow is an allowed connection: Src may open connections to Dst on Ports
// (egress allowed at Src and ingress allowed at Dst).
type Flow struct {
	Src, Dst Endpoint
	Ports    PortSet
}

// FlowSet is a rectangle of the matrix: every source in Srcs may reach every
// destination in Dsts on exactly Ports (a pod and itself excepted).
type FlowSet struct {
	Srcs, Dsts []Endpoint
	Ports      PortSet
}

// Externals returns the address classes: the partition of the IPv4 and IPv6
// spaces induced by every ipBlock cidr and except of the policies and by
// Universe.Addresses, then the host classes (hosts.go), of Universe.Hosts
// and of the toFQDNs rules. Every policy treats all addresses of a class,
// and all names of a host class, alike.
func (e *Evaluator) Externals() []External { return e.externals }

// ExternalFor returns the address class holding a.
func (e *Evaluator) ExternalFor(a netip.Addr) Endpoint {
	return ExternalEndpoint(e.part.classOf(a))
}

// PodIndex returns the index in Universe.Pods of namespace/name.
func (e *Evaluator) PodIndex(namespace, name string) (int, bool) {
	i, ok := e.podIndex[namespace+"/"+name]
	return i, ok
}

// Policies returns the policies as evaluated: defaulted, in the given order.
func (e *Evaluator) Policies() []*networkingv1.NetworkPolicy { return e.policies }

// endpointClass maps an endpoint to its class index in the endpoint space.
func (e *Evaluator) endpointClass(p Endpoint) int {
	if p.External {
		return e.nPod + p.Index
	}
	return e.podClass[p.Index]
}

// Reachability computes the whole matrix.
//
// For a source class s: when egress is not isolated for s (no policy with
// Egress in policyTypes selects it, or s is an address) every destination
// whose ingress is not isolated is reachable on every port, and an isolated
// destination d on the ports of the ingress rules that admit s in the
// policies selecting d. When egress is isolated for s, the candidates are the
// peers of its egress rules, each on the union of the ports of the rules
// that admit it, intersected with d's ingress ports when d is isolated.
// Ingress rules admitting s are found through an inverted index (rule peers
// -> rules), so the work per source is proportional to the rules that
// concern it, not to the number of pods.
//
// With ClusterNetworkPolicies, each pair of classes is decided through the
// tiers (clusterReachability).
func (e *Evaluator) Reachability() *Reachability {
	if len(e.cnps) > 0 {
		return e.clusterReachability()
	}
	var gin []*crule
	for pi := range e.pols {
		for ri := range e.pols[pi].inRules {
			gin = append(gin, &e.pols[pi].inRules[ri])
		}
	}
	// Inverted index for rules with few peers; rules with many peers are
	// tested per source instead, keeping the index small.
	dense := max(64, e.nEP/16)
	inv := make([][]int32, e.nEP)
	var denseRules []int32
	for gi, r := range gin {
		if r.allPeers || r.peers.count() > dense {
			denseRules = append(denseRules, int32(gi))
			continue
		}
		r.peers.each(func(s int) { inv[s] = append(inv[s], int32(gi)) })
	}

	openIn := newBitset(e.nEP)
	openIn.setRange(0, e.nEP)
	openIn.andNot(e.ingressIso)
	podsOnly := newBitset(e.nEP)
	podsOnly.setRange(0, e.nPod)

	r := &Reachability{e: e, rows: make([][]group, e.nEP)}
	targets := newBitset(e.nEP)
	cand := newBitset(e.nEP)
	var irs []int32
	acc := make([]PortSet, e.nEP)
	var touched []int32
	var ers []*crule
	for s := 0; s < e.nEP; s++ {
		if e.isHost(s) {
			continue // a host is only ever a destination
		}
		external := s >= e.nPod
		irs = append(irs[:0], inv[s]...)
		for _, gi := range denseRules {
			if gin[gi].peers.has(s) {
				irs = append(irs, gi)
			}
		}
		// Ingress ports per isolated destination, accumulated rule by rule
		// over the (few) pods each rule's policy selects: a source named in
		// many rules (a Prometheus scraping every service) costs the sum of
		// those policies' selections, not rules times destinations.
		targets.clear()
		for _, d := range touched {
			acc[d] = PortSet{}
		}
		touched = touched[:0]
		for _, gi := range irs {
			ir := gin[gi]
			pol := &e.pols[ir.policy]
			for _, d := range pol.selList {
				if !targets.has(int(d)) {
					targets.set(int(d))
					touched = append(touched, d)
				}
				acc[d] = acc[d].Union(e.resolve(&ir.ports, int(d)))
			}
		}
		ingressPorts := func(d int) PortSet { return acc[d] }
		g := grouper{n: e.nEP, idx: map[string]int{}}

		egressOpen := external || !e.egressIso.has(s)
		ers = ers[:0]
		if !egressOpen {
			for _, pi := range e.egPols[s] {
				for ri := range e.pols[pi].egRules {
					er := &e.pols[pi].egRules[ri]
					// A rule to everyone on every port opens egress.
					if er.allPeers && er.ports.all {
						egressOpen = true
					}
					ers = append(ers, er)
				}
			}
		}
		if egressOpen {
			all := openIn.clone()
			if external {
				all.and(podsOnly)
			}
			g.addSet(allPorts, all)
			targets.each(func(d int) {
				g.add(ingressPorts(d), d)
			})
		} else {
			cand.clear()
			for _, er := range ers {
				er.peers.orInto(cand)
			}
			cand.each(func(d int) {
				var ps PortSet
				for _, er := range ers {
					if er.peers.has(d) {
						ps = ps.Union(e.resolve(&er.ports, d))
					}
				}
				if ps.IsEmpty() {
					return
				}
				if e.ingressIso.has(d) {
					if !targets.has(d) {
						return
					}
					ps = ps.Intersect(ingressPorts(d))
				}
				g.add(ps, d)
			})
		}
		r.rows[s] = g.done()
	}
	return r
}

// clusterReachability decides every pair of endpoint classes through the
// tiers: the source's egress side intersected with the destination's
// ingress side. It is quadratic in the number of classes.
func (e *Evaluator) clusterReachability() *Reachability {
	r := &Reachability{e: e, rows: make([][]group, e.nEP)}
	for s := 0; s < e.nEP; s++ {
		if e.isHost(s) {
			continue
		}
		g := grouper{n: e.nEP, idx: map[string]int{}}
		for d := 0; d < e.nEP; d++ {
			if s >= e.nPod && d >= e.nPod {
				continue // between two addresses: not reported
			}
			ps := e.sidePorts(true, s, d)
			if ps.IsEmpty() {
				continue
			}
			g.add(ps.Intersect(e.sidePorts(false, d, s)), d)
		}
		r.rows[s] = g.done()
	}
	return r
}

// grouper collects one row's destinations by port set. A destination is
// added once per row, in increasing order, except through addSet (every
// open destination at once), which makes its group a bitset.
type grouper struct {
	n      int
	idx    map[string]int
	groups []building
}

type building struct {
	ports PortSet
	list  []int32
	dense bitset
}

func (g *grouper) get(ps PortSet) *building {
	k := ps.key()
	i, ok := g.idx[k]
	if !ok {
		i = len(g.groups)
		g.idx[k] = i
		g.groups = append(g.groups, building{ports: ps})
	}
	return &g.groups[i]
}

func (g *grouper) add(ps PortSet, d int) {
	if ps.IsEmpty() {
		return
	}
	b := g.get(ps)
	if b.dense != nil {
		b.dense.set(d)
		return
	}
	b.list = append(b.list, int32(d))
}

func (g *grouper) addSet(ps PortSet, ds bitset) {
	if ds.empty() {
		return
	}
	b := g.get(ps)
	if b.dense == nil {
		b.dense = newBitset(g.n)
		for _, d := range b.list {
			b.dense.set(int(d))
		}
		b.list = nil
	}
	b.dense.or(ds)
}

func (g *grouper) done() []group {
	slices.SortFunc(g.groups, func(a, b building) int {
		ka, kb := a.ports.key(), b.ports.key()
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	out := make([]group, len(g.groups))
	for i, b := range g.groups {
		out[i].ports = b.ports
		if b.dense != nil {
			out[i].dsts = compact(b.dense)
			continue
		}
		// In order already, as add is called; cheap to make sure.
		slices.Sort(b.list)
		out[i].dsts = members{list: slices.Clip(slices.Compact(b.list))}
	}
	return out
}

// Ports returns the ports src may reach dst on; empty when none, and always
// empty between two addresses.
func (r *Reachability) Ports(src, dst Endpoint) PortSet {
	s, d := r.e.endpointClass(src), r.e.endpointClass(dst)
	for _, g := range r.rows[s] {
		if g.dsts.has(d) {
			return g.ports
		}
	}
	return PortSet{}
}

// members returns the endpoints of endpoint class c.
func (e *Evaluator) members(c int) []Endpoint {
	if c >= e.nPod {
		return []Endpoint{ExternalEndpoint(c - e.nPod)}
	}
	out := make([]Endpoint, 0, len(e.classes[c].pods))
	for _, p := range e.classes[c].pods {
		out = append(out, PodEndpoint(p))
	}
	return out
}

// Each calls fn with the matrix as rectangles, one per source class and
// port set, until fn returns false. Srcs and Dsts are sorted (pods by
// index, then address classes).
func (r *Reachability) Each(fn func(FlowSet) bool) {
	for s, row := range r.rows {
		srcs := r.e.members(s)
		for _, g := range row {
			var dsts []Endpoint
			g.dsts.each(func(d int) { dsts = append(dsts, r.e.members(d)...) })
			sortEndpoints(dsts)
			if !fn(FlowSet{Srcs: srcs, Dsts: dsts, Ports: g.ports}) {
				return
			}
		}
	}
}

// Flows returns every allowed connection between two endpoints, sorted by
// source then destination (pods by index, then address classes). This is
// quadratic in the worst case; prefer Each or Ports on large universes.
func (r *Reachability) Flows() []Flow {
	var out []Flow
	emit := func(src Endpoint, row []group) {
		start := len(out)
		for _, g := range row {
			g.dsts.each(func(d int) {
				for _, dst := range r.e.members(d) {
					if dst == src {
						continue
					}
					out = append(out, Flow{Src: src, Dst: dst, Ports: g.ports})
				}
			})
		}
		part := out[start:]
		slices.SortFunc(part, func(a, b Flow) int { return compareEndpoints(a.Dst, b.Dst) })
	}
	for i := range r.e.universe.Pods {
		emit(PodEndpoint(i), r.rows[r.e.podClass[i]])
	}
	for x := range r.e.externals {
		emit(ExternalEndpoint(x), r.rows[r.e.nPod+x])
	}
	return out
}

func compareEndpoints(a, b Endpoint) int {
	if a.External != b.External {
		if a.External {
			return 1
		}
		return -1
	}
	return a.Index - b.Index
}

func sortEndpoints(es []Endpoint) { slices.SortFunc(es, compareEndpoints) }
