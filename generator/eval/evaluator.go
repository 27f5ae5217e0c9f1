package eval

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/intstr"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// Evaluator answers connectivity questions for one universe and one set of
// policies. It is immutable after New and safe for concurrent use.
//
// Pods that live in the same namespace and have the same labels, container
// ports and IP classes are indistinguishable to every policy; the evaluator
// works on such pod classes and on address classes (Externals), with bitsets
// over "endpoints": pod classes first, address classes after them.
type Evaluator struct {
	universe Universe
	policies []*networkingv1.NetworkPolicy // defaulted

	nsIndex  map[string]int
	nsLabels []labels.Set
	nsMask   []bitset // per namespace: its pod classes

	classes  []podClass
	podClass []int          // per pod
	podIndex map[string]int // "namespace/name" -> pod
	nPod     int            // number of pod classes
	nEP      int            // pod classes + address classes + host classes

	part   partition
	blocks []ipBlock
	// hosts are the host classes' names, sorted (hosts.go); externals
	// the address classes, then the host classes.
	hosts     []string
	externals []External

	// The plugins' policies (plugins.go), parsed; compiled into pols
	// after the NetworkPolicies.
	plugins Plugins
	cilium  []ciliumPolicy
	calico  []calicoPolicy

	pols []cpolicy
	// per pod class: the policies isolating it for ingress / egress.
	inPols, egPols [][]int32
	ingressIso     bitset // endpoints isolated for ingress (pod classes only)
	egressIso      bitset

	index labelIndex

	// ClusterNetworkPolicies (cluster.go), sorted for evaluation; none for
	// New. Per pod class, the Admin and Baseline policies with rules of each
	// direction whose subject selects it, in evaluation order.
	clusterPolicies      []*v1beta1.ClusterNetworkPolicy
	cnps                 []ccnp
	adminIn, adminEg     [][]int32
	baseIn, baseEg       [][]int32
	clusterIn, clusterEg bitset // pod classes some of them select
}

type podClass struct {
	ns     int
	pods   []int
	labels labels.Set
	// named maps "PROTO/name" to the container port numbers of that name.
	named map[string][]int32
	ips   []netip.Addr
}

type cpolicy struct {
	ns               int
	ref              PolicyRef
	selList          []int32 // pod classes the policy applies to
	ingress, egress  bool    // policyTypes
	inRules, egRules []crule
}

type crule struct {
	policy int32
	index  int32
	// peers are the endpoints the rule admits (from / to); every endpoint
	// when the rule has no peers.
	peers    members
	allPeers bool
	ports    cports
	// pass is a Calico Pass: what it admits goes on to the Baseline tier
	// (allowed when there is none).
	pass bool
}

// cports is a rule's ports before named ports are resolved on a pod.
type cports struct {
	all   bool
	num   PortSet
	named []string // "PROTO/name"
}

// resolve returns the ports the rule allows on pod class c, the destination
// of the connection: "a named port ... is resolved on the destination pod"
// (for ingress the policy's own pod, for egress the peer). On an address
// (c < 0) a named port matches nothing.
func (e *Evaluator) resolve(p *cports, c int) PortSet {
	if p.all {
		return allPorts
	}
	if len(p.named) == 0 || c < 0 || c >= e.nPod {
		return p.num
	}
	out := p.num
	for _, n := range p.named {
		nums := e.classes[c].named[n]
		if len(nums) == 0 {
			continue
		}
		proto := corev1.Protocol(n[:strings.IndexByte(n, '/')])
		rs := make([]PortRange, 0, len(nums))
		for _, x := range nums {
			rs = append(rs, PortRange{proto, x, x})
		}
		out = out.Union(NewPortSet(rs...))
	}
	return out
}

// PolicyRef names a policy: a NetworkPolicy, or with Kind a network
// plugin's policy (KindCilium, KindCalico).
type PolicyRef struct {
	Namespace, Name string
	Kind            string
}

// String is "namespace/name", prefixed by the kind for a plugin's policy
// ("CiliumNetworkPolicy payments/payment.hosts").
func (r PolicyRef) String() string {
	if r.Kind != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Namespace + "/" + r.Name
}

// RuleRef names one rule: Rule indexes spec.ingress or spec.egress.
type RuleRef struct {
	PolicyRef
	Rule int
}

func (r RuleRef) String() string { return r.PolicyRef.String() + "[" + strconv.Itoa(r.Rule) + "]" }

// New defaults every policy (Default), validates it (Validate) and compiles
// the set over u. Invalid policies are an error listing every problem, each
// prefixed by the policy's namespace/name; nothing is evaluated then.
func New(u Universe, policies []*networkingv1.NetworkPolicy) (*Evaluator, error) {
	return newEvaluator(u, policies, nil, Plugins{})
}

// newEvaluator is New with validated ClusterNetworkPolicies.
func newEvaluator(u Universe, policies []*networkingv1.NetworkPolicy, cnps []*v1beta1.ClusterNetworkPolicy, pl Plugins) (*Evaluator, error) {
	e := &Evaluator{universe: u, nsIndex: map[string]int{}, clusterPolicies: sortClusterPolicies(cnps), plugins: pl}
	for _, p := range pl.Cilium {
		e.cilium = append(e.cilium, parseCilium(p))
	}
	for _, p := range pl.Calico {
		e.calico = append(e.calico, parseCalico(p))
	}
	var errs []error
	seen := map[string]bool{}
	for _, p := range policies {
		d := Default(p)
		// Two objects with one name: a cluster keeps only one of them.
		if id := d.Namespace + "/" + d.Name; seen[id] {
			errs = append(errs, fmt.Errorf("networkpolicy %s: defined twice", id))
		} else {
			seen[id] = true
		}
		for _, err := range Validate(d) {
			errs = append(errs, fmt.Errorf("networkpolicy %s/%s: %w", d.Namespace, d.Name, err))
		}
		e.policies = append(e.policies, d)
	}
	if err := e.buildUniverse(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	e.buildBlocks()
	e.index = buildLabelIndex(e.classes)
	e.buildPolicies()
	return e, nil
}

func (e *Evaluator) addNamespace(name string, l map[string]string) int {
	set := labels.Set{}
	for k, v := range l {
		set[k] = v
	}
	// The API server labels every namespace with its name.
	set[NamespaceNameLabel] = name
	e.nsIndex[name] = len(e.nsLabels)
	e.nsLabels = append(e.nsLabels, set)
	return len(e.nsLabels) - 1
}

func (e *Evaluator) buildUniverse() error {
	var errs []error
	for _, ns := range e.universe.Namespaces {
		if _, dup := e.nsIndex[ns.Name]; dup {
			errs = append(errs, fmt.Errorf("namespace %q listed twice", ns.Name))
			continue
		}
		e.addNamespace(ns.Name, ns.Labels)
	}
	// Namespaces policies live in exist even without pods: a policy's own
	// namespace is where its nil namespaceSelector points.
	for _, p := range e.policies {
		if _, ok := e.nsIndex[p.Namespace]; !ok {
			e.addNamespace(p.Namespace, nil)
		}
	}
	for _, p := range e.cilium {
		if _, ok := e.nsIndex[p.ref.Namespace]; !ok {
			e.addNamespace(p.ref.Namespace, nil)
		}
	}
	for _, p := range e.calico {
		if _, ok := e.nsIndex[p.ref.Namespace]; !ok {
			e.addNamespace(p.ref.Namespace, nil)
		}
	}
	byKey := map[string]int{}
	e.podClass = make([]int, len(e.universe.Pods))
	e.podIndex = make(map[string]int, len(e.universe.Pods))
	for i, pod := range e.universe.Pods {
		id := pod.Namespace + "/" + pod.Name
		if _, dup := e.podIndex[id]; dup {
			errs = append(errs, fmt.Errorf("pod %s listed twice", id))
		}
		e.podIndex[id] = i
		ns, ok := e.nsIndex[pod.Namespace]
		if !ok {
			ns = e.addNamespace(pod.Namespace, nil)
		}
		key := classKey(ns, &pod)
		c, ok := byKey[key]
		if !ok {
			c = len(e.classes)
			byKey[key] = c
			pc := podClass{ns: ns, labels: labels.Set(pod.Labels), named: map[string][]int32{}}
			for _, cp := range pod.Ports {
				if cp.Name == "" {
					continue
				}
				proto := cp.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				k := string(proto) + "/" + cp.Name
				pc.named[k] = append(pc.named[k], cp.ContainerPort)
			}
			for _, a := range pod.IPs {
				pc.ips = append(pc.ips, a.Unmap())
			}
			e.classes = append(e.classes, pc)
		}
		e.classes[c].pods = append(e.classes[c].pods, i)
		e.podClass[i] = c
	}
	e.nPod = len(e.classes)
	return errors.Join(errs...)
}

func classKey(ns int, p *Pod) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(ns))
	keys := make([]string, 0, len(p.Labels))
	for k := range p.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString("\x00l")
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(p.Labels[k])
	}
	ports := make([]string, 0, len(p.Ports))
	for _, cp := range p.Ports {
		proto := cp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		ports = append(ports, fmt.Sprintf("%s/%s/%d", proto, cp.Name, cp.ContainerPort))
	}
	slices.Sort(ports)
	for _, s := range ports {
		b.WriteString("\x00p")
		b.WriteString(s)
	}
	// Pods with IPs are told apart by their IPs: ipBlocks may match them.
	for _, a := range p.IPs {
		b.WriteString("\x00i")
		b.WriteString(a.Unmap().String())
	}
	return b.String()
}

func parseBlock(b *networkingv1.IPBlock) ipBlock {
	// Validated: these parse.
	out := ipBlock{cidr: netip.MustParsePrefix(b.CIDR).Masked()}
	for _, e := range b.Except {
		out.except = append(out.except, netip.MustParsePrefix(e).Masked())
	}
	slices.SortFunc(out.except, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return out
}

func (e *Evaluator) buildBlocks() {
	seen := map[string]bool{}
	add := func(peers []networkingv1.NetworkPolicyPeer) {
		for _, p := range peers {
			if p.IPBlock == nil {
				continue
			}
			b := parseBlock(p.IPBlock)
			if k := b.key(); !seen[k] {
				seen[k] = true
				e.blocks = append(e.blocks, b)
			}
		}
	}
	for _, p := range e.policies {
		for _, r := range p.Spec.Ingress {
			add(r.From)
		}
		for _, r := range p.Spec.Egress {
			add(r.To)
		}
	}
	for _, p := range e.clusterPolicies {
		for _, r := range p.Spec.Egress {
			for _, peer := range r.To {
				for _, n := range peer.Networks {
					if b := cidrBlock(n); !seen[b.key()] {
						seen[b.key()] = true
						e.blocks = append(e.blocks, b)
					}
				}
			}
		}
	}
	for _, p := range e.cilium {
		for _, rs := range [][]pluginRule{p.ingress, p.egress} {
			for _, r := range rs {
				for _, b := range r.blocks {
					if k := b.key(); !seen[k] {
						seen[k] = true
						e.blocks = append(e.blocks, b)
					}
				}
			}
		}
	}
	e.part = buildPartition(e.blocks, e.universe.Addresses)
	e.buildHosts()
	e.externals = slices.Clone(e.part.classes)
	for _, h := range e.hosts {
		e.externals = append(e.externals, External{Host: h})
	}
	e.nEP = e.nPod + len(e.externals)
}

func (e *Evaluator) buildPolicies() {
	e.inPols = make([][]int32, e.nPod)
	e.egPols = make([][]int32, e.nPod)
	e.ingressIso = newBitset(e.nEP)
	e.egressIso = newBitset(e.nEP)
	e.nsMask = make([]bitset, len(e.nsLabels))
	for i := range e.nsMask {
		e.nsMask[i] = newBitset(e.nEP)
	}
	for c := range e.classes {
		e.nsMask[e.classes[c].ns].set(c)
	}
	blockIdx := map[string]int{}
	for i, b := range e.blocks {
		blockIdx[b.key()] = i
	}
	c := &compiler{e: e, blockIdx: blockIdx, nsSel: map[string]bitset{}, peerSel: map[string]members{}, scratch: newBitset(e.nEP), selected: newBitset(e.nEP)}
	for pi, p := range e.policies {
		ns := e.nsIndex[p.Namespace]
		cp := cpolicy{ns: ns, ref: PolicyRef{Namespace: p.Namespace, Name: p.Name}}
		// "Selects particular Pods ... in this namespace": podSelector
		// applies to the policy's namespace only; {} selects all its pods.
		// (Read before the rules: their selectors reuse c.selected.)
		c.pods(e.nsMask[ns], &p.Spec.PodSelector).each(func(cl int) { cp.selList = append(cp.selList, int32(cl)) })
		for _, t := range p.Spec.PolicyTypes {
			switch t {
			case networkingv1.PolicyTypeIngress:
				cp.ingress = true
			case networkingv1.PolicyTypeEgress:
				cp.egress = true
			}
		}
		// Rules of a direction not in policyTypes are stored but ignored.
		if cp.ingress {
			for ri, r := range p.Spec.Ingress {
				cp.inRules = append(cp.inRules, c.rule(pi, ri, ns, r.From, r.Ports, true))
			}
		}
		if cp.egress {
			for ri, r := range p.Spec.Egress {
				cp.egRules = append(cp.egRules, c.rule(pi, ri, ns, r.To, r.Ports, false))
			}
		}
		for _, cl := range cp.selList {
			if cp.ingress {
				e.inPols[cl] = append(e.inPols[cl], int32(pi))
				e.ingressIso.set(int(cl))
			}
			if cp.egress {
				e.egPols[cl] = append(e.egPols[cl], int32(pi))
				e.egressIso.set(int(cl))
			}
		}
		e.pols = append(e.pols, cp)
	}
	c.buildPlugins()
	c.buildClusterPolicies()
}

type compiler struct {
	e        *Evaluator
	blockIdx map[string]int
	nsSel    map[string]bitset  // namespaceSelector -> pod classes of matching namespaces
	peerSel  map[string]members // (namespaces, podSelector) -> pod classes
	scratch  bitset             // a rule's peers while they are collected
	// selected is labelIndex.eval's answer until the next call: a new
	// bitset per selector was a quadratic amount of garbage.
	selected bitset
}

// pods returns the pod classes within mask that s selects, valid until the
// compiler's next selector.
func (c *compiler) pods(mask bitset, s *metav1.LabelSelector) bitset {
	sel := compileSelector(s)
	return c.e.index.eval(&sel, mask, c.e.classes, c.selected)
}

func (c *compiler) rule(pi, ri, ns int, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, ingress bool) crule {
	e := c.e
	r := crule{policy: int32(pi), index: int32(ri), ports: compilePorts(ports)}
	// "If this field is empty or missing, this rule matches all sources /
	// destinations": pods and addresses alike (hosts are destinations
	// only, hosts.go).
	if len(peers) == 0 {
		r.allPeers = true
		all := newBitset(e.nEP)
		all.setRange(0, c.endpoints(ingress))
		r.peers = members{dense: all}
		return r
	}
	collected := c.scratch
	collected.clear()
	for _, p := range peers {
		if p.IPBlock != nil {
			bi := c.blockIdx[parseBlock(p.IPBlock).key()]
			for _, cl := range e.part.blockClasses[bi] {
				collected.set(e.nPod + cl)
			}
			// An unpinned host is in a whole family only (hosts.go).
			b := e.blocks[bi]
			if b.holdsHost() && !ingress {
				e.setHosts(collected)
			}
			// Pods with IPs are matched by ipBlock (see doc.go).
			for cl := range e.classes {
				for _, a := range e.classes[cl].ips {
					if b.contains(a) {
						collected.set(cl)
						break
					}
				}
			}
			continue
		}
		c.peerInto(collected, ns, p.NamespaceSelector, p.PodSelector)
	}
	r.peers = compact(collected)
	return r
}

// peer returns the pod classes a podSelector/namespaceSelector peer admits.
// A nil namespaceSelector means the policy's own namespace; {} means every
// namespace. A nil podSelector next to a namespaceSelector means every pod in
// those namespaces. Both set: pods matching podSelector in namespaces
// matching namespaceSelector (AND).
func (c *compiler) peer(ns int, nsSel, podSel *metav1.LabelSelector) bitset {
	mask, m, all := c.peerSet(ns, nsSel, podSel)
	if all {
		return mask
	}
	return m.bitset(c.e.nEP)
}

// peerInto adds the pod classes of peer (as peer returns them) to b.
func (c *compiler) peerInto(b bitset, ns int, nsSel, podSel *metav1.LabelSelector) {
	mask, m, all := c.peerSet(ns, nsSel, podSel)
	if all {
		b.or(mask)
		return
	}
	m.orInto(b)
}

// peerSet is peer's answer: every pod class of mask when all, else m.
func (c *compiler) peerSet(ns int, nsSel, podSel *metav1.LabelSelector) (mask bitset, m members, all bool) {
	e := c.e
	var nsKey string
	if nsSel == nil {
		nsKey = "own:" + strconv.Itoa(ns)
		mask = e.nsMask[ns]
	} else {
		sel := compileSelector(nsSel)
		nsKey = sel.key
		if m, ok := c.nsSel[nsKey]; ok {
			mask = m
		} else {
			mask = newBitset(e.nEP)
			for i, l := range e.nsLabels {
				if sel.matches(l) {
					mask.or(e.nsMask[i])
				}
			}
			c.nsSel[nsKey] = mask
		}
	}
	if podSel == nil {
		return mask, members{}, true
	}
	sel := compileSelector(podSel)
	key := nsKey + "\x00" + sel.key
	if b, ok := c.peerSel[key]; ok {
		return mask, b, false
	}
	b := compact(e.index.eval(&sel, mask, e.classes, c.selected))
	c.peerSel[key] = b
	return mask, b, false
}

// compilePorts: no ports means all ports; a port without a number means all
// ports of its protocol; endPort makes a range; a named port waits for the
// destination pod.
func compilePorts(ports []networkingv1.NetworkPolicyPort) cports {
	if len(ports) == 0 {
		return cports{all: true}
	}
	var out cports
	var rs []PortRange
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		switch {
		case p.Port == nil:
			rs = append(rs, PortRange{proto, MinPort, MaxPort})
		case p.Port.Type == intstr.String:
			out.named = append(out.named, string(proto)+"/"+p.Port.StrVal)
		case p.EndPort != nil:
			rs = append(rs, PortRange{proto, p.Port.IntVal, *p.EndPort})
		default:
			rs = append(rs, PortRange{proto, p.Port.IntVal, p.Port.IntVal})
		}
	}
	out.num = NewPortSet(rs...)
	return out
}

// labelIndex finds the pod classes a selector matches without one Matches
// call per class: it enumerates the classes of the selector's most
// selective positive requirement (key=value, key in (...), key exists) and
// checks only those. Selectors with no positive requirement scan the mask.
type labelIndex struct {
	values map[string]map[string][]int32 // key -> value -> classes
	keys   map[string][]int32            // key -> classes
}

func buildLabelIndex(classes []podClass) labelIndex {
	idx := labelIndex{values: map[string]map[string][]int32{}, keys: map[string][]int32{}}
	for c, pc := range classes {
		for k, v := range pc.labels {
			vs, ok := idx.values[k]
			if !ok {
				vs = map[string][]int32{}
				idx.values[k] = vs
			}
			vs[v] = append(vs[v], int32(c))
			idx.keys[k] = append(idx.keys[k], int32(c))
		}
	}
	return idx
}

// eval returns the pod classes within mask that sel matches, in out (of
// mask's size, overwritten). mask holds pod classes only: addresses have no
// labels.
func (idx *labelIndex) eval(sel *selector, mask bitset, classes []podClass, out bitset) bitset {
	out.clear()
	if sel.nothing {
		return out
	}
	if len(sel.reqs) == 0 {
		copy(out, mask) // {} selects everything
		return out
	}
	var best [][]int32
	bestSize := -1
	for _, r := range sel.reqs {
		var lists [][]int32
		switch r.op {
		case selection.Equals, selection.DoubleEquals, selection.In:
			for _, v := range r.values {
				lists = append(lists, idx.values[r.key][v])
			}
		case selection.Exists:
			lists = [][]int32{idx.keys[r.key]}
		default:
			continue
		}
		size := 0
		for _, l := range lists {
			size += len(l)
		}
		if bestSize < 0 || size < bestSize {
			best, bestSize = lists, size
		}
	}
	check := func(c int) {
		if mask.has(c) && sel.matches(classes[c].labels) {
			out.set(c)
		}
	}
	if bestSize < 0 {
		mask.each(check)
		return out
	}
	for _, l := range best {
		for _, c := range l {
			check(int(c))
		}
	}
	return out
}
