package diff

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/schema"
)

// Why a flow names no dependency-file line (Flow.Origin).
const (
	// OriginDNS is the cluster DNS egress the project file grants every
	// egress-isolated namespace.
	OriginDNS = "dns"
	// OriginIsolation is a flow that a namespace's isolation (its
	// default-deny) blocked on one side and not on the other: a namespace
	// described, removed, or isolated in fewer directions.
	OriginIsolation = "isolation"
	// OriginTree is a flow the side's committed tree allows that no rule of
	// its dependency files does: the tree is stale or hand-edited.
	OriginTree = "tree"
	// OriginUnknown is none of the above.
	OriginUnknown = "unknown"
)

// attribute names, for every flow of er, the dependency-file lines that
// cause it: the rules of the side that allows the flow's ports whose local
// end, peer and ports match it. A flow no rule explains says why
// (Flow.Origin) rather than guessing a line.
func attribute(er *EnvReport, base, head Input) {
	for _, part := range []struct {
		flows []Flow
		side  Input
		other Input
	}{
		{er.FlowsAdded, head, base}, {er.OneSidedAdded, head, base},
		{er.FlowsRemoved, base, head}, {er.OneSidedRemoved, base, head},
	} {
		env := envOf(part.side.Spec, er.Name)
		otherEnv := envOf(part.other.Spec, er.Name)
		for i := range part.flows {
			f := &part.flows[i]
			f.Sources = ruleSources(env, *f)
			if len(f.Sources) > 0 {
				// Declared alike on both sides, the flow changed because a
				// committed tree is not what its dependency files say.
				if (part.side.Tree != nil || part.other.Tree != nil) && slices.Equal(f.Sources, ruleSources(otherEnv, *f)) {
					f.Origin = OriginTree
				}
				continue
			}
			switch {
			case env != nil && env.DNS != nil && dnsMatches(env.DNS, *f):
				f.Origin = OriginDNS
				if part.side.Spec.ProjectFile != "" {
					f.Sources = []schema.Pos{{File: part.side.Spec.ProjectFile}}
				}
			case isolationChanged(part.other.Spec, part.side.Spec, *f):
				f.Origin = OriginIsolation
				f.Sources = namespaceSources(part.other.Spec, part.side.Spec, *f)
			case part.side.Tree != nil:
				f.Origin = OriginTree
			default:
				f.Origin = OriginUnknown
			}
		}
	}
}

func envOf(s *schema.Spec, name string) *schema.Environment {
	if s == nil {
		return nil
	}
	if e := s.Environment(name); e != nil {
		return e
	}
	if len(s.Environments) == 1 {
		return s.Environments[0]
	}
	return nil
}

// ruleSources are the positions of env's rules that allow some of f's
// ports: an egress rule of f.From towards f.To, or an ingress rule of f.To
// from f.From. An edge declares both with one position.
func ruleSources(env *schema.Environment, f Flow) []schema.Pos {
	if env == nil {
		return nil
	}
	var out []schema.Pos
	for _, r := range env.Rules {
		var local, peer Endpoint
		switch {
		case r.Direction == schema.Egress && (f.Direction == "" || f.Direction == Egress):
			local, peer = f.From, f.To
		case r.Direction == schema.Ingress && (f.Direction == "" || f.Direction == Ingress):
			local, peer = f.To, f.From
		default:
			continue
		}
		if local.Kind != KindService || local.Namespace != r.Service.Namespace || local.Service != r.Service.Name {
			continue
		}
		if !peerMatches(r.Peer, peer) || !r.AnyPort && !portsOverlap(r.Ports, f.Ports) {
			continue
		}
		if r.Source.File != "" && !slices.Contains(out, r.Source) {
			out = append(out, r.Source)
		}
	}
	slices.SortFunc(out, comparePos)
	return out
}

func comparePos(a, b schema.Pos) int {
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
}

func peerMatches(p schema.Peer, e Endpoint) bool {
	switch p.Kind {
	case schema.PeerService:
		return e.Kind == KindService && p.Service != nil && e.Namespace == p.Service.Namespace && e.Service == p.Service.Name
	case schema.PeerHost:
		return e.Kind == KindHost && eval.HostMatches(p.Host, e.Host)
	case schema.PeerCIDR:
		if e.Kind == KindHost {
			return eval.BlockHoldsHost(p.CIDR, p.Except)
		}
		if e.Kind != KindExternal {
			return false
		}
		return cidrCovers(p.CIDR, p.Except, e.CIDR)
	case schema.PeerSelector:
		if e.Namespace != p.Namespace || e.Kind == KindExternal || e.Kind == KindHost || e.Kind == KindUnmanaged {
			return false
		}
		if p.Selector == nil {
			return true
		}
		if e.Kind != KindSelector {
			return false
		}
		for k, v := range p.Selector {
			if e.Labels[k] != v {
				return false
			}
		}
		return true
	}
	return false
}

// cidrCovers says whether the address class named by prefix c lies in
// block minus except.
func cidrCovers(block string, except []string, c string) bool {
	b, err1 := netip.ParsePrefix(block)
	x, err2 := netip.ParsePrefix(c)
	if err1 != nil || err2 != nil || !b.Contains(x.Addr()) || x.Bits() < b.Bits() {
		return false
	}
	for _, e := range except {
		if p, err := netip.ParsePrefix(e); err == nil && p.Contains(x.Addr()) && x.Bits() >= p.Bits() {
			return false
		}
	}
	return true
}

func portsOverlap(rule []schema.Port, flow []Port) bool {
	var rs []eval.PortRange
	for _, p := range rule {
		rs = append(rs, eval.PortRange{Protocol: p.Protocol, From: p.Port, To: max(p.Port, p.EndPort)})
	}
	return !eval.NewPortSet(rs...).Intersect(fromPorts(flow)).IsEmpty()
}

// dnsMatches says whether f is egress to the cluster DNS on its ports.
func dnsMatches(d *schema.DNS, f Flow) bool {
	if f.Direction == Ingress || !portsOverlap(d.Ports, f.Ports) {
		return false
	}
	for _, p := range d.Peers {
		if peerMatches(p, f.To) {
			return true
		}
	}
	return false
}

// isolated says whether spec isolates ns in the direction that guards
// the flow's end there.
func isolated(s *schema.Spec, ns string, ingress bool) bool {
	if s == nil {
		return false
	}
	n := s.Namespace(ns)
	if n == nil || !n.Managed {
		return false
	}
	if ingress {
		return n.IsolateIngress
	}
	return n.IsolateEgress
}

// isolationChanged says whether the flow's destination's ingress or its
// source's egress is isolated on the other side and not on this one.
func isolationChanged(other, side *schema.Spec, f Flow) bool {
	for _, end := range isolationEnds(f) {
		if isolated(other, end.ns, end.ingress) && !isolated(side, end.ns, end.ingress) {
			return true
		}
	}
	return false
}

type isolationEnd struct {
	ns      string
	ingress bool
}

func isolationEnds(f Flow) []isolationEnd {
	var out []isolationEnd
	if f.To.Namespace != "" && f.Direction != Egress {
		out = append(out, isolationEnd{f.To.Namespace, true})
	}
	if f.From.Namespace != "" && f.Direction != Ingress {
		out = append(out, isolationEnd{f.From.Namespace, false})
	}
	return out
}

// namespaceSources are the files that describe, on either side, the
// namespaces whose isolation changed for f.
func namespaceSources(other, side *schema.Spec, f Flow) []schema.Pos {
	var out []schema.Pos
	for _, end := range isolationEnds(f) {
		if !isolated(other, end.ns, end.ingress) || isolated(side, end.ns, end.ingress) {
			continue
		}
		for _, s := range []*schema.Spec{side, other} {
			if n := s.Namespace(end.ns); n != nil {
				for _, file := range n.Sources {
					if p := (schema.Pos{File: file}); !slices.Contains(out, p) {
						out = append(out, p)
					}
				}
				break
			}
		}
	}
	slices.SortFunc(out, comparePos)
	return out
}
