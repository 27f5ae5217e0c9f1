package eval

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// ClusterNetworkPolicy (policy.networking.k8s.io/v1beta1, from
// sigs.k8s.io/network-policy-api v0.3.0) semantics. See doc.go for the
// choices made where the API leaves them open.

// ClusterRuleRef names one rule of a ClusterNetworkPolicy.
type ClusterRuleRef struct {
	Policy string // metadata.name (cluster-scoped)
	// Kind is the object's kind as written: ClusterNetworkPolicy, or the
	// v1alpha1 AdminNetworkPolicy or BaselineAdminNetworkPolicy it was
	// evaluated as (V1Alpha1KindAnnotation).
	Kind     string
	Tier     v1beta1.Tier
	Priority int32
	// Egress tells spec.egress from spec.ingress; Rule indexes it.
	Egress bool
	Rule   int
	Name   string // the rule's name field; may be empty
	Action v1beta1.ClusterNetworkPolicyRuleAction
}

// String is "ClusterNetworkPolicy NAME rule RULE, tier TIER", RULE being
// the rule's name or, without one, ingress[i] / egress[i].
func (r ClusterRuleRef) String() string {
	rule := r.Name
	if rule == "" {
		rule = "ingress"
		if r.Egress {
			rule = "egress"
		}
		rule += "[" + strconv.Itoa(r.Rule) + "]"
	}
	kind := r.Kind
	if kind == "" {
		kind = "ClusterNetworkPolicy"
	}
	return fmt.Sprintf("%s %s rule %s, tier %s", kind, r.Policy, rule, r.Tier)
}

// ccnp is a compiled ClusterNetworkPolicy.
type ccnp struct {
	name, kind       string
	tier             v1beta1.Tier
	priority         int32
	sel              bitset // pod classes of the subject
	inRules, egRules []ccrule
}

type ccrule struct {
	index  int
	name   string
	action v1beta1.ClusterNetworkPolicyRuleAction
	peers  bitset
	ports  cports
}

func (e *Evaluator) clusterRef(ci int, egress bool, r *ccrule) *ClusterRuleRef {
	p := &e.cnps[ci]
	return &ClusterRuleRef{Policy: p.name, Kind: p.kind, Tier: p.tier, Priority: p.priority, Egress: egress, Rule: r.index, Name: r.name, Action: r.action}
}

// ClusterPolicies returns the ClusterNetworkPolicies as evaluated, in
// evaluation order: the Admin tier by priority, then the Baseline tier by
// priority, ties by name.
func (e *Evaluator) ClusterPolicies() []*v1beta1.ClusterNetworkPolicy { return e.clusterPolicies }

// NewWithClusterPolicies is New with ClusterNetworkPolicies as well: the
// Admin tier decides first, then the NetworkPolicies, then the Baseline
// tier; what no tier decides is allowed (doc.go). Every ClusterNetworkPolicy
// is validated (ValidateCluster) and must only use what the evaluator
// evaluates (nodes and domainNames peers are refused, see doc.go). With no
// ClusterNetworkPolicies it answers exactly as New.
func NewWithClusterPolicies(u Universe, policies []*networkingv1.NetworkPolicy, cnps []*v1beta1.ClusterNetworkPolicy) (*Evaluator, error) {
	return NewWithPlugins(u, policies, cnps, Plugins{})
}

// NewWithPlugins is NewWithClusterPolicies with the network plugins'
// policies as well (Plugins says how they are evaluated). Each is validated
// (ValidateCilium, ValidateCalico) and must use only what the evaluator
// evaluates (CiliumNotEvaluated, CalicoNotEvaluated are refused). With no
// plugin policies it answers exactly as NewWithClusterPolicies.
func NewWithPlugins(u Universe, policies []*networkingv1.NetworkPolicy, cnps []*v1beta1.ClusterNetworkPolicy, pl Plugins) (*Evaluator, error) {
	errs := checkPlugins(pl)
	seen := map[string]bool{}
	var list []*v1beta1.ClusterNetworkPolicy
	for _, p := range cnps {
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("clusternetworkpolicy %s: defined twice", p.Name))
		}
		seen[p.Name] = true
		for _, err := range ValidateCluster(p) {
			errs = append(errs, fmt.Errorf("clusternetworkpolicy %s: %w", p.Name, err))
		}
		for _, err := range unsupportedCluster(p) {
			errs = append(errs, fmt.Errorf("clusternetworkpolicy %s: %w", p.Name, err))
		}
		list = append(list, p)
	}
	if len(errs) > 0 {
		// The NetworkPolicies' problems are reported too.
		if _, err := newEvaluator(u, policies, nil, Plugins{}); err != nil {
			errs = append([]error{err}, errs...)
		}
		return nil, errors.Join(errs...)
	}
	return newEvaluator(u, policies, list, pl)
}

// unsupportedCluster lists what the evaluator refuses to guess about.
func unsupportedCluster(p *v1beta1.ClusterNetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	for i, r := range p.Spec.Egress {
		for j, peer := range r.To {
			path := field.NewPath("spec", "egress").Index(i).Child("to").Index(j)
			if peer.Nodes != nil {
				errs = append(errs, field.Forbidden(path.Child("nodes"), "nodes peers are not evaluated: the universe has no nodes (see package eval's doc)"))
			}
			if len(peer.DomainNames) > 0 {
				errs = append(errs, field.Forbidden(path.Child("domainNames"), "domainNames peers are not evaluated: which addresses a name resolves to is not known (see package eval's doc)"))
			}
		}
	}
	return errs
}

// sortClusterPolicies orders cnps for evaluation: Admin before Baseline,
// then by priority (lower first), then by name.
func sortClusterPolicies(cnps []*v1beta1.ClusterNetworkPolicy) []*v1beta1.ClusterNetworkPolicy {
	out := slices.Clone(cnps)
	rank := func(t v1beta1.Tier) int {
		if t == v1beta1.AdminTier {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(a, b *v1beta1.ClusterNetworkPolicy) int {
		return cmp.Or(
			cmp.Compare(rank(a.Spec.Tier), rank(b.Spec.Tier)),
			cmp.Compare(a.Spec.Priority, b.Spec.Priority),
			cmp.Compare(a.Name, b.Name))
	})
	return out
}

func cidrBlock(c v1beta1.CIDR) ipBlock {
	// Validated: it parses.
	return ipBlock{cidr: netip.MustParsePrefix(string(c)).Masked()}
}

// buildClusterPolicies compiles e.clusterPolicies (sorted) after
// buildPolicies.
func (c *compiler) buildClusterPolicies() {
	e := c.e
	e.adminIn = make([][]int32, e.nPod)
	e.adminEg = make([][]int32, e.nPod)
	e.baseIn = make([][]int32, e.nPod)
	e.baseEg = make([][]int32, e.nPod)
	e.clusterIn = newBitset(e.nEP)
	e.clusterEg = newBitset(e.nEP)
	all := newBitset(e.nEP)
	all.setRange(0, e.nPod)
	for ci, p := range e.clusterPolicies {
		cp := ccnp{name: p.Name, kind: p.Annotations[V1Alpha1KindAnnotation], tier: p.Spec.Tier, priority: p.Spec.Priority}
		if s := p.Spec.Subject.Namespaces; s != nil {
			cp.sel = c.peer(0, s, nil)
		} else {
			cp.sel = c.peer(0, &p.Spec.Subject.Pods.NamespaceSelector, &p.Spec.Subject.Pods.PodSelector)
		}
		for ri, r := range p.Spec.Ingress {
			cr := ccrule{index: ri, name: r.Name, action: r.Action, peers: newBitset(e.nEP), ports: clusterPorts(r.Protocols)}
			for _, peer := range r.From {
				cr.peers.or(c.clusterPeer(peer.Namespaces, peer.Pods, nil))
			}
			cp.inRules = append(cp.inRules, cr)
		}
		for ri, r := range p.Spec.Egress {
			cr := ccrule{index: ri, name: r.Name, action: r.Action, peers: newBitset(e.nEP), ports: clusterPorts(r.Protocols)}
			for _, peer := range r.To {
				cr.peers.or(c.clusterPeer(peer.Namespaces, peer.Pods, peer.Networks))
			}
			cp.egRules = append(cp.egRules, cr)
		}
		admin := p.Spec.Tier == v1beta1.AdminTier
		cp.sel.each(func(cl int) {
			// "CNPs with no ingress rules do not affect ingress traffic."
			if len(cp.inRules) > 0 {
				e.clusterIn.set(cl)
				if admin {
					e.adminIn[cl] = append(e.adminIn[cl], int32(ci))
				} else {
					e.baseIn[cl] = append(e.baseIn[cl], int32(ci))
				}
			}
			if len(cp.egRules) > 0 {
				e.clusterEg.set(cl)
				if admin {
					e.adminEg[cl] = append(e.adminEg[cl], int32(ci))
				} else {
					e.baseEg[cl] = append(e.baseEg[cl], int32(ci))
				}
			}
		})
		e.cnps = append(e.cnps, cp)
	}
}

// clusterPeer is the endpoints one ClusterNetworkPolicy peer matches. Unlike
// a NetworkPolicy peer there is no "own namespace": an empty
// namespaceSelector is every namespace.
func (c *compiler) clusterPeer(ns *metav1.LabelSelector, pods *v1beta1.NamespacedPod, networks []v1beta1.CIDR) bitset {
	e := c.e
	out := newBitset(e.nEP)
	switch {
	case ns != nil:
		out.or(c.peer(0, ns, nil))
	case pods != nil:
		out.or(c.peer(0, &pods.NamespaceSelector, &pods.PodSelector))
	}
	for _, n := range networks {
		bi := c.blockIdx[cidrBlock(n).key()]
		for _, cl := range e.part.blockClasses[bi] {
			out.set(e.nPod + cl)
		}
		// "cluster-internal traffic will be checked against the rule as
		// well": pods with IPs in the CIDR are matched. A whole family
		// holds the unpinned hosts (hosts.go).
		b := e.blocks[bi]
		if b.holdsHost() {
			e.setHosts(out)
		}
		for cl := range e.classes {
			for _, a := range e.classes[cl].ips {
				if b.contains(a) {
					out.set(cl)
					break
				}
			}
		}
	}
	return out
}

// clusterPorts: no protocols means every port of every protocol; a named
// port matches the destination pod's container port of that name whatever
// its protocol.
func clusterPorts(ps []v1beta1.ClusterNetworkPolicyProtocol) cports {
	if len(ps) == 0 {
		return cports{all: true}
	}
	var out cports
	var rs []PortRange
	add := func(proto corev1.Protocol, p *v1beta1.Port) {
		switch {
		case p == nil:
			rs = append(rs, PortRange{proto, MinPort, MaxPort})
		case p.Range != nil:
			rs = append(rs, PortRange{proto, p.Range.Start, p.Range.End})
		default:
			rs = append(rs, PortRange{proto, p.Number, p.Number})
		}
	}
	for _, p := range ps {
		switch {
		case p.TCP != nil:
			add(corev1.ProtocolTCP, p.TCP.DestinationPort)
		case p.UDP != nil:
			add(corev1.ProtocolUDP, p.UDP.DestinationPort)
		case p.SCTP != nil:
			add(corev1.ProtocolSCTP, p.SCTP.DestinationPort)
		case p.DestinationNamedPort != "":
			for _, proto := range Protocols {
				out.named = append(out.named, string(proto)+"/"+p.DestinationNamedPort)
			}
		}
	}
	out.num = NewPortSet(rs...)
	return out
}

// sidePorts is the ports one side allows, through every tier: egress at
// self towards peer, or ingress at self from peer. Ports resolve on the
// destination. An address is never a subject: its side is open.
func (e *Evaluator) sidePorts(egress bool, self, peer int) PortSet {
	if self >= e.nPod {
		return allPorts
	}
	dst := self
	admin, base, iso := e.adminIn[self], e.baseIn[self], e.ingressIso.has(self)
	if egress {
		dst = peer
		admin, base, iso = e.adminEg[self], e.baseEg[self], e.egressIso.has(self)
	}
	open := allPorts // not decided yet
	var allowed, passed PortSet
	walk := func(list []int32, tier bool) {
		for _, ci := range list {
			rules := e.cnps[ci].inRules
			if egress {
				rules = e.cnps[ci].egRules
			}
			for i := range rules {
				r := &rules[i]
				if open.IsEmpty() {
					return
				}
				if !r.peers.has(peer) {
					continue
				}
				ps := e.resolve(&r.ports, dst).Intersect(open)
				if ps.IsEmpty() {
					continue
				}
				switch r.action {
				case v1beta1.ClusterNetworkPolicyRuleActionAccept:
					allowed = allowed.Union(ps)
				case v1beta1.ClusterNetworkPolicyRuleActionPass:
					if tier {
						passed = passed.Union(ps)
					} else {
						allowed = allowed.Union(ps) // Baseline Pass: default allow
					}
				}
				open = open.Subtract(ps)
			}
		}
	}
	walk(admin, true)
	open = open.Union(passed)
	if iso {
		// A Calico Pass hands what the NetworkPolicies did not allow to
		// the Baseline tier.
		np, pass := e.npPorts(egress, self, peer, dst)
		allowed = allowed.Union(open.Intersect(np))
		open = open.Intersect(pass).Subtract(np)
		if open.IsEmpty() {
			return allowed
		}
	}
	walk(base, false)
	return allowed.Union(open)
}

// npPorts is the union of the ports of self's NetworkPolicy-tier rules of
// one direction that match peer, and apart the ports Calico Pass rules
// hand on.
func (e *Evaluator) npPorts(egress bool, self, peer, dst int) (out, pass PortSet) {
	pols := e.inPols[self]
	if egress {
		pols = e.egPols[self]
	}
	for _, pi := range pols {
		rules := e.pols[pi].inRules
		if egress {
			rules = e.pols[pi].egRules
		}
		for i := range rules {
			if !rules[i].peers.has(peer) {
				continue
			}
			if rules[i].pass {
				pass = pass.Union(e.resolve(&rules[i].ports, dst))
			} else {
				out = out.Union(e.resolve(&rules[i].ports, dst))
			}
		}
	}
	return out, pass
}

// clusterDecide walks one tier for one connection: the first rule that
// matches peer and port decides. It returns that rule, nil when none does.
func (e *Evaluator) clusterDecide(list []int32, egress bool, peer, dst int, proto corev1.Protocol, port int32) *ClusterRuleRef {
	for _, ci := range list {
		rules := e.cnps[ci].inRules
		if egress {
			rules = e.cnps[ci].egRules
		}
		for i := range rules {
			r := &rules[i]
			if r.peers.has(peer) && e.resolve(&r.ports, dst).Contains(proto, port) {
				return e.clusterRef(int(ci), egress, r)
			}
		}
	}
	return nil
}

// ValidateCluster returns what the API server, with the v0.3.0 CRD
// (standard and experimental channels), would reject p for, with field
// paths. It does not check what the evaluator refuses to evaluate (nodes
// and domainNames peers; NewWithClusterPolicies does).
func ValidateCluster(p *v1beta1.ClusterNetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(p.Name) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), p.Name, msg))
	}
	spec := field.NewPath("spec")
	switch p.Spec.Tier {
	case v1beta1.AdminTier, v1beta1.BaselineTier:
	case "":
		errs = append(errs, field.Required(spec.Child("tier"), ""))
	default:
		errs = append(errs, field.NotSupported(spec.Child("tier"), p.Spec.Tier, []string{string(v1beta1.AdminTier), string(v1beta1.BaselineTier)}))
	}
	if p.Spec.Priority < 0 || p.Spec.Priority > 1000 {
		errs = append(errs, field.Invalid(spec.Child("priority"), p.Spec.Priority, "must be between 0 and 1000"))
	}
	subj := spec.Child("subject")
	errs = append(errs, validateNamespacesOrPods(p.Spec.Subject.Namespaces, p.Spec.Subject.Pods, subj)...)
	if n := len(p.Spec.Ingress); n > 25 {
		errs = append(errs, field.TooMany(spec.Child("ingress"), n, 25))
	}
	if n := len(p.Spec.Egress); n > 25 {
		errs = append(errs, field.TooMany(spec.Child("egress"), n, 25))
	}
	for i, r := range p.Spec.Ingress {
		path := spec.Child("ingress").Index(i)
		errs = append(errs, validateClusterRule(path, "from", r.Name, r.Action, len(r.From), r.Protocols)...)
		for j, peer := range r.From {
			pp := path.Child("from").Index(j)
			errs = append(errs, validateNamespacesOrPods(peer.Namespaces, peer.Pods, pp)...)
		}
	}
	for i, r := range p.Spec.Egress {
		path := spec.Child("egress").Index(i)
		errs = append(errs, validateClusterRule(path, "to", r.Name, r.Action, len(r.To), r.Protocols)...)
		named := false
		for _, pr := range r.Protocols {
			named = named || pr.DestinationNamedPort != ""
		}
		for j, peer := range r.To {
			pp := path.Child("to").Index(j)
			set := 0
			if peer.Namespaces != nil {
				set++
				errs = append(errs, validateSelector(peer.Namespaces, pp.Child("namespaces"))...)
			}
			if peer.Pods != nil {
				set++
				errs = append(errs, validateNamespacedPod(peer.Pods, pp.Child("pods"))...)
			}
			if peer.Nodes != nil {
				set++
				errs = append(errs, validateSelector(peer.Nodes, pp.Child("nodes"))...)
			}
			if peer.Networks != nil {
				set++
				np := pp.Child("networks")
				if n := len(peer.Networks); n < 1 || n > 25 {
					errs = append(errs, field.Invalid(np, n, "must have 1 to 25 items"))
				}
				for k, c := range peer.Networks {
					if pf, err := netip.ParsePrefix(string(c)); err != nil || pf.Masked() != pf || pf.Addr().Is4In6() {
						errs = append(errs, field.Invalid(np.Index(k), string(c), "Invalid CIDR format provided"))
					}
				}
			}
			if peer.DomainNames != nil {
				set++
				dp := pp.Child("domainNames")
				if n := len(peer.DomainNames); n < 1 || n > 25 {
					errs = append(errs, field.Invalid(dp, n, "must have 1 to 25 items"))
				}
				if r.Action != v1beta1.ClusterNetworkPolicyRuleActionAccept {
					errs = append(errs, field.Invalid(dp, "", "domainNames is only supported for Accept rules"))
				}
			}
			if set != 1 {
				errs = append(errs, field.Invalid(pp, "", "exactly one of namespaces, pods, nodes, networks and domainNames must be set"))
			}
			if named && (peer.Networks != nil || peer.Nodes != nil || peer.DomainNames != nil) {
				errs = append(errs, field.Invalid(pp, "", "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames"))
			}
		}
	}
	return errs
}

// validateNamespacesOrPods checks a subject or an ingress peer: exactly one
// of namespaces and pods, each a valid selector.
func validateNamespacesOrPods(namespaces *metav1.LabelSelector, pods *v1beta1.NamespacedPod, path *field.Path) field.ErrorList {
	switch {
	case namespaces != nil && pods != nil:
		return field.ErrorList{field.Invalid(path, "", "exactly one of namespaces and pods must be set")}
	case namespaces != nil:
		return validateSelector(namespaces, path.Child("namespaces"))
	case pods != nil:
		return validateNamespacedPod(pods, path.Child("pods"))
	}
	return field.ErrorList{field.Required(path, "exactly one of namespaces and pods must be set")}
}

func validateNamespacedPod(p *v1beta1.NamespacedPod, path *field.Path) field.ErrorList {
	errs := validateSelector(&p.NamespaceSelector, path.Child("namespaceSelector"))
	return append(errs, validateSelector(&p.PodSelector, path.Child("podSelector"))...)
}

func validateClusterRule(path *field.Path, peerField, name string, action v1beta1.ClusterNetworkPolicyRuleAction, peers int, protos []v1beta1.ClusterNetworkPolicyProtocol) field.ErrorList {
	var errs field.ErrorList
	if len(name) > 100 {
		errs = append(errs, field.TooLong(path.Child("name"), name, 100))
	}
	switch action {
	case v1beta1.ClusterNetworkPolicyRuleActionAccept, v1beta1.ClusterNetworkPolicyRuleActionDeny, v1beta1.ClusterNetworkPolicyRuleActionPass:
	case "":
		errs = append(errs, field.Required(path.Child("action"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("action"), action, []string{"Accept", "Deny", "Pass"}))
	}
	if peers < 1 || peers > 25 {
		errs = append(errs, field.Invalid(path.Child(peerField), peers, "must have 1 to 25 items"))
	}
	if protos != nil && (len(protos) < 1 || len(protos) > 25) {
		errs = append(errs, field.Invalid(path.Child("protocols"), len(protos), "must have 1 to 25 items"))
	}
	for i, p := range protos {
		pp := path.Child("protocols").Index(i)
		set := 0
		port := func(name string, dp *v1beta1.Port) {
			set++
			if dp == nil {
				errs = append(errs, field.Required(pp.Child(name, "destinationPort"), ""))
				return
			}
			at := pp.Child(name, "destinationPort")
			switch {
			case dp.Range != nil && dp.Number != 0:
				errs = append(errs, field.Invalid(at, "", "exactly one of number and range must be set"))
			case dp.Range != nil:
				if dp.Range.Start < 1 || dp.Range.Start > 65535 {
					errs = append(errs, field.Invalid(at.Child("range", "start"), dp.Range.Start, "must be between 1 and 65535"))
				}
				if dp.Range.End < 1 || dp.Range.End > 65535 {
					errs = append(errs, field.Invalid(at.Child("range", "end"), dp.Range.End, "must be between 1 and 65535"))
				}
				if dp.Range.Start >= dp.Range.End {
					errs = append(errs, field.Invalid(at.Child("range"), "", "Start port must be less than End port"))
				}
			case dp.Number < 1 || dp.Number > 65535:
				errs = append(errs, field.Invalid(at.Child("number"), dp.Number, "must be between 1 and 65535"))
			}
		}
		if p.TCP != nil {
			port("tcp", p.TCP.DestinationPort)
		}
		if p.UDP != nil {
			port("udp", p.UDP.DestinationPort)
		}
		if p.SCTP != nil {
			port("sctp", p.SCTP.DestinationPort)
		}
		if p.DestinationNamedPort != "" {
			set++
			for _, msg := range validation.IsValidPortName(p.DestinationNamedPort) {
				errs = append(errs, field.Invalid(pp.Child("destinationNamedPort"), p.DestinationNamedPort, msg))
			}
		}
		if set != 1 {
			errs = append(errs, field.Invalid(pp, "", "exactly one of tcp, udp, sctp and destinationNamedPort must be set"))
		}
	}
	return errs
}
