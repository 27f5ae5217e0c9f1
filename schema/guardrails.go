package schema

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Cluster guardrails: what the platform enforces for every managed namespace
// with ClusterNetworkPolicy (policy.networking.k8s.io/v1beta1), set in the
// project file under cluster.guardrails and environments.<env>.guardrails.
// An environment's key replaces the cluster's key of the same name (a list
// as a whole), as dns and podCIDRs do.

// DefaultDeny is where the default deny of every managed namespace lives.
type DefaultDeny string

const (
	// DenyNetworkPolicy is a default-deny NetworkPolicy per namespace (the
	// default): works with every NetworkPolicy plugin.
	DenyNetworkPolicy DefaultDeny = "networkPolicy"
	// DenyBaseline is one Baseline-tier ClusterNetworkPolicy per isolated
	// direction, selecting every managed namespace by name.
	DenyBaseline DefaultDeny = "baseline"
	// DenyBoth emits both.
	DenyBoth DefaultDeny = "both"
)

// NetworkPolicy says whether per-namespace default-deny NetworkPolicies are
// emitted.
func (d DefaultDeny) NetworkPolicy() bool { return d != DenyBaseline }

// Baseline says whether Baseline-tier deny ClusterNetworkPolicies are
// emitted.
func (d DefaultDeny) Baseline() bool { return d == DenyBaseline || d == DenyBoth }

// ClusterAPI is the API guardrails are written in: the one the cluster's
// network plugin enforces.
type ClusterAPI string

const (
	// APIV1beta1 is ClusterNetworkPolicy (policy.networking.k8s.io/v1beta1),
	// the default.
	APIV1beta1 ClusterAPI = "v1beta1"
	// APIV1alpha1 is AdminNetworkPolicy and the one
	// BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1), for
	// plugins that enforce only the older API (kube-network-policies
	// v0.8.0). The BaselineAdminNetworkPolicy has one subject, so the
	// Baseline default deny covers the namespaces isolated both ways only;
	// a namespace isolated one way keeps its default-deny NetworkPolicy.
	APIV1alpha1 ClusterAPI = "v1alpha1"
)

// GuardrailKind says what a guardrail is for.
type GuardrailKind string

// The kinds of Admin-tier guardrails.
const (
	GuardrailDNS        GuardrailKind = "dns"
	GuardrailMonitoring GuardrailKind = "monitoring"
	GuardrailIsolate    GuardrailKind = "isolateNamespaces"
	GuardrailDenyCIDRs  GuardrailKind = "denyCIDRs"
)

// Default priorities: Accepts before Denies, each kind in its own band, the
// entries of a list in written order.
const (
	PriorityDNS        = 10
	PriorityMonitoring = 100
	PriorityIsolate    = 500
	PriorityDenyCIDRs  = 700
	// PriorityBaseline is the Baseline-tier default deny: last of its tier.
	PriorityBaseline = 1000
)

// Guardrails are one environment's cluster guardrails.
type Guardrails struct {
	DefaultDeny DefaultDeny
	// DefaultDenySource is where defaultDeny was set; zero when defaulted.
	DefaultDenySource Pos
	// API is the API the guardrails are written in (APIV1beta1 unless
	// set); APISource is where it was set.
	API       ClusterAPI
	APISource Pos
	// Admin are the Admin-tier rules sorted by (priority, name): the order
	// the tier evaluates them in.
	Admin []*Guardrail
}

// Guardrail is one Admin-tier rule: pods of Subject may (Accept) or may not
// (Deny) exchange traffic with the peers on Ports, in one direction. It
// becomes one ClusterNetworkPolicy with one rule.
type Guardrail struct {
	// Name is the guardrail's name (deny-metadata), unique in the
	// environment; the object is named "netdep-" + Name.
	Name     string
	Kind     GuardrailKind
	Deny     bool
	Priority int32
	// Source is where the guardrail is written (its list entry, or the
	// dns key); Field its spec path.
	Source Pos
	Field  string

	// Subject: every pod of SubjectNamespaces, or the pods SubjectPods
	// (a PeerSelector) names.
	SubjectNamespaces []string
	SubjectPods       *Peer

	// Egress: the rule is on the subject's egress (peers are
	// destinations); otherwise on its ingress (peers are sources).
	Egress bool

	// Peers: exactly one of these is set. PeerNamespaces is every pod of
	// those namespaces; PeerNamespacesExcept every pod of every other
	// namespace; Peers are PeerSelector or PeerCIDR peers.
	PeerNamespaces       []string
	PeerNamespacesExcept []string
	Peers                []Peer

	// Ports the rule is about; AnyPort for every port.
	Ports   []Port
	AnyPort bool
}

// ObjectName is the ClusterNetworkPolicy's metadata.name.
func (g *Guardrail) ObjectName() string { return "netdep-" + g.Name }

// Action is "Accept" or "Deny".
func (g *Guardrail) Action() string {
	if g.Deny {
		return "Deny"
	}
	return "Accept"
}

// --- raw model ---------------------------------------------------------------

var (
	guardrailKeys  = []string{"api", "defaultDeny", "dns", "monitoring", "isolateNamespaces", "denyCIDRs", "allowDomains"}
	monitoringKeys = []string{"name", "namespace", "selector", "ports", "priority"}
	isolateKeys    = []string{"name", "namespace", "allow", "priority"}
	denyCIDRKeys   = []string{"name", "cidr", "priority"}
)

type rawGuardrails struct {
	Field string

	DefaultDeny *strPos
	API         *strPos

	DNS    *bool
	DNSPos Pos

	Monitoring    []rawGuardItem
	MonitoringSet bool
	Isolate       []rawGuardItem
	IsolateSet    bool
	Deny          []rawGuardItem
	DenySet       bool
}

type rawGuardItem struct {
	Field string
	Pos   Pos

	Name     strPos
	Priority *strPos

	Namespace strPos
	Selector  map[string]string
	Ports     []strPos
	PortsSet  bool
	PortsPos  Pos

	Allow []strPos
	CIDRs []strPos
}

func (d *decoder) guardrails(n *yaml.Node, field string) *rawGuardrails {
	n = d.resolve(n)
	if n == nil || isNull(n) {
		return nil
	}
	g := &rawGuardrails{Field: field}
	pairs, _ := d.mapping(n, field, "a mapping with "+joinKeys(guardrailKeys), guardrailKeys)
	for _, p := range pairs {
		f := field + "." + p.Key
		switch p.Key {
		case "defaultDeny":
			if s, ok := d.str(p.V, f, "networkPolicy, baseline or both"); ok {
				switch DefaultDeny(s.S) {
				case DenyNetworkPolicy, DenyBaseline, DenyBoth:
					g.DefaultDeny = &s
				default:
					d.errorf(p.V, f, "expected networkPolicy, baseline or both, found %q", s.S)
				}
			}
		case "api":
			if s, ok := d.str(p.V, f, "v1beta1 or v1alpha1"); ok {
				switch ClusterAPI(s.S) {
				case APIV1beta1, APIV1alpha1:
					g.API = &s
				default:
					d.errorf(p.V, f, "expected v1beta1 (ClusterNetworkPolicy) or v1alpha1 (AdminNetworkPolicy and BaselineAdminNetworkPolicy), found %q", s.S)
				}
			}
		case "dns":
			if b, ok := d.boolean(p.V, f); ok {
				g.DNS = &b
				g.DNSPos = d.pos(p.K)
			}
		case "monitoring":
			g.MonitoringSet = true
			g.Monitoring = d.guardItems(p.V, f, "a list of monitoring scrapes ({namespace, selector, ports})", monitoringKeys)
		case "isolateNamespaces":
			g.IsolateSet = true
			g.Isolate = d.guardItems(p.V, f, "a list of namespaces to isolate ({namespace, allow})", isolateKeys)
		case "denyCIDRs":
			g.DenySet = true
			g.Deny = d.guardItems(p.V, f, "a list of denied address blocks ({name, cidr})", denyCIDRKeys)
		case "allowDomains":
			d.errorf(p.K, f, "not supported yet: domainNames egress cannot be verified (which addresses a name resolves to is not known to netdep's evaluator); allow the addresses with a cidr call instead")
		}
	}
	return g
}

func joinKeys(keys []string) string {
	s := ""
	for i, k := range keys {
		switch {
		case i == 0:
		case i == len(keys)-1:
			s += " and "
		default:
			s += ", "
		}
		s += k
	}
	return s
}

func (d *decoder) guardItems(n *yaml.Node, field, what string, keys []string) []rawGuardItem {
	items, _ := d.list(n, field, what)
	var out []rawGuardItem
	for i, it := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		pairs, ok := d.mapping(it, f, "a mapping with "+joinKeys(keys), keys)
		if !ok {
			continue
		}
		g := rawGuardItem{Field: f, Pos: d.pos(d.resolve(it))}
		for _, p := range pairs {
			pf := f + "." + p.Key
			switch p.Key {
			case "name":
				g.Name, _ = d.str(p.V, pf, "a guardrail name")
			case "priority":
				if s, ok := d.scalar(p.V, pf, "a priority (0 to 1000)"); ok {
					g.Priority = &s
				}
			case "namespace":
				g.Namespace, _ = d.str(p.V, pf, "a namespace name")
			case "selector":
				g.Selector, _ = d.labels(p.V, pf)
			case "ports":
				g.PortsSet = true
				g.PortsPos = d.pos(p.K)
				vals, _ := d.list(p.V, pf, "a list of ports")
				for j, v := range vals {
					if s, ok := d.scalar(v, fmt.Sprintf("%s[%d]", pf, j), "a port (9090, \"53/UDP\")"); ok {
						g.Ports = append(g.Ports, s)
					}
				}
			case "allow":
				g.Allow, _ = d.strList(p.V, pf, "namespace names")
			case "cidr":
				v := d.resolve(p.V)
				if v != nil && v.Kind == yaml.SequenceNode {
					g.CIDRs, _ = d.strList(v, pf, "cidrs")
				} else if s, ok := d.str(p.V, pf, "a cidr, a list of cidrs or the name of a cidr set"); ok {
					g.CIDRs = []strPos{s}
				}
			}
		}
		out = append(out, g)
	}
	return out
}

// --- resolution --------------------------------------------------------------

// mergeGuardrails is the cluster's guardrails with env's keys replacing
// theirs.
func mergeGuardrails(cluster, env *rawGuardrails) *rawGuardrails {
	switch {
	case env == nil:
		return cluster
	case cluster == nil:
		return env
	}
	out := *cluster
	if env.DefaultDeny != nil {
		out.DefaultDeny = env.DefaultDeny
	}
	if env.API != nil {
		out.API = env.API
	}
	if env.DNS != nil {
		out.DNS, out.DNSPos = env.DNS, env.DNSPos
	}
	if env.MonitoringSet {
		out.Monitoring, out.MonitoringSet = env.Monitoring, true
	}
	if env.IsolateSet {
		out.Isolate, out.IsolateSet = env.Isolate, true
	}
	if env.DenySet {
		out.Deny, out.DenySet = env.Deny, true
	}
	return &out
}

// resolveGuardrails resolves every environment's guardrails; they need the
// namespaces (every managed namespace is a subject), so this runs after
// resolveNamespaces. Environments share the cluster's entries: a mistake in
// one is reported once.
func (r *resolver) resolveGuardrails() {
	before := len(*r.probs)
	for _, set := range r.settings {
		set.guardrails = r.guardrails(set.rawGuardrails, set)
	}
	added := (*r.probs)[before:]
	seen := map[string]bool{}
	kept := added[:0]
	for _, p := range added {
		if k := p.String(); !seen[k] {
			seen[k] = true
			kept = append(kept, p)
		}
	}
	*r.probs = (*r.probs)[:before+len(kept)]
}

// guardrails resolves one environment's guardrails.
func (r *resolver) guardrails(raw *rawGuardrails, set *envSettings) *Guardrails {
	if raw == nil {
		return nil
	}
	g := &Guardrails{DefaultDeny: DenyNetworkPolicy, API: APIV1beta1}
	errorf := r.errorf
	if raw.DefaultDeny != nil {
		g.DefaultDeny = DefaultDeny(raw.DefaultDeny.S)
		g.DefaultDenySource = raw.DefaultDeny.Pos
	}
	if raw.API != nil {
		g.API = ClusterAPI(raw.API.S)
		g.APISource = raw.API.Pos
	}
	managed := r.managedNamespaces()
	names := map[string]*Guardrail{}
	priorities := map[int32]*Guardrail{}
	add := func(gr *Guardrail, explicit bool) {
		if first, dup := names[gr.Name]; dup {
			errorf(gr.Source, gr.Field, "guardrail name %q is taken by %s (%s); expected each name once", gr.Name, first.Field, first.Source)
			return
		}
		names[gr.Name] = gr
		if explicit {
			if first, dup := priorities[gr.Priority]; dup {
				errorf(gr.Source, gr.Field+".priority", "priority %d is also %s's (%s); the API leaves the order of equal priorities to the plugin, expected each priority once", gr.Priority, first.Name, first.Source)
			}
		}
		priorities[gr.Priority] = gr
		g.Admin = append(g.Admin, gr)
	}
	priority := func(it rawGuardItem, def int) (int32, bool) {
		if it.Priority == nil {
			return int32(def), false
		}
		n, err := strconv.Atoi(it.Priority.S)
		if err != nil || n < 0 || n > 1000 {
			errorf(it.Priority.Pos, it.Field+".priority", "expected a priority from 0 to 1000, found %q", it.Priority.S)
			return int32(def), false
		}
		return int32(n), true
	}
	name := func(it rawGuardItem, def string) string {
		if it.Name.S == "" {
			return def
		}
		if msg := checkLabel("guardrail name", it.Name.S); msg != "" {
			errorf(it.Name.Pos, it.Field+".name", "%s", msg)
		}
		return it.Name.S
	}
	if raw.DNS != nil && *raw.DNS {
		field := raw.Field + ".dns"
		if set.dns == nil {
			errorf(raw.DNSPos, field, "expected a cluster DNS to accept, found dns: false")
		} else if len(managed) > 0 {
			add(&Guardrail{Name: "allow-dns", Kind: GuardrailDNS, Priority: PriorityDNS, Source: raw.DNSPos, Field: field,
				SubjectNamespaces: managed, Egress: true, Peers: set.dns.Peers, Ports: set.dns.Ports}, false)
		}
	}
	for i, it := range raw.Monitoring {
		if it.Namespace.S == "" {
			errorf(it.Pos, it.Field, "missing namespace; expected the namespace the monitoring pods run in")
			continue
		}
		if msg := checkLabel("namespace", it.Namespace.S); msg != "" {
			errorf(it.Namespace.Pos, it.Field+".namespace", "%s", msg)
			continue
		}
		for _, msg := range checkSelector(it.Selector) {
			errorf(it.Pos, it.Field+".selector", "%s", msg)
		}
		if !it.PortsSet {
			errorf(it.Pos, it.Field, "missing ports; expected the ports the monitoring pods scrape, such as [9090]")
			continue
		}
		ports := r.portValues(it.Ports, it.Field+".ports", it.PortsPos, false)
		if len(ports) == 0 || len(managed) == 0 {
			continue
		}
		prio, explicit := priority(it, PriorityMonitoring+i)
		pods := &Peer{Kind: PeerSelector, Namespace: it.Namespace.S, Selector: it.Selector}
		gr := &Guardrail{Name: name(it, "allow-scrape-"+it.Namespace.S), Kind: GuardrailMonitoring, Priority: prio,
			Source: it.Pos, Field: it.Field, SubjectNamespaces: managed, Peers: []Peer{*pods}, Ports: ports}
		add(gr, explicit)
		if ns := r.namespaces[it.Namespace.S]; ns != nil && ns.ns.Managed {
			// The scrape's other side: the monitoring pods' egress, which
			// their own namespace isolates.
			g.Admin = append(g.Admin, &Guardrail{Name: gr.Name + "-egress", Kind: GuardrailMonitoring, Priority: prio,
				Source: it.Pos, Field: it.Field, SubjectPods: pods, Egress: true, PeerNamespaces: managed, Ports: ports})
		}
	}
	for i, it := range raw.Isolate {
		if it.Namespace.S == "" {
			errorf(it.Pos, it.Field, "missing namespace; expected the namespace no other namespace may reach")
			continue
		}
		if r.namespaces[it.Namespace.S] == nil {
			errorf(it.Namespace.Pos, it.Field+".namespace", "unknown namespace %q; expected one a dependency file describes%s", it.Namespace.S, r.nsHint(it.Namespace.S))
			continue
		}
		except := []string{it.Namespace.S}
		for j, a := range it.Allow {
			if msg := checkLabel("namespace", a.S); msg != "" {
				errorf(a.Pos, fmt.Sprintf("%s.allow[%d]", it.Field, j), "%s", msg)
				continue
			}
			except = append(except, a.S)
		}
		sort.Strings(except)
		except = uniqStrings(except)
		prio, explicit := priority(it, PriorityIsolate+i)
		add(&Guardrail{Name: name(it, "isolate-"+it.Namespace.S), Kind: GuardrailIsolate, Deny: true, Priority: prio,
			Source: it.Pos, Field: it.Field, SubjectNamespaces: []string{it.Namespace.S}, PeerNamespacesExcept: except, AnyPort: true}, explicit)
	}
	for i, it := range raw.Deny {
		if it.Name.S == "" {
			errorf(it.Pos, it.Field, "missing name; expected a name for the guardrail (deny-metadata), which overriddenBy refers to")
			continue
		}
		if len(it.CIDRs) == 0 {
			errorf(it.Pos, it.Field, "missing cidr; expected the address blocks to deny, such as 169.254.169.254/32")
			continue
		}
		var blocks []netip.Prefix
		for j, c := range it.CIDRs {
			f := it.Field + ".cidr"
			if len(it.CIDRs) > 1 {
				f = fmt.Sprintf("%s[%d]", f, j)
			}
			if !looksLikeCIDR(c.S) {
				s, ok := set.cidrs[c.S]
				if !ok {
					errorf(c.Pos, f, "unknown cidr set %q; expected a cidr or a set the project file declares", c.S)
					continue
				}
				blocks = append(blocks, s.blocks...)
				continue
			}
			p, err := parseCIDR(c.S)
			if err != nil {
				errorf(c.Pos, f, "%v", err)
				continue
			}
			blocks = append(blocks, p)
		}
		if len(blocks) == 0 || len(managed) == 0 {
			continue
		}
		sort.Slice(blocks, func(i, j int) bool { return prefixLess(blocks[i], blocks[j]) })
		var peers []Peer
		for _, b := range blocks {
			if len(peers) == 0 || peers[len(peers)-1].CIDR != b.String() {
				peers = append(peers, Peer{Kind: PeerCIDR, CIDR: b.String()})
			}
		}
		prio, explicit := priority(it, PriorityDenyCIDRs+i)
		add(&Guardrail{Name: name(it, ""), Kind: GuardrailDenyCIDRs, Deny: true, Priority: prio, Source: it.Pos, Field: it.Field,
			SubjectNamespaces: managed, Egress: true, Peers: peers, AnyPort: true}, explicit)
	}
	sort.SliceStable(g.Admin, func(i, j int) bool {
		a, b := g.Admin[i], g.Admin[j]
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.ObjectName() < b.ObjectName()
	})
	if g.API == APIV1alpha1 && g.DefaultDeny == DenyBaseline {
		r.warnOneWay(g)
	}
	return g
}

// warnOneWay names the managed namespaces isolated in one direction only
// when the default deny is in the Baseline tier of v1alpha1: the one
// BaselineAdminNetworkPolicy has one subject, and denying both directions
// of a namespace isolated one way would change what it means, so such a
// namespace keeps its default-deny NetworkPolicy.
func (r *resolver) warnOneWay(g *Guardrails) {
	var oneWay []string
	for _, name := range r.managedNamespaces() {
		ns := r.namespaces[name].ns
		switch {
		case ns.IsolateIngress && !ns.IsolateEgress:
			oneWay = append(oneWay, name+" (ingress only)")
		case ns.IsolateEgress && !ns.IsolateIngress:
			oneWay = append(oneWay, name+" (egress only)")
		}
	}
	if len(oneWay) == 0 {
		return
	}
	verb := "keeps its"
	if len(oneWay) > 1 {
		verb = "keep their"
	}
	r.warnf(g.DefaultDenySource, "guardrails.defaultDeny", "v1alpha1 has one BaselineAdminNetworkPolicy with one subject, so the Baseline default deny covers the namespaces isolated both ways only; %s %s default-deny NetworkPolicy (isolate it both ways, or use defaultDeny: both to say so)", strings.Join(oneWay, ", "), verb)
}

func uniqStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// managedNamespaces are the names of the managed namespaces, sorted.
func (r *resolver) managedNamespaces() []string {
	var out []string
	for _, name := range r.nsNames {
		if r.namespaces[name].ns.Managed {
			out = append(out, name)
		}
	}
	return out
}

// nsHint suggests a known namespace close to name.
func (r *resolver) nsHint(name string) string {
	if c := closest(name, r.nsNames); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// --- contradictions ------------------------------------------------------------

// checkGuardrails reports every declared edge an Admin Deny guardrail denies:
// an error naming both places, unless the edge says overriddenBy: <that
// guardrail> (the edge stays declared and its policies allow it; the
// guardrail wins, verify expects it to and lists the edge as overridden). An Accept
// guardrail of higher precedence that covers the edge lets it through.
func (r *resolver) checkGuardrails(s *Spec) {
	entries := map[Pos]*rawEntry{}
	for _, it := range r.intents {
		entries[it.entry.Pos] = it.entry
	}
	known := map[string]bool{}
	for _, e := range s.Environments {
		for _, g := range e.AdminGuardrails() {
			if g.Deny {
				known[g.Name] = true
			}
		}
	}
	for _, it := range r.intents {
		if o := it.entry.OverriddenBy; o.S != "" && !known[o.S] {
			var names []string
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			r.errorf(o.Pos, it.entry.Field+".overriddenBy", "unknown guardrail %q; expected the name of a deny guardrail of the project file %s", o.S, hintOrList(o.S, names))
		}
	}
	type key struct {
		src  Pos
		name string
	}
	type found struct {
		rule *Rule
		g    *Guardrail
		envs []string
	}
	var order []key
	hits := map[key]*found{}
	for _, e := range s.Environments {
		for i := range e.Rules {
			rule := &e.Rules[i]
			admin := e.AdminGuardrails()
			for gi, g := range admin {
				if !g.Deny || !guardrailDenies(g, rule) || acceptedBefore(admin[:gi], rule) {
					continue
				}
				k := key{rule.Source, g.Name}
				f := hits[k]
				if f == nil {
					f = &found{rule: rule, g: g}
					hits[k] = f
					order = append(order, k)
				}
				if len(f.envs) == 0 || f.envs[len(f.envs)-1] != e.Name {
					f.envs = append(f.envs, e.Name)
				}
				break
			}
		}
	}
	for _, k := range order {
		f := hits[k]
		field := ""
		if en := entries[k.src]; en != nil {
			field = en.Field
		}
		where := ""
		if len(f.envs) < len(s.Environments) {
			where = " in " + envPlural(f.envs)
		}
		if f.rule.OverriddenBy == f.g.Name {
			continue // on purpose: verify lists it (Report.Overridden)
		}
		r.errorf(k.src, field, "denied by guardrail %s (%s)%s; remove the edge, or mark it overriddenBy: %s", f.g.Name, f.g.Source, where, f.g.Name)
	}
}

// guardrailDenies reports whether deny guardrail g denies some of rule's
// connections as a whole: an isolated namespace's ingress from a namespace
// it does not allow, or egress to an address block inside a denied one. A
// call to a wider block (0.0.0.0/0) keeps the rest of it: the guardrail
// carves its addresses out without contradicting the call.
func guardrailDenies(g *Guardrail, rule *Rule) bool {
	switch g.Kind {
	case GuardrailIsolate:
		x := g.SubjectNamespaces[0]
		var src, dst string
		switch {
		case rule.Direction == Ingress && rule.Peer.Kind == PeerService:
			src, dst = rule.Peer.Service.Namespace, rule.Service.Namespace
		case rule.Direction == Ingress && rule.Peer.Kind == PeerSelector:
			src, dst = rule.Peer.Namespace, rule.Service.Namespace
		case rule.Direction == Egress && rule.Peer.Kind == PeerSelector:
			src, dst = rule.Service.Namespace, rule.Peer.Namespace
		case rule.Direction == Egress && rule.Peer.Kind == PeerService:
			src, dst = rule.Service.Namespace, rule.Peer.Service.Namespace
		default:
			return false
		}
		return dst == x && !containsString(g.PeerNamespacesExcept, src)
	case GuardrailDenyCIDRs:
		if rule.Direction != Egress || rule.Peer.Kind != PeerCIDR || !containsString(g.SubjectNamespaces, rule.Service.Namespace) {
			return false
		}
		block, err := netip.ParsePrefix(rule.Peer.CIDR)
		if err != nil {
			return false
		}
		for _, p := range g.Peers {
			deny, err := netip.ParsePrefix(p.CIDR)
			if err == nil && deny.Addr().Is4() == block.Addr().Is4() && deny.Bits() <= block.Bits() && deny.Contains(block.Addr()) {
				return true
			}
		}
	}
	return false
}

// acceptedBefore reports whether an Accept guardrail of higher precedence
// admits all of rule's ports on the side a deny would cut: the edge then
// gets through, and no deny contradicts it.
func acceptedBefore(before []*Guardrail, rule *Rule) bool {
	for _, g := range before {
		if g.Deny || !g.AnyPort && (rule.AnyPort || !portsCover(g.Ports, rule.Ports)) {
			continue
		}
		switch {
		case !g.Egress && rule.Direction == Ingress && containsString(g.SubjectNamespaces, rule.Service.Namespace) && rule.Peer.Kind == PeerService:
			for _, p := range g.Peers {
				if p.Kind == PeerSelector && p.Namespace == rule.Peer.Service.Namespace && labelsWithin(p.Selector, rule.Peer.Service.Selector) {
					return true
				}
			}
		case g.Egress && rule.Direction == Egress && rule.Peer.Kind == PeerCIDR && containsString(g.SubjectNamespaces, rule.Service.Namespace):
			block, _ := netip.ParsePrefix(rule.Peer.CIDR)
			for _, p := range g.Peers {
				if a, err := netip.ParsePrefix(p.CIDR); err == nil && a.Bits() <= block.Bits() && a.Contains(block.Addr()) {
					return true
				}
			}
		}
	}
	return false
}

func portsCover(have, want []Port) bool {
	for _, w := range want {
		ok := false
		end := max(w.EndPort, w.Port)
		for _, h := range have {
			if h.Protocol == w.Protocol && h.Port <= w.Port && max(h.EndPort, h.Port) >= end {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// labelsWithin reports whether every label of sel is in labels.
func labelsWithin(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
