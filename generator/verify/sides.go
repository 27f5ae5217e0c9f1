package verify

import (
	"github.com/netdep/netdep/generator/eval"
)

// The three directions a difference is found in. Connection compares what
// both sides let through together; Ingress and Egress compare each side on
// its own (eval.Evaluator.IngressSide, EgressSide) with the declared rules
// of that side, so that a side wider than declared is found even where the
// other side hides it today.
const (
	Connection = "connection"
	Ingress    = "ingress"
	Egress     = "egress"
)

// sideKey identifies a difference of one kind between two endpoints.
type sideKey struct {
	missing  bool
	src, dst eval.Endpoint
}

// checkSides adds to r the differences of each side on its own, for every
// pod that the policies and the dependency files both isolate in that
// direction, except the ports the connection check already reported for
// the same pair. Where only one of them isolates a pod, the connection check
// has already found it: an address is a source and a destination nobody
// isolates, so every port of an open side shows up there.
func (c *checker) checkSides() {
	for i := range c.w.Universe.Pods {
		self := eval.PodEndpoint(i)
		if c.d.isolated(i, false) && c.ev.IsolatedIngress(i) {
			c.compareSide(Ingress, self, c.ev.IngressSide(i), c.d.ingressPeers(i, c.externals))
		}
		if c.d.isolated(i, true) && c.ev.IsolatedEgress(i) {
			c.compareSide(Egress, self, c.ev.EgressSide(i), c.d.egressPeers(i, c.externals))
		}
	}
}

// compareSide compares one side of pod self: got are the peers the
// policies' side admits, declared the peers its declared rules name.
func (c *checker) compareSide(dir string, self eval.Endpoint, got []eval.Admit, declared []eval.Endpoint) {
	egress := dir == Egress
	gotPorts := make(map[eval.Endpoint]eval.PortSet, len(got))
	peers := make([]eval.Endpoint, 0, len(got)+len(declared))
	for _, a := range got {
		gotPorts[a.Peer] = a.Ports
		peers = append(peers, a.Peer)
	}
	for _, p := range declared {
		if _, ok := gotPorts[p]; !ok && p != self {
			gotPorts[p] = eval.PortSet{}
			peers = append(peers, p)
		}
	}
	for _, peer := range peers {
		want := c.d.side(self.Index, peer, c.externals, egress)
		have := gotPorts[peer]
		if want.Equal(have) {
			continue
		}
		src, dst := peer, self
		if egress {
			src, dst = self, peer
		}
		c.sideDifference(dir, src, dst, true, want.Subtract(have))
		c.sideDifference(dir, src, dst, false, have.Subtract(want))
	}
}

func (c *checker) sideDifference(dir string, src, dst eval.Endpoint, missing bool, ps eval.PortSet) {
	ps = ps.Subtract(c.reported[sideKey{missing, src, dst}])
	if ps.IsEmpty() {
		return
	}
	d := c.difference(dir, src, dst, ps)
	if missing {
		c.r.Missing = append(c.r.Missing, d)
	} else {
		c.r.Excess = append(c.r.Excess, d)
	}
}

// ingressPeers are the sources pod i's declared ingress rules name.
func (d *declared) ingressPeers(i int, externals []eval.External) []eval.Endpoint {
	peers := d.rulePeers(&d.ingress[i], false, externals)
	if d.dnsServer(i) || d.adminIn[i] || d.outsideOpen[i] {
		for p := range d.w.Universe.Pods {
			peers = append(peers, eval.PodEndpoint(p)) // compareSide skips repeats
		}
	}
	if d.outsideOpen[i] {
		for x := range externals {
			if externals[x].Host == "" { // a host is never a source
				peers = append(peers, eval.ExternalEndpoint(x))
			}
		}
	}
	return peers
}

// egressPeers are the destinations pod i's declared egress rules and DNS
// name.
func (d *declared) egressPeers(i int, externals []eval.External) []eval.Endpoint {
	peers := d.rulePeers(&d.egress[i], true, externals)
	if d.adminEg[i] {
		for p := range d.w.Universe.Pods {
			peers = append(peers, eval.PodEndpoint(p))
		}
		for x := range externals {
			peers = append(peers, eval.ExternalEndpoint(x))
		}
	}
	return peers
}

func (d *declared) rulePeers(pr *podRules, egress bool, externals []eval.External) []eval.Endpoint {
	var out []eval.Endpoint
	seen := map[eval.Endpoint]bool{}
	add := func(eps ...eval.Endpoint) {
		for _, ep := range eps {
			if !egress && ep.External && externals[ep.Index].Host != "" {
				continue // a host is never a source
			}
			if !seen[ep] {
				seen[ep] = true
				out = append(out, ep)
			}
		}
	}
	if egress && d.env.DNS != nil {
		for _, p := range d.env.DNS.Peers {
			add(d.peerEndpoints(p, externals)...)
		}
	}
	for peer := range pr.byPeer {
		add(eval.PodEndpoint(peer))
	}
	for _, r := range pr.other {
		add(d.peerEndpoints(r.Peer, externals)...)
	}
	return out
}
