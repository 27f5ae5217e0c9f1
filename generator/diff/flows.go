package diff

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// EndpointKind says what an Endpoint of a flow stands for.
type EndpointKind string

const (
	// KindService is the pods of a declared service.
	KindService EndpointKind = "service"
	// KindSelector is pods matching labels that no service declares: the
	// cluster DNS, the target of a raw peer.
	KindSelector EndpointKind = "selector"
	// KindPods is any other pod of a namespace (a pod with no labels), in
	// every namespace of the world.
	KindPods EndpointKind = "pods"
	// KindUnmanaged is a pod in a namespace that no dependency file
	// describes (world.OutsideNamespace).
	KindUnmanaged EndpointKind = "unmanaged"
	// KindExternal is addresses outside the cluster: CIDR minus Except.
	KindExternal EndpointKind = "external"
	// KindHost is an external service known by DNS name (Host): a host
	// class of the evaluator (eval.External.Host).
	KindHost EndpointKind = "host"
)

// Endpoint is one end of a flow.
type Endpoint struct {
	Kind      EndpointKind
	Namespace string // every kind but unmanaged and external
	Service   string // KindService
	// Labels are the pod labels of KindSelector.
	Labels map[string]string
	// CIDR and Except are set for KindExternal: every address in CIDR but
	// not in any Except block (the blocks inside CIDR that some policy
	// treats differently).
	CIDR   string
	Except []string
	// Host is set for KindHost: a name or a pattern (*.googleapis.com).
	Host string `json:",omitempty"`
}

// maxExceptShown keeps an address class readable in one line; JSON lists
// every block.
const maxExceptShown = 3

// String names the endpoint for people, as the probe world names its pods
// (package world) in every report: "shop/cart" for a service,
// "kube-system/(pods k8s-app=kube-dns)" for selected pods,
// "shop/(unlabelled)", "netdep-outside/(unlabelled)", and
// "10.0.0.0/8 except 10.8.0.0/16" for addresses.
func (e Endpoint) String() string {
	switch e.Kind {
	case KindService:
		return e.Namespace + "/" + e.Service
	case KindSelector:
		return e.Namespace + "/" + world.PeerPodName(e.Labels)
	case KindPods:
		return e.Namespace + "/" + world.UnlabelledPodName
	case KindUnmanaged:
		return world.OutsideNamespace + "/" + world.UnlabelledPodName
	case KindHost:
		return verify.HostName(e.Host)
	}
	switch n := len(e.Except); {
	case n == 0:
		return e.CIDR
	case n <= maxExceptShown:
		return e.CIDR + " except " + strings.Join(e.Except, ", ")
	default:
		return fmt.Sprintf("%s except %s and %d more", e.CIDR, strings.Join(e.Except[:maxExceptShown], ", "), n-maxExceptShown)
	}
}

// Port is one port or range (EndPort > 0) of one protocol.
type Port struct {
	Protocol string
	Port     int32
	EndPort  int32
}

// String is the port as every netdep report writes it (schema.Port,
// eval.PortRange, explain, graph): "8080/TCP", "9000-9100/TCP", and
// "any/TCP" for every port of the protocol.
func (p Port) String() string {
	switch {
	case p.Port == eval.MinPort && p.EndPort == eval.MaxPort:
		return "any/" + p.Protocol
	case p.EndPort > 0:
		return strconv.Itoa(int(p.Port)) + "-" + strconv.Itoa(int(p.EndPort)) + "/" + p.Protocol
	}
	return strconv.Itoa(int(p.Port)) + "/" + p.Protocol
}

// PortsString joins ports: "8080/TCP, 53/UDP"; "any" for every port of every
// protocol, and "any except 53/TCP, 53/UDP" when that is shorter.
func PortsString(ps []Port) string {
	set := fromPorts(ps)
	if set.IsAll() {
		return "any"
	}
	rest := toPorts(eval.AllPorts().Subtract(set))
	if len(rest) < len(ps) {
		return "any except " + joinPorts(rest)
	}
	return joinPorts(ps)
}

func joinPorts(ps []Port) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// Flow is connections From may open to To on Ports.
type Flow struct {
	From, To Endpoint
	Ports    []Port
	// Before and After are, for a connection (Direction ""), every port
	// From may open to To on the base and on the head: a flow whose both
	// are non-empty is a change of an existing connection (a port moved,
	// a range widened or narrowed), not a new or a gone one.
	Before, After []Port
	// Sources are the dependency-file lines whose rules allow the flow's
	// ports on the side that allows them (the head for an added flow, the
	// base for a removed one), sorted; Origin says why there is none.
	Sources []schema.Pos
	Origin  string
	// Risks are the risk classes an added flow falls in (Report.FlagRisks),
	// sorted.
	Risks []Risk
	// Direction is "" for a connection (both ends' policies allow it), or
	// Ingress or Egress for a flow only that direction allows
	// (EnvReport.OneSidedAdded): To's ingress admits it but From's egress
	// blocks it, or the reverse.
	Direction Direction
	// Exception is the head's exception that declares an added flow, nil
	// for a flow no exception declares (and for every removed flow).
	Exception *FlowException
}

// Direction is a side of a connection as NetworkPolicy sees it.
type Direction string

const (
	Ingress Direction = "ingress"
	Egress  Direction = "egress"
)

// suffix marks a one-sided flow for people: " (ingress only)".
func (d Direction) suffix() string {
	if d == "" {
		return ""
	}
	return " (" + string(d) + " only)"
}

const (
	base = 0
	head = 1
)

// universe is the common world both policy sets are evaluated over, for one
// environment: the same endpoints, in the same order, on both sides.
type universe struct {
	eps  []Endpoint
	nPod int // eps[:nPod] are pods, eps[nPod:] address classes
	// pods are per side: a service's labels and ports are those its side
	// declares (the pods move with the spec); a service one side lacks
	// takes the other side's.
	pods       [2][]eval.Pod
	namespaces []eval.Namespace
	// addrs holds one address of each address class (eps[nPod+i]);
	// hosts the host classes after them (eps[nPod+len(addrs)+i]).
	addrs    []netip.Addr
	prefixes []netip.Prefix
	hosts    []string
}

// isHost reports whether endpoint i is a host class: only ever a
// destination.
func (u *universe) isHost(i int) bool { return i >= u.nPod+len(u.addrs) }

// evalUniverse is the evaluator's universe of side.
func (u *universe) evalUniverse(side int) eval.Universe {
	return eval.Universe{Namespaces: u.namespaces, Pods: u.pods[side], Addresses: u.prefixes, Hosts: u.hosts}
}

// external is the evaluator's endpoint of universe endpoint i >= nPod.
func (u *universe) external(ev *eval.Evaluator, i int) eval.Endpoint {
	if u.isHost(i) {
		h, _ := ev.HostFor(u.hosts[i-u.nPod-len(u.addrs)])
		return h
	}
	return ev.ExternalFor(u.addrs[i-u.nPod])
}

// flowSets are the flow changes of one environment.
type flowSets struct {
	added, removed       []Flow
	oneAdded, oneRemoved []Flow
}

// flowChanges evaluates both sides' policies in env over one universe and
// returns the flows head allows that base did not, and the reverse.
//
// Each side is evaluated twice, one direction at a time: its ingress rules
// with every egress open, and its egress rules with every ingress open. A
// connection is allowed exactly when the source's egress and the
// destination's ingress both allow it (the NetworkPolicy API: "both the
// egress policy on the source pod and the ingress policy on the
// destination pod need to allow the connection"), so the connections are
// the intersection of the two, and what one direction allows beyond the
// connections is there to compare too.
//
// ClusterNetworkPolicies are evaluated with the policies, in their tiers,
// split by direction alike: a flow that changes only because one of them
// changed is a flow change like any other.
//
// The network plugins' policies (CiliumNetworkPolicy, Calico's
// NetworkPolicy) are evaluated with them too, split by direction alike
// (pluginDirection).
func flowChanges(specs [2]*schema.Spec, env string, pols [2][]*networkingv1.NetworkPolicy, cnps [2][]*v1beta1.ClusterNetworkPolicy, plugins [2]eval.Plugins, eq equalObjects) (flowSets, error) {
	u := buildUniverse(specs, env, pols, cnps, plugins)
	fs, ok, err := incrementalFlowChanges(u, pols, cnps, plugins, eq)
	if err != nil || ok {
		return fs, err
	}
	return fullFlowChanges(u, pols, cnps, plugins)
}

// fullFlowChanges compares every pair of endpoints of u
// (incrementalFlowChanges compares those that can differ).
func fullFlowChanges(u *universe, pols [2][]*networkingv1.NetworkPolicy, cnps [2][]*v1beta1.ClusterNetworkPolicy, plugins [2]eval.Plugins) (flowSets, error) {
	var in, eg [2]func(src, dst int) eval.PortSet
	for side := range pols {
		var err error
		if in[side], err = evaluate(u, side, oneDirection(pols[side], networkingv1.PolicyTypeIngress), clusterDirection(cnps[side], false), pluginDirection(plugins[side], false)); err != nil {
			return flowSets{}, err
		}
		if eg[side], err = evaluate(u, side, oneDirection(pols[side], networkingv1.PolicyTypeEgress), clusterDirection(cnps[side], true), pluginDirection(plugins[side], true)); err != nil {
			return flowSets{}, err
		}
	}
	var fs flowSets
	for s := range u.eps {
		for d := range u.eps {
			// Connections between two addresses outside the cluster are no
			// policy's business; a pod reaching itself is never isolated.
			if s == d || s >= u.nPod && d >= u.nPod {
				continue
			}
			fs.addPair(u, s, d, in[base](s, d), in[head](s, d), eg[base](s, d), eg[head](s, d))
		}
	}
	return fs, nil
}

// addPair records what changes from s to d given each side's ingress (ib,
// ih) and egress (eb, eh) on their own.
func (fs *flowSets) addPair(u *universe, s, d int, ib, ih, eb, eh eval.PortSet) {
	if ib.Equal(ih) && eb.Equal(eh) {
		return
	}
	cb, ch := ib.Intersect(eb), ih.Intersect(eh)
	add := func(list *[]Flow, ps eval.PortSet, dir Direction) {
		if !ps.IsEmpty() {
			f := Flow{From: u.eps[s], To: u.eps[d], Ports: toPorts(ps), Direction: dir}
			if dir == "" {
				f.Before, f.After = toPorts(cb), toPorts(ch)
			}
			*list = append(*list, f)
		}
	}
	add(&fs.added, ch.Subtract(cb), "")
	add(&fs.removed, cb.Subtract(ch), "")
	add(&fs.oneAdded, ih.Subtract(ib).Subtract(ch), Ingress)
	add(&fs.oneAdded, eh.Subtract(eb).Subtract(ch), Egress)
	add(&fs.oneRemoved, ib.Subtract(ih).Subtract(cb), Ingress)
	add(&fs.oneRemoved, eb.Subtract(eh).Subtract(cb), Egress)
}

// oneDirection keeps of each policy only its rules of type t, as the API
// server defaults it (eval.Default): the policy set as it would enforce
// with every rule of the other direction open. A policy not of type t goes.
// The copies are shallow; the evaluator only reads them.
func oneDirection(pols []*networkingv1.NetworkPolicy, t networkingv1.PolicyType) []*networkingv1.NetworkPolicy {
	out := make([]*networkingv1.NetworkPolicy, 0, len(pols))
	for _, p := range pols {
		p = eval.Default(p)
		if !slices.Contains(p.Spec.PolicyTypes, t) {
			continue
		}
		c := *p
		c.Spec.PolicyTypes = []networkingv1.PolicyType{t}
		if t == networkingv1.PolicyTypeIngress {
			c.Spec.Egress = nil
		} else {
			c.Spec.Ingress = nil
		}
		out = append(out, &c)
	}
	return out
}

// clusterDirection keeps of each ClusterNetworkPolicy only its egress
// rules (or only its ingress rules), as oneDirection does for the
// policies; one with no rules left goes. The copies are shallow.
func clusterDirection(cnps []*v1beta1.ClusterNetworkPolicy, egress bool) []*v1beta1.ClusterNetworkPolicy {
	out := make([]*v1beta1.ClusterNetworkPolicy, 0, len(cnps))
	for _, p := range cnps {
		c := *p
		if egress {
			c.Spec.Ingress = nil
		} else {
			c.Spec.Egress = nil
		}
		if len(c.Spec.Ingress)+len(c.Spec.Egress) > 0 {
			out = append(out, &c)
		}
	}
	return out
}

// evaluate is the one place diff uses the evaluator: the ports each endpoint
// of u may reach each other endpoint on, under pols and cnps in their
// tiers and the plugins' policies, on one side.
func evaluate(u *universe, side int, pols []*networkingv1.NetworkPolicy, cnps []*v1beta1.ClusterNetworkPolicy, plugins eval.Plugins) (func(src, dst int) eval.PortSet, error) {
	ev, err := eval.NewWithPlugins(u.evalUniverse(side), pols, cnps, plugins)
	if err != nil {
		return nil, fmt.Errorf("evaluating the policies: %w", err)
	}
	r := ev.Reachability()
	eps := make([]eval.Endpoint, len(u.eps))
	for i := range eps {
		if i < u.nPod {
			eps[i] = eval.PodEndpoint(i)
		} else {
			eps[i] = u.external(ev, i)
		}
	}
	return func(s, d int) eval.PortSet { return r.Ports(eps[s], eps[d]) }, nil
}

func fromPorts(ps []Port) eval.PortSet {
	rs := make([]eval.PortRange, len(ps))
	for i, p := range ps {
		rs[i] = eval.PortRange{Protocol: corev1.Protocol(p.Protocol), From: p.Port, To: max(p.Port, p.EndPort)}
	}
	return eval.NewPortSet(rs...)
}

func toPorts(s eval.PortSet) []Port {
	var out []Port
	for _, r := range s.Ranges() {
		p := Port{Protocol: string(r.Protocol), Port: r.From}
		if r.To != r.From {
			p.EndPort = r.To
		}
		out = append(out, p)
	}
	return out
}

// buildUniverse is the probe world of env over both specs (world.New: the
// pods move with the spec, one pod per service of either side), ordered as
// flows are shown, then the address classes that the ipBlocks of either
// side's policies separate. The classes come from the policies, not from the
// specs' CIDRs (the world's Addresses): an address no policy of either side
// tells apart from its neighbours cannot change, and a class split only by a
// spec would repeat its neighbour's flows.
//
// The host classes are the world's (one per host a rule of either spec
// calls by name) and every name the plugin policies of either side allow
// by toFQDNs, sorted.
func buildUniverse(specs [2]*schema.Spec, env string, pols [2][]*networkingv1.NetworkPolicy, cnps [2][]*v1beta1.ClusterNetworkPolicy, plugins [2]eval.Plugins) *universe {
	w := world.New(env, specs[base], specs[head])
	order := make([]int, len(w.Pods))
	eps := make([]Endpoint, len(w.Pods))
	for i, info := range w.Pods {
		order[i] = i
		eps[i] = endpointOf(info, w.Universe.Pods[i])
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareEndpoints(eps[a], eps[b]) })
	u := &universe{namespaces: w.Universe.Namespaces}
	for side := range u.pods {
		pods := w.Side(side).Pods
		for _, i := range order {
			u.pods[side] = append(u.pods[side], pods[i])
		}
	}
	for _, i := range order {
		u.eps = append(u.eps, eps[i])
	}
	u.nPod = len(u.eps)
	u.prefixes = blocks(pols, cnps, plugins)
	for _, c := range addressClasses(u.prefixes) {
		u.eps = append(u.eps, c.ep)
		u.addrs = append(u.addrs, c.addr)
	}
	hosts := append(slices.Clone(w.Universe.Hosts), pluginHosts(plugins)...)
	slices.Sort(hosts)
	for _, h := range slices.Compact(hosts) {
		u.eps = append(u.eps, Endpoint{Kind: KindHost, Host: h})
		u.hosts = append(u.hosts, h)
	}
	return u
}

// endpointOf is the flow endpoint a world pod stands for.
func endpointOf(info world.PodInfo, pod eval.Pod) Endpoint {
	switch {
	case info.Kind == world.ServicePod:
		return Endpoint{Kind: KindService, Namespace: pod.Namespace, Service: info.Service.Name}
	case info.Kind == world.PeerPod && len(pod.Labels) > 0:
		return Endpoint{Kind: KindSelector, Namespace: pod.Namespace, Labels: pod.Labels}
	case pod.Namespace == world.OutsideNamespace:
		return Endpoint{Kind: KindUnmanaged}
	}
	return Endpoint{Kind: KindPods, Namespace: pod.Namespace}
}

// compareEndpoints orders flows' ends: pods by namespace (services, then
// selected pods, then other pods), then the unmanaged pod, then addresses.
func compareEndpoints(a, b Endpoint) int {
	group := func(e Endpoint) int {
		switch e.Kind {
		case KindUnmanaged:
			return 1
		case KindExternal:
			return 2
		case KindHost:
			return 3
		}
		return 0
	}
	rank := map[EndpointKind]int{KindService: 0, KindSelector: 1, KindPods: 2}
	if c := group(a) - group(b); c != 0 {
		return c
	}
	if a.Kind == KindHost {
		return strings.Compare(a.Host, b.Host)
	}
	if a.Kind == KindExternal {
		pa, pb := netip.MustParsePrefix(a.CIDR), netip.MustParsePrefix(b.CIDR)
		if c := pa.Addr().Compare(pb.Addr()); c != 0 {
			return c
		}
		return pa.Bits() - pb.Bits()
	}
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	if c := rank[a.Kind] - rank[b.Kind]; c != 0 {
		return c
	}
	return strings.Compare(a.Service+world.LabelKey(a.Labels), b.Service+world.LabelKey(b.Labels))
}

func compareFlows(a, b Flow) int {
	if c := compareEndpoints(a.From, b.From); c != 0 {
		return c
	}
	return compareEndpoints(a.To, b.To)
}

// blocks returns every ipBlock cidr and except of both sides, and every
// network of their ClusterNetworkPolicies' egress peers, canonical, sorted,
// plus the two address families whole.
func blocks(pols [2][]*networkingv1.NetworkPolicy, cnps [2][]*v1beta1.ClusterNetworkPolicy, plugins [2]eval.Plugins) []netip.Prefix {
	seen := map[netip.Prefix]bool{}
	add := func(s string) {
		if p, err := netip.ParsePrefix(s); err == nil {
			seen[p.Masked()] = true
		}
	}
	add("0.0.0.0/0")
	add("::/0")
	peers := func(ps []networkingv1.NetworkPolicyPeer) {
		for _, p := range ps {
			if p.IPBlock != nil {
				add(p.IPBlock.CIDR)
				for _, e := range p.IPBlock.Except {
					add(e)
				}
			}
		}
	}
	for _, side := range pols {
		for _, p := range side {
			for _, r := range p.Spec.Ingress {
				peers(r.From)
			}
			for _, r := range p.Spec.Egress {
				peers(r.To)
			}
		}
	}
	for _, side := range cnps {
		for _, p := range side {
			for _, r := range p.Spec.Egress {
				for _, peer := range r.To {
					for _, n := range peer.Networks {
						add(string(n))
					}
				}
			}
		}
	}
	for _, pl := range plugins {
		pluginBlocks(pl, add)
	}
	out := make([]netip.Prefix, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.SortFunc(out, comparePrefix)
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

type addressClass struct {
	ep   Endpoint
	addr netip.Addr
}

// addressClasses partitions the address space by prefixes. Two prefixes are
// nested or disjoint, so an address is treated alike by every block exactly
// when the smallest prefix holding it is the same: each prefix P names the
// class "P except the largest prefixes inside it". A prefix covered wholly
// by its children names no class.
func addressClasses(prefixes []netip.Prefix) []addressClass {
	prefixes = slices.Clone(prefixes)
	slices.SortFunc(prefixes, comparePrefix)
	prefixes = slices.Compact(prefixes)
	var out []addressClass
	for i, p := range prefixes {
		// Sorted by (address, length): everything inside p follows it.
		var children []netip.Prefix
		for _, q := range prefixes[i+1:] {
			if !p.Contains(q.Addr()) || q.Addr().Is4() != p.Addr().Is4() {
				break
			}
			if n := len(children); n > 0 && children[n-1].Contains(q.Addr()) {
				continue // inside an earlier child
			}
			children = append(children, q)
		}
		addr, ok := p.Addr(), true
		for _, c := range children {
			if !c.Contains(addr) {
				break
			}
			addr = lastAddr(c).Next()
			if !addr.IsValid() || !p.Contains(addr) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		ep := Endpoint{Kind: KindExternal, CIDR: p.String()}
		for _, c := range children {
			ep.Except = append(ep.Except, c.String())
		}
		out = append(out, addressClass{ep: ep, addr: addr})
	}
	return out
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := range b {
		keep := p.Bits() - 8*i
		switch {
		case keep >= 8:
		case keep <= 0:
			b[i] = 0xff
		default:
			b[i] |= byte(0xff >> keep)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
