package eval

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Plugins are the network plugins' policies evaluated with the
// NetworkPolicies (NewWithPlugins). They are translated into what the
// evaluator computes over, so there is one engine:
//
//   - a CiliumNetworkPolicy is, per direction with rules, a policy of the
//     NetworkPolicy tier whose rules are allows (union with the
//     NetworkPolicies selecting the same pod). It isolates that direction
//     unless enableDefaultDeny says false for it; a policy that does not
//     isolate adds its allows to pods something else isolates, and changes
//     nothing for the others. toEndpoints are pods (the policy's namespace
//     unless the selector names k8s:io.kubernetes.pod.namespace), toCIDR and
//     toCIDRSet address classes (never pods), toFQDNs host classes only.
//     toPorts.rules.dns is L7 (which names the DNS proxy answers) and
//     changes no L3/L4 verdict.
//   - a Calico NetworkPolicy (projectcalico.org/v3) of the default tier
//     with selector all() and order above 1000 comes after the Kubernetes
//     NetworkPolicies (Calico orders them at 1000). Its rules have no match
//     criteria: Log continues, the first Allow or Deny decides what the
//     NetworkPolicies did not allow, Pass hands it to the next tier (the
//     Baseline ClusterNetworkPolicies, or allowed). A policy that applies to
//     a pod in a direction (types) isolates it there: at the end of the
//     tier Calico denies what no policy of the tier allowed.
//
// Anything else is refused by NewWithPlugins, and decoded objects that use
// it are listed in PluginObjects.NotEvaluated with the field named.
type Plugins struct {
	Cilium []*CiliumNetworkPolicy
	Calico []*CalicoNetworkPolicy
}

// Len is how many objects p holds.
func (p Plugins) Len() int { return len(p.Cilium) + len(p.Calico) }

// Kinds of PolicyRef.Kind.
const (
	KindCilium = "CiliumNetworkPolicy"
	KindCalico = "NetworkPolicy.projectcalico.org"
)

// peerSel is a pod selection: pods matching podSel in the namespaces nsSel
// matches, or in the policy's own namespace when nsSel is nil.
type peerSel struct{ nsSel, podSel *metav1.LabelSelector }

// pluginRule is one allow rule of a plugin policy, parsed.
type pluginRule struct {
	index     int
	endpoints []peerSel
	blocks    []ipBlock
	fqdns     []string
	ports     cports
}

type ciliumPolicy struct {
	ref          PolicyRef
	sel          *metav1.LabelSelector // pods of the namespace
	isoIn, isoEg bool
	ingress      []pluginRule
	egress       []pluginRule
}

type calicoPolicy struct {
	ref   PolicyRef
	order float64
	in    bool // types has Ingress
	eg    bool
	// inRule and egRule index the first rule of each direction that is not
	// Log (-1 for none); inAction/egAction are its action.
	inRule, egRule     int
	inAction, egAction string
}

var (
	fqdnName    = regexp.MustCompile(`^([-a-zA-Z0-9_]+[.]?)+$`)
	fqdnPattern = regexp.MustCompile(`^([-a-zA-Z0-9_*]+[.]?)+$`)
	ciliumPort  = regexp.MustCompile(`^((6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})|([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*)$`)
)

// ValidateCilium returns what the cilium.io/v2 CRD would reject p for.
func ValidateCilium(p *CiliumNetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	if p.Spec == nil {
		if !rawSet(p.Specs) {
			errs = append(errs, field.Required(field.NewPath("spec"), "spec or specs is required"))
		}
		return errs
	}
	spec := field.NewPath("spec")
	if p.Spec.EndpointSelector == nil && !rawSet(p.Spec.NodeSelector) {
		errs = append(errs, field.Required(spec.Child("endpointSelector"), "one of endpointSelector and nodeSelector is required"))
	}
	fqdn := func(path *field.Path, f CiliumFQDN) {
		switch {
		case (f.MatchName == "") == (f.MatchPattern == ""):
			errs = append(errs, field.Invalid(path, "", "exactly one of matchName and matchPattern must be set"))
		case f.MatchName != "" && (len(f.MatchName) > 255 || !fqdnName.MatchString(f.MatchName)):
			errs = append(errs, field.Invalid(path.Child("matchName"), f.MatchName, "must be a DNS name"))
		case f.MatchPattern != "" && (len(f.MatchPattern) > 255 || !fqdnPattern.MatchString(f.MatchPattern)):
			errs = append(errs, field.Invalid(path.Child("matchPattern"), f.MatchPattern, "must be a DNS name pattern"))
		}
	}
	cidr := func(path *field.Path, s string) {
		if _, err := netip.ParsePrefix(s); err != nil {
			if _, err := netip.ParseAddr(s); err != nil {
				errs = append(errs, field.Invalid(path, s, "must be a CIDR"))
			}
		}
	}
	cidrSet := func(path *field.Path, rs []CiliumCIDRRule) {
		for i, r := range rs {
			n := 0
			if r.CIDR != "" {
				n++
				cidr(path.Index(i).Child("cidr"), r.CIDR)
			}
			if rawSet(r.CIDRGroupRef) {
				n++
			}
			if rawSet(r.CIDRGroupSelector) {
				n++
			}
			if n != 1 {
				errs = append(errs, field.Invalid(path.Index(i), "", "exactly one of cidr, cidrGroupRef and cidrGroupSelector must be set"))
			}
			for j, x := range r.Except {
				cidr(path.Index(i).Child("except").Index(j), x)
			}
		}
	}
	ports := func(path *field.Path, prs []CiliumPortRule) {
		for i, pr := range prs {
			for j, pt := range pr.Ports {
				at := path.Index(i).Child("ports").Index(j)
				if !ciliumPort.MatchString(pt.Port) {
					errs = append(errs, field.Invalid(at.Child("port"), pt.Port, "must be a port number or name"))
				}
				if pt.EndPort < 0 || pt.EndPort > 65535 {
					errs = append(errs, field.Invalid(at.Child("endPort"), pt.EndPort, "must be between 0 and 65535"))
				}
				switch pt.Protocol {
				case "", "TCP", "UDP", "SCTP", "ANY":
				default:
					errs = append(errs, field.NotSupported(at.Child("protocol"), pt.Protocol, []string{"TCP", "UDP", "SCTP", "ANY"}))
				}
			}
			if pr.Rules != nil {
				for j, f := range pr.Rules.DNS {
					fqdn(path.Index(i).Child("rules", "dns").Index(j), f)
				}
			}
		}
	}
	for i, r := range p.Spec.Egress {
		at := spec.Child("egress").Index(i)
		for j, s := range r.ToCIDR {
			cidr(at.Child("toCIDR").Index(j), s)
		}
		cidrSet(at.Child("toCIDRSet"), r.ToCIDRSet)
		for j, f := range r.ToFQDNs {
			fqdn(at.Child("toFQDNs").Index(j), f)
		}
		ports(at.Child("toPorts"), r.ToPorts)
		for j := range r.ToEndpoints {
			errs = append(errs, validateCiliumSelector(&r.ToEndpoints[j], at.Child("toEndpoints").Index(j))...)
		}
	}
	for i, r := range p.Spec.Ingress {
		at := spec.Child("ingress").Index(i)
		for j, s := range r.FromCIDR {
			cidr(at.Child("fromCIDR").Index(j), s)
		}
		cidrSet(at.Child("fromCIDRSet"), r.FromCIDRSet)
		ports(at.Child("toPorts"), r.ToPorts)
		for j := range r.FromEndpoints {
			errs = append(errs, validateCiliumSelector(&r.FromEndpoints[j], at.Child("fromEndpoints").Index(j))...)
		}
	}
	if s := p.Spec.EndpointSelector; s != nil {
		errs = append(errs, validateCiliumSelector(s, spec.Child("endpointSelector"))...)
	}
	return errs
}

// validateCiliumSelector checks a Cilium selector as the label selector
// it stands for (keys carry a source prefix such as k8s:, which a
// Kubernetes label key cannot; a source netdep does not evaluate is
// CiliumNotEvaluated's).
func validateCiliumSelector(s *metav1.LabelSelector, path *field.Path) field.ErrorList {
	sel, why := ciliumSelector(s)
	if why != "" {
		return nil
	}
	errs := validateSelector(sel.podSel, path)
	if sel.nsSel != nil {
		errs = append(errs, validateSelector(sel.nsSel, path)...)
	}
	return errs
}

// notEvaluated is a field outside what the evaluator evaluates.
func notEvaluated(path *field.Path, why string) *field.Error {
	return field.Forbidden(path, why+" is not evaluated")
}

// CiliumNotEvaluated lists the fields of p (valid for the CRD) outside what
// the evaluator evaluates; an object with any is not evaluated.
func CiliumNotEvaluated(p *CiliumNetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	if rawSet(p.Specs) {
		errs = append(errs, notEvaluated(field.NewPath("specs"), "a list of rules"))
	}
	if p.Spec == nil {
		return errs
	}
	spec := field.NewPath("spec")
	raw := func(path *field.Path, r any, what string) {
		if m, ok := r.(interface{ MarshalJSON() ([]byte, error) }); ok {
			if b, _ := m.MarshalJSON(); rawSet(b) {
				errs = append(errs, notEvaluated(path, what))
			}
		}
	}
	raw(spec.Child("nodeSelector"), p.Spec.NodeSelector, "a node policy")
	raw(spec.Child("ingressDeny"), p.Spec.IngressDeny, "a deny rule")
	raw(spec.Child("egressDeny"), p.Spec.EgressDeny, "a deny rule")
	if s := p.Spec.EndpointSelector; s != nil {
		if _, err := ciliumSelector(s); err != "" {
			errs = append(errs, notEvaluated(spec.Child("endpointSelector"), err))
		} else if ns, _ := ciliumSelector(s); ns.nsSel != nil {
			errs = append(errs, notEvaluated(spec.Child("endpointSelector"), "a namespace label in a namespaced policy's endpointSelector"))
		}
	}
	sels := func(path *field.Path, ss []metav1.LabelSelector) {
		for j := range ss {
			if _, err := ciliumSelector(&ss[j]); err != "" {
				errs = append(errs, notEvaluated(path.Index(j), err))
			}
		}
	}
	fqdns := func(path *field.Path, fs []CiliumFQDN) {
		for j, f := range fs {
			if f.MatchPattern != "" && !simplePattern(f.MatchPattern) {
				errs = append(errs, notEvaluated(path.Index(j).Child("matchPattern"), "a pattern other than NAME, *.NAME and *"))
			}
		}
	}
	ports := func(path *field.Path, prs []CiliumPortRule) {
		for i, pr := range prs {
			at := path.Index(i)
			if len(pr.Ports) == 0 {
				errs = append(errs, notEvaluated(at.Child("ports"), "a toPorts entry without ports"))
			}
			raw(at.Child("listener"), pr.Listener, "an L7 listener")
			raw(at.Child("originatingTLS"), pr.OriginatingTLS, "TLS interception")
			raw(at.Child("terminatingTLS"), pr.TerminatingTLS, "TLS interception")
			raw(at.Child("serverNames"), pr.ServerNames, "a TLS server name match")
			if pr.Rules != nil {
				raw(at.Child("rules", "http"), pr.Rules.HTTP, "an L7 HTTP rule")
				raw(at.Child("rules", "kafka"), pr.Rules.Kafka, "an L7 Kafka rule")
				raw(at.Child("rules", "l7"), pr.Rules.L7, "an L7 rule")
				raw(at.Child("rules", "l7proto"), pr.Rules.L7Proto, "an L7 parser")
				fqdns(at.Child("rules", "dns"), pr.Rules.DNS)
			}
		}
	}
	cidrSet := func(path *field.Path, rs []CiliumCIDRRule) {
		for i, r := range rs {
			raw(path.Index(i).Child("cidrGroupRef"), r.CIDRGroupRef, "a CiliumCIDRGroup")
			raw(path.Index(i).Child("cidrGroupSelector"), r.CIDRGroupSelector, "a CiliumCIDRGroup")
		}
	}
	l3 := func(path *field.Path, n int, ports int) {
		switch {
		case n > 1:
			errs = append(errs, notEvaluated(path, "a rule with more than one kind of peer"))
		case n == 0 && ports > 0:
			errs = append(errs, notEvaluated(path.Child("toPorts"), "a rule with ports and no peer (every peer)"))
		}
	}
	count := func(ns ...int) int {
		n := 0
		for _, x := range ns {
			if x > 0 {
				n++
			}
		}
		return n
	}
	for i, r := range p.Spec.Egress {
		at := spec.Child("egress").Index(i)
		raw(at.Child("toEntities"), r.ToEntities, "an entity peer")
		raw(at.Child("toServices"), r.ToServices, "a service peer")
		raw(at.Child("toGroups"), r.ToGroups, "a cloud group peer")
		raw(at.Child("toNodes"), r.ToNodes, "a node peer")
		raw(at.Child("toRequires"), r.ToRequires, "toRequires")
		raw(at.Child("icmps"), r.ICMPs, "an ICMP rule")
		raw(at.Child("authentication"), r.Authentication, "mutual authentication")
		sels(at.Child("toEndpoints"), r.ToEndpoints)
		cidrSet(at.Child("toCIDRSet"), r.ToCIDRSet)
		fqdns(at.Child("toFQDNs"), r.ToFQDNs)
		ports(at.Child("toPorts"), r.ToPorts)
		l3(at, count(len(r.ToEndpoints), len(r.ToCIDR)+len(r.ToCIDRSet), len(r.ToFQDNs)), len(r.ToPorts))
	}
	for i, r := range p.Spec.Ingress {
		at := spec.Child("ingress").Index(i)
		raw(at.Child("fromEntities"), r.FromEntities, "an entity peer")
		raw(at.Child("fromGroups"), r.FromGroups, "a cloud group peer")
		raw(at.Child("fromNodes"), r.FromNodes, "a node peer")
		raw(at.Child("fromRequires"), r.FromRequires, "fromRequires")
		raw(at.Child("icmps"), r.ICMPs, "an ICMP rule")
		raw(at.Child("authentication"), r.Authentication, "mutual authentication")
		sels(at.Child("fromEndpoints"), r.FromEndpoints)
		cidrSet(at.Child("fromCIDRSet"), r.FromCIDRSet)
		ports(at.Child("toPorts"), r.ToPorts)
		l3(at, count(len(r.FromEndpoints), len(r.FromCIDR)+len(r.FromCIDRSet)), len(r.ToPorts))
	}
	return errs
}

// simplePattern reports whether a matchPattern is NAME, *.NAME or *.
func simplePattern(p string) bool {
	p = NormalizeHost(p)
	if p == "*" {
		return true
	}
	return !strings.Contains(strings.TrimPrefix(p, "*."), "*")
}

const (
	ciliumNamespaceKey   = "io.kubernetes.pod.namespace"
	ciliumNamespaceLabel = "io.cilium.k8s.namespace.labels."
)

// ciliumSelector translates a Cilium endpoint selector into a pod
// selection: the k8s:io.kubernetes.pod.namespace key selects the namespace
// by name, io.cilium.k8s.namespace.labels.KEY by its labels, other keys are
// pod labels; k8s: and any: prefixes are the label's source. Another
// source (reserved:, ...) is a reason it is not evaluated.
func ciliumSelector(s *metav1.LabelSelector) (peerSel, string) {
	var ns, pod metav1.LabelSelector
	nsSet := false
	key := func(k string) (string, bool, string) {
		if src, rest, ok := strings.Cut(k, ":"); ok {
			if src != "k8s" && src != "any" {
				return "", false, "a label of source " + strconv.Quote(src)
			}
			k = rest
		}
		switch {
		case k == ciliumNamespaceKey:
			return NamespaceNameLabel, true, ""
		case strings.HasPrefix(k, ciliumNamespaceLabel):
			return strings.TrimPrefix(k, ciliumNamespaceLabel), true, ""
		case strings.HasPrefix(k, "io.cilium.") || strings.HasPrefix(k, "io.kubernetes.pod."):
			return "", false, "the Cilium label " + strconv.Quote(k)
		}
		return k, false, ""
	}
	for k, v := range s.MatchLabels {
		kk, isNS, err := key(k)
		if err != "" {
			return peerSel{}, err
		}
		to := &pod
		if isNS {
			to, nsSet = &ns, true
		}
		if to.MatchLabels == nil {
			to.MatchLabels = map[string]string{}
		}
		to.MatchLabels[kk] = v
	}
	for _, r := range s.MatchExpressions {
		kk, isNS, err := key(r.Key)
		if err != "" {
			return peerSel{}, err
		}
		r.Key = kk
		if isNS {
			ns.MatchExpressions, nsSet = append(ns.MatchExpressions, r), true
		} else {
			pod.MatchExpressions = append(pod.MatchExpressions, r)
		}
	}
	slices.SortFunc(pod.MatchExpressions, func(a, b metav1.LabelSelectorRequirement) int { return cmp.Compare(a.Key, b.Key) })
	out := peerSel{podSel: &pod}
	if nsSet {
		out.nsSel = &ns
	}
	return out, ""
}

// ciliumPorts compiles toPorts: none is every port; a port without
// protocol (or ANY) is every protocol; port 0 is every port; a name waits
// for the destination pod.
func ciliumPorts(prs []CiliumPortRule) cports {
	if len(prs) == 0 {
		return cports{all: true}
	}
	var out cports
	var rs []PortRange
	for _, pr := range prs {
		for _, p := range pr.Ports {
			protos := Protocols
			if p.Protocol != "" && p.Protocol != "ANY" {
				protos = []corev1.Protocol{corev1.Protocol(p.Protocol)}
			}
			n, err := strconv.Atoi(p.Port)
			for _, proto := range protos {
				switch {
				case err != nil:
					out.named = append(out.named, string(proto)+"/"+p.Port)
				case n == 0:
					rs = append(rs, PortRange{proto, MinPort, MaxPort})
				case p.EndPort > int32(n):
					rs = append(rs, PortRange{proto, int32(n), p.EndPort})
				default:
					rs = append(rs, PortRange{proto, int32(n), int32(n)})
				}
			}
		}
	}
	out.num = NewPortSet(rs...)
	return out
}

func ciliumBlock(cidr string, except []string) ipBlock {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		a := netip.MustParseAddr(cidr) // validated
		p = netip.PrefixFrom(a, a.BitLen())
	}
	b := ipBlock{cidr: p.Masked()}
	for _, x := range except {
		if q, err := netip.ParsePrefix(x); err == nil {
			b.except = append(b.except, q.Masked())
		} else {
			a := netip.MustParseAddr(x)
			b.except = append(b.except, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	slices.SortFunc(b.except, func(x, y netip.Prefix) int {
		return cmp.Or(x.Addr().Compare(y.Addr()), x.Bits()-y.Bits())
	})
	return b
}

// parseCilium is p, valid and evaluated entirely, as the evaluator reads it.
func parseCilium(p *CiliumNetworkPolicy) ciliumPolicy {
	ns := p.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	out := ciliumPolicy{ref: PolicyRef{Namespace: ns, Name: p.Name, Kind: KindCilium}}
	sel, _ := ciliumSelector(p.Spec.EndpointSelector)
	out.sel = sel.podSel
	dd := p.Spec.EnableDefaultDeny
	out.isoIn = len(p.Spec.Ingress) > 0 && (dd == nil || dd.Ingress == nil || *dd.Ingress)
	out.isoEg = len(p.Spec.Egress) > 0 && (dd == nil || dd.Egress == nil || *dd.Egress)
	for i, r := range p.Spec.Egress {
		pr := pluginRule{index: i, ports: ciliumPorts(r.ToPorts)}
		for j := range r.ToEndpoints {
			s, _ := ciliumSelector(&r.ToEndpoints[j])
			pr.endpoints = append(pr.endpoints, s)
		}
		for _, c := range r.ToCIDR {
			pr.blocks = append(pr.blocks, ciliumBlock(c, nil))
		}
		for _, c := range r.ToCIDRSet {
			pr.blocks = append(pr.blocks, ciliumBlock(c.CIDR, c.Except))
		}
		for _, f := range r.ToFQDNs {
			h := f.MatchName
			if h == "" {
				h = f.MatchPattern
			}
			pr.fqdns = append(pr.fqdns, NormalizeHost(h))
		}
		out.egress = append(out.egress, pr)
	}
	for i, r := range p.Spec.Ingress {
		pr := pluginRule{index: i, ports: ciliumPorts(r.ToPorts)}
		for j := range r.FromEndpoints {
			s, _ := ciliumSelector(&r.FromEndpoints[j])
			pr.endpoints = append(pr.endpoints, s)
		}
		for _, c := range r.FromCIDR {
			pr.blocks = append(pr.blocks, ciliumBlock(c, nil))
		}
		for _, c := range r.FromCIDRSet {
			pr.blocks = append(pr.blocks, ciliumBlock(c.CIDR, c.Except))
		}
		out.ingress = append(out.ingress, pr)
	}
	return out
}

// Calico actions.
const (
	CalicoAllow = "Allow"
	CalicoDeny  = "Deny"
	CalicoLog   = "Log"
	CalicoPass  = "Pass"
)

// ValidateCalico returns what the projectcalico.org/v3 API would reject p
// for.
func ValidateCalico(p *CalicoNetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if len(p.Spec.Types) > 2 {
		errs = append(errs, field.TooMany(spec.Child("types"), len(p.Spec.Types), 2))
	}
	seen := map[string]bool{}
	for i, t := range p.Spec.Types {
		if t != "Ingress" && t != "Egress" {
			errs = append(errs, field.NotSupported(spec.Child("types").Index(i), t, []string{"Ingress", "Egress"}))
		} else if seen[t] {
			errs = append(errs, field.Duplicate(spec.Child("types").Index(i), t))
		}
		seen[t] = true
	}
	rules := func(dir string, rs []CalicoRule) {
		for i, r := range rs {
			switch r.Action {
			case CalicoAllow, CalicoDeny, CalicoLog, CalicoPass:
			case "":
				errs = append(errs, field.Required(spec.Child(dir).Index(i).Child("action"), ""))
			default:
				errs = append(errs, field.NotSupported(spec.Child(dir).Index(i).Child("action"), r.Action, []string{CalicoAllow, CalicoDeny, CalicoLog, CalicoPass}))
			}
		}
	}
	rules("ingress", p.Spec.Ingress)
	rules("egress", p.Spec.Egress)
	if p.Kind == "StagedNetworkPolicy" {
		switch p.Spec.StagedAction {
		case "", "Set", "Delete", "Learn", "Ignore":
		default:
			errs = append(errs, field.NotSupported(spec.Child("stagedAction"), p.Spec.StagedAction, []string{"Set", "Delete", "Learn", "Ignore"}))
		}
	} else if p.Spec.StagedAction != "" {
		errs = append(errs, field.Forbidden(spec.Child("stagedAction"), "only a StagedNetworkPolicy has one"))
	}
	return errs
}

// CalicoNotEvaluated lists the fields of p outside what the evaluator
// evaluates (see Plugins).
func CalicoNotEvaluated(p *CalicoNetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if t := p.Spec.Tier; t != "" && t != "default" {
		errs = append(errs, notEvaluated(spec.Child("tier"), "a tier other than default"))
	}
	if strings.TrimSpace(p.Spec.Selector) != "all()" {
		errs = append(errs, notEvaluated(spec.Child("selector"), "a selector other than all()"))
	}
	if o := p.Spec.Order; o != nil && *o <= 1000 {
		errs = append(errs, notEvaluated(spec.Child("order"), "an order at or before the Kubernetes NetworkPolicies' (1000)"))
	}
	if rawSet(p.Spec.ServiceAccountSelector) {
		errs = append(errs, notEvaluated(spec.Child("serviceAccountSelector"), "a service account selector"))
	}
	if a := p.Spec.StagedAction; a != "" && a != "Set" {
		errs = append(errs, notEvaluated(spec.Child("stagedAction"), "a staged action other than Set"))
	}
	rules := func(dir string, rs []CalicoRule) {
		for i, r := range rs {
			at := spec.Child(dir).Index(i)
			for _, f := range []struct {
				name string
				raw  []byte
			}{{"protocol", r.Protocol}, {"notProtocol", r.NotProtocol}, {"icmp", r.ICMP}, {"notICMP", r.NotICMP},
				{"ipVersion", r.IPVersion}, {"source", r.Source}, {"destination", r.Destination}, {"http", r.HTTP}} {
				if rawSet(f.raw) && string(f.raw) != "{}" {
					errs = append(errs, notEvaluated(at.Child(f.name), "a rule with match criteria"))
				}
			}
		}
	}
	rules("ingress", p.Spec.Ingress)
	rules("egress", p.Spec.Egress)
	return errs
}

// CalicoTypes is spec.types as Calico defaults it: the directions the
// policy applies to (diff splits a policy by direction with it).
func CalicoTypes(s *CalicoSpec) (in, eg bool) { return calicoTypes(s) }

// calicoTypes is spec.types as Calico defaults it.
func calicoTypes(s *CalicoSpec) (in, eg bool) {
	if len(s.Types) == 0 {
		if len(s.Egress) > 0 {
			return len(s.Ingress) > 0, true
		}
		return true, false
	}
	for _, t := range s.Types {
		in = in || t == "Ingress"
		eg = eg || t == "Egress"
	}
	return in, eg
}

func parseCalico(p *CalicoNetworkPolicy) calicoPolicy {
	ns := p.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	out := calicoPolicy{ref: PolicyRef{Namespace: ns, Name: p.Name, Kind: KindCalico}, order: math.Inf(1), inRule: -1, egRule: -1}
	if p.Spec.Order != nil {
		out.order = *p.Spec.Order
	}
	out.in, out.eg = calicoTypes(&p.Spec)
	first := func(rs []CalicoRule) (int, string) {
		for i, r := range rs {
			if r.Action != CalicoLog {
				return i, r.Action
			}
		}
		return -1, ""
	}
	out.inRule, out.inAction = first(p.Spec.Ingress)
	out.egRule, out.egAction = first(p.Spec.Egress)
	return out
}

// checkPlugins validates pl and refuses what is not evaluated, each problem
// prefixed by the object.
func checkPlugins(pl Plugins) []error {
	var errs []error
	seen := map[string]bool{}
	for _, p := range pl.Cilium {
		what := "ciliumnetworkpolicy " + p.Namespace + "/" + p.Name
		if seen[what] {
			errs = append(errs, fmt.Errorf("%s: defined twice", what))
		}
		seen[what] = true
		for _, err := range append(ValidateCilium(p), CiliumNotEvaluated(p)...) {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	for _, p := range pl.Calico {
		what := "networkpolicy.projectcalico.org " + p.Namespace + "/" + p.Name
		if seen[what] {
			errs = append(errs, fmt.Errorf("%s: defined twice", what))
		}
		seen[what] = true
		for _, err := range append(ValidateCalico(p), CalicoNotEvaluated(p)...) {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	return errs
}
