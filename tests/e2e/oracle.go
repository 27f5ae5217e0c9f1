package e2e

import (
	"fmt"
	"net/netip"
)

// Flow is one probe: a connection from one endpoint to another on one port.
type Flow struct {
	From, To *Endpoint
	Probe
}

// Oracle says which flows the policies should allow. The run compares it
// with what the agent enforces on real packets. Implementations: the
// declared graph of a fixture (Graph), the product's evaluator over the
// rendered policies (once generator/eval exists), and AllowAll for the
// negative control.
type Oracle interface {
	Name() string
	Allowed(f Flow) bool
}

// AllowAll is the verdict without any NetworkPolicy: every flow passes.
type AllowAll struct{}

func (AllowAll) Name() string      { return "no policy (allow all)" }
func (AllowAll) Allowed(Flow) bool { return true }

// Graph is the declared dependency graph as netdep's schema resolves it:
// rules on services, per direction, in namespaces that are isolated or not.
// Its verdict is PRODUCT.md section 4: a flow is allowed when the source may
// send it (its namespace does not isolate egress, or an egress rule of its
// service admits it) and the target may receive it (likewise for ingress).
type Graph struct {
	U     *Universe
	Rules []Rule
	// Hosts are the declared egress edges to hosts named by DNS: no
	// address stands for them, so they decide no probed flow.
	Hosts []HostFlow
}

// Rule is one resolved intent: Local's pods may send to (egress) or receive
// from (ingress) Peer on Ports (every port when AnyPort).
type Rule struct {
	Local   *Endpoint
	Egress  bool
	Peer    Peer
	Ports   []Port
	AnyPort bool
}

// Peer is the far end of a rule: one service's pods, pods by namespace and
// labels (nil Labels: every pod of the namespace), or an IP block.
type Peer struct {
	Service   *Endpoint
	Namespace string
	Labels    map[string]string
	AllPods   bool // Namespace set, Labels nil
	CIDR      netip.Prefix
	Except    []netip.Prefix
}

func (p Peer) matches(e *Endpoint) bool {
	switch {
	case p.Service != nil:
		return p.Service == e
	case p.Namespace != "":
		if !e.IsPod() || e.Namespace != p.Namespace {
			return false
		}
		for k, v := range p.Labels {
			if e.Labels[k] != v {
				return false
			}
		}
		return true
	case p.CIDR.IsValid():
		if !p.CIDR.Contains(e.IP) {
			return false
		}
		for _, x := range p.Except {
			if x.Contains(e.IP) {
				return false
			}
		}
		return true
	}
	return false
}

func (r Rule) admits(peer *Endpoint, pr Probe) bool {
	if !r.Peer.matches(peer) {
		return false
	}
	if r.AnyPort {
		return true
	}
	for _, p := range r.Ports {
		if p.Contains(pr.Port, pr.Protocol) {
			return true
		}
	}
	return false
}

func (g *Graph) Name() string { return "declared graph" }

func (g *Graph) Allowed(f Flow) bool {
	return g.side(f.From, f.To, f.Probe, true) && g.side(f.To, f.From, f.Probe, false)
}

// side decides one direction: may local send to (egress) or receive from
// (ingress) peer?
func (g *Graph) side(local, peer *Endpoint, pr Probe, egress bool) bool {
	if !local.IsPod() {
		return true // nothing enforces anything on hosts outside the cluster
	}
	ns := g.U.Namespace(local.Namespace)
	if !ns.Managed || (egress && !ns.IsolateEgress) || (!egress && !ns.IsolateIngress) {
		return true
	}
	for _, r := range g.Rules {
		if r.Local == local && r.Egress == egress && r.admits(peer, pr) {
			return true
		}
	}
	return false
}

// AddEdge records an edge from -> to on ports, as schema does: an egress rule
// on the caller when it is a service, an ingress rule on the callee when it is
// a service.
func (g *Graph) AddEdge(from, to Peer, ports []Port, anyPort bool) error {
	if from.Service == nil && to.Service == nil {
		return fmt.Errorf("an edge needs a service on at least one end")
	}
	if from.Service != nil {
		g.Rules = append(g.Rules, Rule{Local: from.Service, Egress: true, Peer: to, Ports: ports, AnyPort: anyPort})
	}
	if to.Service != nil {
		g.Rules = append(g.Rules, Rule{Local: to.Service, Egress: false, Peer: from, Ports: ports, AnyPort: anyPort})
	}
	return nil
}

// AddDNS gives every pod of every managed, egress-isolated namespace egress
// to the DNS peer on ports (PRODUCT.md section 1, last bullet).
func (g *Graph) AddDNS(dns Peer, ports []Port) {
	for _, p := range g.U.Pods {
		ns := g.U.Namespace(p.Namespace)
		if ns.Managed && ns.IsolateEgress {
			g.Rules = append(g.Rules, Rule{Local: p, Egress: true, Peer: dns, Ports: ports})
		}
	}
}
