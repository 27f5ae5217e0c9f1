package importer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/netdep/netdep/generator/eval"
)

// maxOriginRanges bounds how many port ranges of an entry are explained
// for its comment: a rule admits a handful, a port list rarely more.
const maxOriginRanges = 64

// origin names every policy rule that allows src -> dst on some port of
// ps, for the entry's comment: entries merged from several rules name
// them all.
func (im *policyImporter) origin(src, dst eval.Endpoint, ps eval.PortSet) string {
	if ps.IsEmpty() {
		return ""
	}
	seen := map[string]bool{}
	var parts []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	open := false
	var accepted []string // ClusterNetworkPolicy Accept rules
	for i, r := range ps.Ranges() {
		if i == maxOriginRanges {
			break
		}
		v := im.ev.Explain(eval.Query{Src: src, Dst: dst, Protocol: r.Protocol, Port: r.From})
		for _, a := range v.Egress.Allowing {
			add(fmt.Sprintf("%s egress[%d]", a.PolicyRef, a.Rule))
		}
		for _, a := range v.Ingress.Allowing {
			add(fmt.Sprintf("%s ingress[%d]", a.PolicyRef, a.Rule))
		}
		for _, c := range clusterOrigin(v) {
			if !seen[c] {
				seen[c] = true
				accepted = append(accepted, c)
			}
		}
		if len(v.Egress.Allowing) == 0 && len(v.Ingress.Allowing) == 0 {
			open = true
		}
	}
	sort.Strings(accepted)
	if len(parts) == 0 && len(accepted) > 0 {
		return "from " + strings.Join(accepted, "; ")
	}
	if len(parts) == 0 && open {
		return "open: no policy isolated either end"
	}
	sort.Strings(parts)
	s := "from policy " + strings.Join(parts, ", ")
	if len(accepted) > 0 {
		s += "; " + strings.Join(accepted, "; ")
	}
	return s
}

// refPorts writes the references to service b on the ports of ps: the bare
// service when ps holds all its ports, else one reference per port.
func refPorts(ref string, b *svcDoc, ps eval.PortSet) []string {
	// A bare reference to a service with many ports opens tomorrow's ports
	// too (schema warns about it): name them.
	if len(b.ports) <= 5 && b.portSet().Intersect(ps).Equal(b.portSet()) {
		return []string{ref}
	}
	var out []string
	for _, p := range b.ports {
		if !eval.NewPortSet(p.portRange()).Intersect(ps).IsEmpty() {
			out = append(out, ref+":"+p.name)
		}
	}
	return out
}

// ownPorts writes ps as the `ports:` of a from entry on b: b's port names,
// nothing for all of them, `any` for every port.
func ownPorts(b *svcDoc, ps eval.PortSet) string {
	if ps.IsAll() {
		return ", ports: any"
	}
	if b.portSet().Intersect(ps).Equal(b.portSet()) {
		return ""
	}
	var names []string
	for _, p := range b.ports {
		if !eval.NewPortSet(p.portRange()).Intersect(ps).IsEmpty() {
			names = append(names, p.name)
		}
	}
	return ", ports: [" + strings.Join(names, ", ") + "]"
}

// edges declares every workload-to-workload connection where one side is
// isolated: A calls B in A's file when A's namespace is managed, else B
// lists A in from. A connection the original policies allow on every
// port (a rule without ports) stays on every port: a raw peer with B's
// selector and `ports: any` on each isolated side, since a service
// reference opens only the ports B declares. What a whole-namespace raw
// peer already gives (rawPeers) is not repeated.
func (im *policyImporter) edges() {
	for _, a := range im.svcs {
		for _, b := range im.svcs {
			if a == b {
				continue
			}
			eg, in := im.isEg(a.ns), im.isIn(b.ns)
			if !eg && !in {
				continue
			}
			src, dst := eval.PodEndpoint(a.pod), eval.PodEndpoint(b.pod)
			got := im.r.Ports(src, dst)
			if got.IsEmpty() {
				continue
			}
			if b.pod == im.dnsPod && eg && !in && got.Union(im.dnsPorts()).IsAll() {
				got = eval.AllPorts() // allow-dns covers 53 anyway
			}
			if eg && b.pod == im.dnsPod && !in && !got.IsAll() {
				got = got.Subtract(im.dnsPorts()) // allow-dns covers it
			}
			// Ports both isolated sides already get from whole-namespace
			// raw peers need no reference.
			done := eval.AllPorts()
			if eg {
				done = done.Intersect(im.covered[coverKey{a, true, b.ns}])
			}
			if in {
				done = done.Intersect(im.covered[coverKey{b, false, a.ns}])
			}
			if got.IsAll() {
				if !done.IsAll() {
					im.everyPort(a, b, eg, in)
				}
				continue
			}
			if ps := got.Intersect(b.doc.portSet()).Subtract(done); !ps.IsEmpty() {
				im.reference(a, b, ps)
			}
		}
	}
}

// everyPort declares a -> b on every port: raw peers with the other's
// selector and `ports: any` on each isolated side not yet covered.
func (im *policyImporter) everyPort(a, b *svcInfo, eg, in bool) {
	src, dst := eval.PodEndpoint(a.pod), eval.PodEndpoint(b.pod)
	origin := im.origin(src, dst, eval.AllPorts())
	if eg && !im.covered[coverKey{a, true, b.ns}].IsAll() {
		addEntry(a.doc.calls, fmt.Sprintf("{namespace: %s, selector: %s, ports: any}", quote(b.ns), flowMap(b.sel)), origin)
	}
	if in && !im.covered[coverKey{b, false, a.ns}].IsAll() {
		addEntry(b.doc.from, fmt.Sprintf("{namespace: %s, selector: %s, ports: any}", quote(a.ns), flowMap(a.sel)), origin)
	}
}

// reference declares a -> b on ps by service references: a calls b where
// a's namespace is managed, else b lists a in from.
func (im *policyImporter) reference(a, b *svcInfo, ps eval.PortSet) {
	src, dst := eval.PodEndpoint(a.pod), eval.PodEndpoint(b.pod)
	if im.docs[a.ns].managed {
		for _, ref := range refPorts(svcRef(a.ns, b), b.doc, ps) {
			addEntry(a.doc.calls, quoteRef(ref), im.origin(src, dst, portsOfRef(ref, b.doc, ps)))
		}
		return
	}
	for _, ref := range refPorts(svcRef(b.ns, a), b.doc, ps) {
		addEntry(b.doc.from, quoteRef(ref), im.origin(src, dst, portsOfRef(ref, b.doc, ps)))
	}
}

// portsOfRef is the ports a reference written by refPorts opens.
func portsOfRef(ref string, b *svcDoc, ps eval.PortSet) eval.PortSet {
	i := strings.LastIndex(ref, ":")
	if i < 0 {
		return ps
	}
	for _, p := range b.ports {
		if p.name == ref[i+1:] {
			return eval.NewPortSet(p.portRange())
		}
	}
	return ps
}

func svcRef(fromNS string, s *svcInfo) string {
	if s.ns == fromNS {
		return s.name
	}
	return s.ns + "/" + s.name
}

// rawPeers declares "every pod of namespace N" where the policies admit the
// pods of N that no workload describes, on the ports every pod of N gets,
// and records what that gives each service (covered).
func (im *policyImporter) rawPeers() {
	for _, n := range im.namespaces {
		pods := im.nsPods[n]
		// Groups: every pod of n (represented by its unlabelled pod), then
		// the pods a peer selects by labels no workload carries.
		type group struct {
			rep int
			sel map[string]string
		}
		var groups []group
		for _, p := range pods {
			if im.byPod[p] == nil && im.u.Pods[p].Labels == nil {
				groups = append([]group{{rep: p}}, groups...)
			} else if im.byPod[p] == nil {
				groups = append(groups, group{rep: p, sel: im.u.Pods[p].Labels})
			}
		}
		for _, s := range im.svcs {
			self := eval.PodEndpoint(s.pod)
			var allEg, allIn eval.PortSet
			for gi, g := range groups {
				var members []int
				for _, p := range pods {
					if subset(g.sel, im.u.Pods[p].Labels) {
						members = append(members, p)
					}
				}
				peerText := "namespace: " + quote(n)
				if g.sel != nil {
					peerText += ", selector: " + flowMap(g.sel)
				}
				rep := eval.PodEndpoint(g.rep)
				// s calls the group.
				if im.isEg(s.ns) && !im.isIn(n) {
					q := im.common(members, s.pod, func(p int) eval.PortSet { return im.r.Ports(self, eval.PodEndpoint(p)) })
					if g.rep == im.dnsPod {
						q = q.Subtract(im.dnsPorts()) // allow-dns covers it
					}
					if gi > 0 {
						q = q.Subtract(allEg)
					} else {
						allEg = q
						im.covered[coverKey{s, true, n}] = q
					}
					if !q.IsEmpty() {
						addEntry(s.doc.calls, fmt.Sprintf("{%s, ports: %s}", peerText, portValues(q)), im.origin(self, rep, q))
					}
				}
				// the group calls s.
				if im.isIn(s.ns) && !im.isEg(n) {
					q := im.common(members, s.pod, func(p int) eval.PortSet { return im.r.Ports(eval.PodEndpoint(p), self) })
					q = q.Intersect(s.doc.portSet().Union(anyIfAll(q)))
					if gi > 0 {
						q = q.Subtract(allIn)
					} else {
						allIn = q
						im.covered[coverKey{s, false, n}] = q
					}
					if !q.IsEmpty() {
						addEntry(s.doc.from, fmt.Sprintf("{%s%s}", peerText, ownPorts(s.doc, q)), im.origin(rep, self, q))
					}
				}
			}
		}
	}
}

func anyIfAll(ps eval.PortSet) eval.PortSet {
	if ps.IsAll() {
		return ps
	}
	return eval.PortSet{}
}

// common is the ports every pod of pods but self gets from f.
func (im *policyImporter) common(pods []int, self int, f func(int) eval.PortSet) eval.PortSet {
	q := eval.AllPorts()
	for _, p := range pods {
		if p != self {
			q = q.Intersect(f(p))
		}
	}
	return q
}
