package posture

import (
	"math/bits"
	"net/netip"
	"sort"
	"strings"

	"github.com/netdep/netdep/generator/eval"
)

// pod is what the report knows about one pod of the universe.
type pod struct {
	name string // as reports show it
	ns   string
	// subject pods are real pods (a service, a workload, the pods a raw
	// peer names): they are in the connectivity list and the blast-radius
	// graph. The others are probes: "any pod of the namespace".
	subject bool
	// counted pods are services or workloads: isolation coverage counts
	// them.
	counted bool
}

// input is one environment's evaluated policies and what its pods are.
type input struct {
	env  string
	ev   *eval.Evaluator
	pods []pod // parallel to the universe's pods
	// managed are the namespaces someone manages policies for; a pod of
	// any other namespace is outside the reach of trust (exposure).
	managed map[string]bool
	// namespaces are reported for isolation, sorted.
	namespaces    []string
	sensitive     map[string]bool
	sensitiveList []string // sorted
	// graphLimit is the most services the html graph shows one by one.
	graphLimit int
}

type edge struct {
	dst   int // pod index
	ports eval.PortSet
}

// analyze computes one environment's posture.
func analyze(in input) *Environment {
	ev := in.ev
	exts := ev.Externals()
	n := len(in.pods)
	adj := make([][]edge, n)    // subject -> subject
	egress := make([][]Peer, n) // subject -> outside
	from := make([][]Peer, n)   // outsiders -> subject
	outsideIn := make([]bool, n)
	env := &Environment{Name: in.env, Sensitive: in.sensitiveList, Isolation: []NamespaceIsolation{}, Exposure: []Exposure{}, EgressOutside: []Egress{},
		BlastRadius: []Blast{}, CrossNamespace: []NamespaceFlows{}, SensitiveFlows: []Connection{}, Connections: []Connection{}}
	name := func(ep eval.Endpoint) string { return in.pods[ep.Index].name } // pods only: addresses go through addExt
	ns := func(ep eval.Endpoint) string {
		if ep.External {
			return ""
		}
		return in.pods[ep.Index].ns
	}

	// Address classes with the same ports to or from one pod are shown as
	// one peer, their addresses merged (netpol-analyzer's
	// "0.0.0.0-255.255.255.255"). A host (egress by DNS name) is a peer of
	// its own, named "host NAME".
	type extKey struct {
		pod    int
		egress bool
		ports  string
		host   string
	}
	type extAcc struct {
		ports    eval.PortSet
		prefixes []netip.Prefix
	}
	extFlows := map[extKey]*extAcc{}
	var extOrder []extKey
	addExt := func(pod int, egress bool, x int, ps eval.PortSet) {
		k := extKey{pod, egress, ps.String(), exts[x].Host}
		a := extFlows[k]
		if a == nil {
			a = &extAcc{ports: ps}
			extFlows[k] = a
			extOrder = append(extOrder, k)
		}
		a.prefixes = append(a.prefixes, exts[x].Prefixes...)
	}
	ev.Reachability().Each(func(fs eval.FlowSet) bool {
		for _, src := range fs.Srcs {
			for _, dst := range fs.Dsts {
				if src == dst || src.External && dst.External {
					continue
				}
				if dst.External {
					if in.pods[src.Index].subject {
						addExt(src.Index, true, dst.Index, fs.Ports)
					}
					continue
				}
				if !in.pods[dst.Index].subject {
					continue
				}
				d := dst.Index
				if src.External {
					addExt(d, false, src.Index, fs.Ports)
					continue
				}
				conn := Connection{Src: name(src), Dst: name(dst), Conn: ConnString(fs.Ports)}
				if in.pods[src.Index].subject {
					adj[src.Index] = append(adj[src.Index], edge{dst: d, ports: fs.Ports})
					env.Connections = append(env.Connections, conn)
				}
				other := ns(src) != ns(dst)
				if !in.managed[ns(src)] && other && in.managed[ns(dst)] {
					from[d] = append(from[d], Peer{Name: name(src), Ports: fs.Ports.String()})
				}
				if other && in.sensitive[ns(dst)] {
					env.SensitiveFlows = append(env.SensitiveFlows, conn)
				}
			}
		}
		return true
	})
	for _, k := range extOrder {
		a := extFlows[k]
		x := eval.External{Prefixes: a.prefixes}
		addrs, ranges := CIDRName(x), AddressName(x)
		if k.host != "" {
			addrs, ranges = "host "+k.host, "host "+k.host
		}
		if k.egress {
			egress[k.pod] = append(egress[k.pod], Peer{Name: addrs, Outside: true, Ports: a.ports.String()})
			env.Connections = append(env.Connections, Connection{Src: in.pods[k.pod].name, Dst: addrs, Conn: ConnString(a.ports), dstRanges: ranges})
			continue
		}
		from[k.pod] = append(from[k.pod], Peer{Name: addrs, Outside: true, Ports: a.ports.String()})
		outsideIn[k.pod] = true
		c := Connection{Src: addrs, Dst: in.pods[k.pod].name, Conn: ConnString(a.ports), srcRanges: ranges}
		env.Connections = append(env.Connections, c)
		if in.sensitive[in.pods[k.pod].ns] {
			env.SensitiveFlows = append(env.SensitiveFlows, c)
		}
	}
	sortConnections(env.Connections)
	sortConnections(env.SensitiveFlows)

	// Isolation coverage.
	byNS := map[string]*NamespaceIsolation{}
	for _, name := range in.namespaces {
		env.Isolation = append(env.Isolation, NamespaceIsolation{Namespace: name, Managed: in.managed[name]})
	}
	for i := range env.Isolation {
		byNS[env.Isolation[i].Namespace] = &env.Isolation[i]
	}
	s := &env.Summary
	// isolated is whether pod i is isolated in one direction, and by which
	// ClusterNetworkPolicy tier ("" for a NetworkPolicy).
	isolated := func(i int, egress bool) (bool, string) {
		if tier := ev.DenyTier(i, egress); tier != "" {
			return true, string(tier)
		}
		if egress {
			return ev.IsolatedEgress(i) && !ev.OpenEgress(i), ""
		}
		return ev.IsolatedIngress(i) && !ev.OpenIngress(i), ""
	}
	for i, p := range in.pods {
		iso := byNS[p.ns]
		if iso == nil {
			continue
		}
		in, inTier := isolated(i, false)
		eg, egTier := isolated(i, true)
		switch {
		case p.counted:
			iso.Services++
			s.Services++
			if in {
				iso.IngressIsolated++
				s.IngressIsolated++
				if inTier != "" {
					iso.IngressByCluster++
				}
			}
			if eg {
				iso.EgressIsolated++
				s.EgressIsolated++
				if egTier != "" {
					iso.EgressByCluster++
				}
			}
		case !p.subject:
			iso.NewPodIngress, iso.NewPodIngressTier = in, inTier
			iso.NewPodEgress, iso.NewPodEgressTier = eg, egTier
		}
	}
	s.Namespaces = len(env.Isolation)
	for _, iso := range env.Isolation {
		if iso.IngressIsolated == 0 && iso.EgressIsolated == 0 && !iso.NewPodIngress && !iso.NewPodEgress {
			s.UnisolatedNamespaces++
		}
	}

	// Exposure and egress to the outside.
	for i, p := range in.pods {
		if !p.subject {
			continue
		}
		if len(from[i]) > 0 {
			sortPeers(from[i])
			env.Exposure = append(env.Exposure, Exposure{Service: p.name, Namespace: p.ns, Outside: outsideIn[i], From: from[i]})
			s.Exposed++
			if outsideIn[i] {
				s.ExposedOutside++
			}
		}
		if len(egress[i]) > 0 {
			sortPeers(egress[i])
			env.EgressOutside = append(env.EgressOutside, Egress{Service: p.name, To: egress[i]})
			s.EgressOutside++
		}
	}
	sort.Slice(env.Exposure, func(i, j int) bool { return env.Exposure[i].Service < env.Exposure[j].Service })
	sort.Slice(env.EgressOutside, func(i, j int) bool { return env.EgressOutside[i].Service < env.EgressOutside[j].Service })

	// Blast radius and cross-namespace flows.
	env.BlastRadius = blastRadius(in.pods, adj, egress)
	if len(env.BlastRadius) > 0 {
		s.MaxBlastRadius = env.BlastRadius[0].Transitive
		s.MaxBlastService = env.BlastRadius[0].Service
	}
	pairs := map[[2]string]int{}
	for i, es := range adj {
		for _, e := range es {
			s.Connections++
			if a, b := in.pods[i].ns, in.pods[e.dst].ns; a != b {
				pairs[[2]string{a, b}]++
				s.CrossNamespace++
			}
		}
	}
	for k, c := range pairs {
		env.CrossNamespace = append(env.CrossNamespace, NamespaceFlows{From: k[0], To: k[1], Flows: c, Sensitive: in.sensitive[k[1]]})
	}
	sort.Slice(env.CrossNamespace, func(i, j int) bool {
		a, b := env.CrossNamespace[i], env.CrossNamespace[j]
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	s.SensitiveFlows = len(env.SensitiveFlows)
	env.graph = buildGraph(in, adj, outsideIn, egress)
	return env
}

// blastRadius ranks the subjects by what they reach: the graph's strongly
// connected components (Tarjan) share their reach, which is the union of
// their successors' (each computed once, in reverse topological order), so
// the work is linear in edges times the bitset width, not a search per
// service.
func blastRadius(pods []pod, adj [][]edge, egress [][]Peer) []Blast {
	n := len(pods)
	comp := make([]int, n)
	for i := range comp {
		comp[i] = -1
	}
	var comps [][]int
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	visited := make([]bool, n)
	var stack []int
	next := 0
	type frame struct{ v, e int }
	for root := 0; root < n; root++ {
		if visited[root] || !pods[root].subject {
			continue
		}
		call := []frame{{root, 0}}
		visited[root] = true
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.e < len(adj[f.v]) {
				w := adj[f.v][f.e].dst
				f.e++
				if !visited[w] {
					visited[w] = true
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				u := call[len(call)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] == index[v] {
				var members []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = len(comps)
					members = append(members, w)
					if w == v {
						break
					}
				}
				comps = append(comps, members)
			}
		}
	}
	words := (n + 63) / 64
	reach := make([][]uint64, len(comps))
	outside := make([]bool, len(comps))
	for c, members := range comps { // sinks first
		r := make([]uint64, words)
		for _, v := range members {
			r[v/64] |= 1 << (v % 64)
			outside[c] = outside[c] || len(egress[v]) > 0
			for _, e := range adj[v] {
				d := comp[e.dst]
				if d == c {
					continue
				}
				for k, x := range reach[d] {
					r[k] |= x
				}
				outside[c] = outside[c] || outside[d]
			}
		}
		reach[c] = r
	}
	var out []Blast
	nsCount := map[string]int{}
	for c, members := range comps {
		clear(nsCount)
		total := 0
		for k, x := range reach[c] {
			total += bits.OnesCount64(x)
			for x != 0 {
				b := bits.TrailingZeros64(x)
				x &^= 1 << b
				nsCount[pods[k*64+b].ns]++
			}
		}
		for _, v := range members {
			b := Blast{Service: pods[v].name, Transitive: total - 1, TransitiveNamespaces: len(nsCount), Outside: outside[c]}
			if nsCount[pods[v].ns] == 1 {
				b.TransitiveNamespaces--
			}
			hopNS := map[string]bool{}
			for _, e := range adj[v] {
				b.OneHop++
				hopNS[pods[e.dst].ns] = true
			}
			b.OneHopNamespaces = len(hopNS)
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Transitive != b.Transitive {
			return a.Transitive > b.Transitive
		}
		if a.OneHop != b.OneHop {
			return a.OneHop > b.OneHop
		}
		return a.Service < b.Service
	})
	return out
}

func sortConnections(cs []Connection) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Src != cs[j].Src {
			return cs[i].Src < cs[j].Src
		}
		return cs[i].Dst < cs[j].Dst
	})
}

func sortPeers(ps []Peer) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Outside != ps[j].Outside {
			return ps[i].Outside
		}
		return ps[i].Name < ps[j].Name
	})
}

// AddressName shows an address class as netpol-analyzer's connectivity
// list does: its addresses as ranges "first-last", joined by commas. The
// text and csv formats use it; the others use CIDRName.
func AddressName(x eval.External) string {
	var parts []string
	for _, r := range addressRanges(x) {
		parts = append(parts, r[0].String()+"-"+r[1].String())
	}
	return strings.Join(parts, ",")
}

// CIDRName shows an address class as the fewest CIDRs that cover exactly
// its addresses, joined by ", ": "0.0.0.0/0, ::/0" for every address,
// "0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, ..." for all but 10.0.0.0/8.
func CIDRName(x eval.External) string {
	var parts []string
	for _, r := range addressRanges(x) {
		for lo := r[0]; lo.IsValid(); {
			p := largestPrefix(lo, r[1])
			parts = append(parts, p.String())
			last := lastAddr(p)
			if last == r[1] {
				break
			}
			lo = last.Next()
		}
	}
	return strings.Join(parts, ", ")
}

// largestPrefix is the widest prefix that starts at lo and ends at or
// before hi (same family).
func largestPrefix(lo, hi netip.Addr) netip.Prefix {
	for bits := 0; bits < lo.BitLen(); bits++ {
		p := netip.PrefixFrom(lo, bits)
		if p.Masked().Addr() == lo && !hi.Less(lastAddr(p)) {
			return p
		}
	}
	return netip.PrefixFrom(lo, lo.BitLen())
}

// addressRanges are x's addresses as sorted, merged [first, last] ranges.
func addressRanges(x eval.External) [][2]netip.Addr {
	ps := append([]netip.Prefix(nil), x.Prefixes...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Addr().Less(ps[j].Addr()) })
	var out [][2]netip.Addr
	for _, p := range ps {
		first, last := p.Masked().Addr(), lastAddr(p)
		if n := len(out); n > 0 && out[n-1][1].Next() == first && first.IsValid() {
			out[n-1][1] = last
			continue
		}
		out = append(out, [2]netip.Addr{first, last})
	}
	return out
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(a)*8; i++ {
		a[i/8] |= 1 << (7 - i%8)
	}
	out, _ := netip.AddrFromSlice(a)
	return out
}

// ConnString shows a port set as netpol-analyzer's connectivity list does:
// "All Connections", or per protocol in alphabetical order "TCP 80,8080-8090"
// joined by commas ("SCTP 9000,TCP 80,UDP 53").
func ConnString(ps eval.PortSet) string {
	if ps.IsAll() {
		return "All Connections"
	}
	if ps.IsEmpty() {
		return "No Connections"
	}
	byProto := map[string][]string{}
	for _, r := range ps.Ranges() {
		p := string(r.Protocol)
		s := itoa(r.From)
		if r.To != r.From {
			s += "-" + itoa(r.To)
		}
		byProto[p] = append(byProto[p], s)
	}
	var out []string
	for _, p := range []string{"SCTP", "TCP", "UDP"} {
		if len(byProto[p]) > 0 {
			out = append(out, p+" "+strings.Join(byProto[p], ","))
		}
	}
	return strings.Join(out, ",")
}
