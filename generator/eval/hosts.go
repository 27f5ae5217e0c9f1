package eval

import (
	"net/netip"
	"slices"
	"strings"
)

// Host classes: an external service known by DNS name (a dependency file's
// `host:` call, a CiliumNetworkPolicy's toFQDNs). Which addresses the name
// resolves to is not known, so a host is an external endpoint class of its
// own, after the address classes:
//
//   - a literal class ("api.stripe.com") is that one name;
//   - a pattern class "*.d" stands for the names with exactly one more
//     label than d (Cilium's matchPattern "*.d") that no literal class
//     names; "*" stands for every name no other class stands for.
//
// So no two classes share a name, and every toFQDNs selector matches whole
// classes. A host is only ever a destination: traffic from the service
// arrives from its addresses, which are address classes; ingress rules
// never admit a host class and Reachability has no row for one.
//
// ipBlock against an unpinned host: its addresses are unknown, so only a
// whole-family block without excepts (0.0.0.0/0, ::/0, or a
// ClusterNetworkPolicy network of that size) contains it; every other block
// does not (BlockHoldsHost). toEndpoints and pod selectors never match a
// host, and toFQDNs never matches an address class or a pod.

// BlockHoldsHost reports whether an ipBlock (cidr with excepts) contains an
// unpinned host: only a whole address family without excepts does. The
// declared model of verify uses the same rule.
func BlockHoldsHost(cidr string, except []string) bool {
	p, err := netip.ParsePrefix(cidr)
	return err == nil && p.Bits() == 0 && len(except) == 0
}

func (b ipBlock) holdsHost() bool { return b.cidr.Bits() == 0 && len(b.except) == 0 }

// NormalizeHost is a DNS name as host classes spell it: lower case, no
// trailing dot.
func NormalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// HostMatches reports whether the toFQDNs selector (a name, or a pattern
// "*.d" or "*") matches the names host class h stands for: all of them or
// none, by construction of the classes.
func HostMatches(selector, h string) bool {
	selector, h = NormalizeHost(selector), NormalizeHost(h)
	switch {
	case selector == "*":
		return true
	case strings.HasPrefix(selector, "*."):
		d := selector[2:]
		if h == selector {
			return true
		}
		label, rest, ok := strings.Cut(h, ".")
		return ok && label != "*" && rest == d
	}
	return selector == h
}

// buildHosts collects the host classes: the universe's and the toFQDNs
// selectors', sorted, each once.
func (e *Evaluator) buildHosts() {
	var hs []string
	for _, h := range e.universe.Hosts {
		hs = append(hs, NormalizeHost(h))
	}
	for _, p := range e.cilium {
		for _, r := range p.egress {
			for _, f := range r.fqdns {
				hs = append(hs, f)
			}
		}
	}
	slices.Sort(hs)
	e.hosts = slices.Compact(hs)
}

// hostClasses returns the endpoint indexes of the host classes selector
// matches.
func (e *Evaluator) hostClasses(selector string) []int {
	var out []int
	base := e.nPod + len(e.part.classes)
	for i, h := range e.hosts {
		if HostMatches(selector, h) {
			out = append(out, base+i)
		}
	}
	return out
}

// setHosts sets every host class in b.
func (e *Evaluator) setHosts(b bitset) {
	base := e.nPod + len(e.part.classes)
	b.setRange(base, base+len(e.hosts))
}

// isHost reports whether endpoint class c is a host class.
func (e *Evaluator) isHost(c int) bool { return c >= e.nPod+len(e.part.classes) }

// HostFor returns the host class named exactly h (a name or a pattern as
// written), false when the evaluator has none.
func (e *Evaluator) HostFor(h string) (Endpoint, bool) {
	h = NormalizeHost(h)
	i, ok := slices.BinarySearch(e.hosts, h)
	if !ok {
		return Endpoint{}, false
	}
	return ExternalEndpoint(len(e.part.classes) + i), true
}
