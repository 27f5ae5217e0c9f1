package schema

import (
	"cmp"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// reservedServices are the names of the namespace-wide policies: a service
// of that name would collide with them in the generated tree.
// netdep-log-denied is the Calico policy of log: denied (generator/policy).
// "kustomization" would be written as kustomization.yaml, the one file name
// kustomize reads as a kustomization rather than a resource.
var reservedServices = []string{"default-deny", "allow-dns", "allow-dns-ingress", "allow-egress", "kustomization", "netdep-log-denied"}

// defaultDNS is the cluster DNS of kubeadm, kind, GKE, EKS and AKS alike.
func defaultDNS() *DNS {
	return &DNS{
		Peers: []Peer{{Kind: PeerSelector, Namespace: "kube-system", Selector: map[string]string{"k8s-app": "kube-dns"}}},
		Ports: []Port{{Protocol: corev1.ProtocolTCP, Port: 53}, {Protocol: corev1.ProtocolUDP, Port: 53}},
	}
}

// resolver binds the raw documents of one run into a Spec.
type resolver struct {
	probs *Problems

	project  *rawProject
	envNames []string // declared, sorted; empty without a project
	settings map[string]*envSettings
	// clusterHosts are the cluster's hosts: entries (environments share
	// them unless they replace them).
	clusterHosts map[string]*hostSet

	namespaces map[string]*nsInfo
	nsNames    []string
	services   []*svcInfo // sorted by (namespace, name)
	intents    []*intent
	exceptions []*Exception // sorted by name
}

type envSettings struct {
	cidrs map[string]cidrSet
	dns   *DNS
	// pods and services are the cluster's own ranges, nil when unknown.
	pods, services []netip.Prefix
	// rawGuardrails are the cluster's merged with the environment's;
	// guardrails is their resolution (resolveGuardrails).
	rawGuardrails *rawGuardrails
	guardrails    *Guardrails
	// rawSensitive is the environment's sensitive list, else the
	// cluster's; sensitive its namespaces, sorted (resolveSensitive).
	rawSensitive *rawNames
	sensitive    []string

	// plugin, mode and logDenied are the environment's enforcement
	// (plugins.go); the raw words say where each was written, nil when
	// defaulted. dnsRaw is where dns was set, nil when defaulted.
	plugin    Plugin
	mode      Mode
	logDenied bool
	pluginRaw *rawWord
	modeRaw   *rawWord
	logRaw    *rawWord
	dnsRaw    *rawDNS
	// hosts are the pinned addresses by host name: the cluster's merged
	// with the environment's.
	hosts map[string]*hostSet
}

type cidrSet struct {
	blocks []netip.Prefix
	pos    Pos
}

type nsInfo struct {
	ns       *Namespace
	first    *rawDep // the document whose managed/isolate settle the namespace
	services map[string]*svcInfo
}

type svcInfo struct {
	raw *rawService
	svc *Service
	// badPorts are the names of declared ports whose values were invalid
	// (already reported): a reference to them, or to a service whose only
	// ports they are, is not a second mistake.
	badPorts map[string]bool
	// portsUnknown: the ports mapping itself did not decode (reported), so
	// no reference to a port of the service is a second mistake.
	portsUnknown bool
	// envs is where the service exists, nil for everywhere.
	envs map[string]bool
}

// intent is one calls or from entry with its references bound.
type intent struct {
	owner *svcInfo
	entry *rawEntry
	// from is true for an entry under from: (the owner is the callee).
	from bool

	peer  *svcInfo // entryRef: the other service
	ports []Port   // destination ports (the callee's for service edges)
	any   bool

	cidr     netip.Prefix // entryCIDR, literal
	cidrName string       // entryCIDR, named set
	except   []netip.Prefix

	rawNS  string // entryRaw
	rawSel map[string]string

	// envs limits the entry itself, nil for everywhere.
	envs map[string]bool

	exception *Exception // nil for an ordinary entry

	host string // entryHost: the validated name
}

func (r *resolver) add(p Problem) { *r.probs = append(*r.probs, p) }

func (r *resolver) errorf(pos Pos, field, format string, args ...any) {
	r.add(errorf(pos, field, format, args...))
}

func (r *resolver) warnf(pos Pos, field, format string, args ...any) {
	p := errorf(pos, field, format, args...)
	p.Warning = true
	r.add(p)
}

func resolve(deps []*rawDep, projects []*rawProject, probs *Problems) *Spec {
	r := &resolver{probs: probs, namespaces: map[string]*nsInfo{}, settings: map[string]*envSettings{}}
	r.resolveProject(projects)
	r.resolveNamespaces(deps)
	r.resolveGuardrails()
	r.resolveSensitive()
	r.checkSelectorOverlap()
	r.resolveEntries()
	r.checkEnforcement()
	r.exceptions = r.checkExceptions()
	r.warn()
	return r.spec()
}

// --- project ---------------------------------------------------------------

func (r *resolver) resolveProject(projects []*rawProject) {
	if len(projects) == 0 {
		r.settings[""] = &envSettings{cidrs: map[string]cidrSet{}, dns: defaultDNS(), plugin: PluginKubernetes, mode: ModeEnforce, hosts: map[string]*hostSet{}}
		return
	}
	sort.SliceStable(projects, func(i, j int) bool { return posLess(projects[i].Pos, projects[j].Pos) })
	r.project = projects[0]
	for _, p := range projects[1:] {
		r.errorf(p.Pos, "", "expected at most one project document per run, found a second (the first is at %s); merge them", r.project.Pos)
	}
	pr := r.project
	clusterSets := r.cidrSets(pr.Cluster.CIDRs)
	clusterDNS := defaultDNS()
	if pr.Cluster.DNS != nil {
		clusterDNS = r.dns(pr.Cluster.DNS)
	}
	clusterPods := r.ranges(pr.Cluster.PodCIDRs)
	clusterServices := r.ranges(pr.Cluster.ServiceCIDRs)
	clusterHosts := r.hostSets(pr.Cluster.Hosts)
	r.clusterHosts = clusterHosts
	for _, e := range pr.Envs {
		if msg := checkLabel("environment name", e.Name); msg != "" {
			r.errorf(e.Pos, e.Field, "%s", msg)
		}
		s := &envSettings{cidrs: map[string]cidrSet{}, dns: clusterDNS, pods: clusterPods, services: clusterServices}
		if e.Settings.PodCIDRs != nil {
			s.pods = r.ranges(e.Settings.PodCIDRs)
		}
		if e.Settings.ServiceCIDRs != nil {
			s.services = r.ranges(e.Settings.ServiceCIDRs)
		}
		for name, set := range clusterSets {
			s.cidrs[name] = set
		}
		// An environment's set replaces the cluster's set of the same name
		// rather than adding to it: prod's corp-vpn is a different network.
		for name, set := range r.cidrSets(e.Settings.CIDRs) {
			s.cidrs[name] = set
		}
		s.dnsRaw = pr.Cluster.DNS
		if e.Settings.DNS != nil {
			s.dns = r.dns(e.Settings.DNS)
			s.dnsRaw = e.Settings.DNS
		}
		s.enforcement(pr.Cluster, e.Settings)
		s.hosts = map[string]*hostSet{}
		for name, h := range clusterHosts {
			s.hosts[name] = h
		}
		// As for cidrs: an environment's entry replaces the cluster's.
		for name, h := range r.hostSets(e.Settings.Hosts) {
			s.hosts[name] = h
		}
		s.rawGuardrails = mergeGuardrails(pr.Cluster.Guardrails, e.Settings.Guardrails)
		s.rawSensitive = pr.Cluster.Sensitive
		if e.Settings.Sensitive != nil {
			s.rawSensitive = e.Settings.Sensitive // a list replaces the cluster's
		}
		r.settings[e.Name] = s
		r.envNames = append(r.envNames, e.Name)
	}
	sort.Strings(r.envNames)
}

func (r *resolver) cidrSets(raw []rawCIDRSet) map[string]cidrSet {
	out := map[string]cidrSet{}
	for _, s := range raw {
		if msg := checkLabel("cidr set name", s.Name); msg != "" {
			r.errorf(s.Pos, s.Field, "%s", msg)
		}
		if len(s.CIDRs) == 0 {
			r.errorf(s.Pos, s.Field, "expected at least one cidr, found none")
		}
		set := cidrSet{pos: s.Pos}
		for i, c := range s.CIDRs {
			p, err := parseCIDR(c.S)
			if err != nil {
				r.errorf(c.Pos, fmt.Sprintf("%s[%d]", s.Field, i), "%v", err)
				continue
			}
			set.blocks = append(set.blocks, p)
		}
		sort.Slice(set.blocks, func(i, j int) bool { return prefixLess(set.blocks[i], set.blocks[j]) })
		out[s.Name] = set
	}
	return out
}

// resolveSensitive checks every sensitive list against the namespaces the
// dependency files describe; it runs after resolveNamespaces. A list the
// environments share (the cluster's) is checked once.
func (r *resolver) resolveSensitive() {
	checked := map[*rawNames][]string{}
	for _, name := range r.envNames {
		set := r.settings[name]
		raw := set.rawSensitive
		if raw == nil {
			continue
		}
		if names, ok := checked[raw]; ok {
			set.sensitive = names
			continue
		}
		names := []string{}
		for i, n := range raw.Names {
			field := fmt.Sprintf("%s[%d]", raw.Field, i)
			if r.namespaces[n.S] == nil {
				r.errorf(n.Pos, field, "unknown namespace %q; expected one a dependency file describes%s", n.S, r.nsHint(n.S))
				continue
			}
			if !slices.Contains(names, n.S) {
				names = append(names, n.S)
			}
		}
		sort.Strings(names)
		checked[raw] = names
		set.sensitive = names
	}
}

// ranges parses podCIDRs or serviceCIDRs; nil when not written.
func (r *resolver) ranges(raw *rawRanges) []netip.Prefix {
	if raw == nil {
		return nil
	}
	out := []netip.Prefix{}
	for i, c := range raw.CIDRs {
		p, err := parseCIDR(c.S)
		if err != nil {
			r.errorf(c.Pos, fmt.Sprintf("%s[%d]", raw.Field, i), "%v", err)
			continue
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return prefixLess(out[i], out[j]) })
	return out
}

func (r *resolver) dns(raw *rawDNS) *DNS {
	if raw.Off {
		return nil
	}
	def := defaultDNS()
	out := &DNS{Ports: def.Ports}
	switch {
	case len(raw.CIDRs) > 0:
		for i, c := range raw.CIDRs {
			p, err := parseCIDR(c.S)
			if err != nil {
				r.errorf(c.Pos, fmt.Sprintf("%s.cidr[%d]", raw.Field, i), "%v", err)
				continue
			}
			out.Peers = append(out.Peers, Peer{Kind: PeerCIDR, CIDR: p.String()})
		}
		sort.Slice(out.Peers, func(i, j int) bool {
			return prefixLess(netip.MustParsePrefix(out.Peers[i].CIDR), netip.MustParsePrefix(out.Peers[j].CIDR))
		})
	case raw.NamespaceSet || raw.SelectorSet:
		peer := Peer{Kind: PeerSelector, Namespace: "kube-system"}
		if raw.NamespaceSet {
			peer.Namespace = raw.Namespace.S
			if msg := checkLabel("namespace", raw.Namespace.S); msg != "" {
				r.errorf(raw.Namespace.Pos, raw.Field+".namespace", "%s", msg)
			}
		}
		if len(raw.Selector) > 0 {
			peer.Selector = raw.Selector
			for _, msg := range checkSelector(raw.Selector) {
				r.errorf(raw.Pos, raw.Field+".selector", "%s", msg)
			}
		}
		out.Peers = []Peer{peer}
	default:
		out.Peers = def.Peers
	}
	if raw.PortsSet {
		out.Ports = r.portValues(raw.Ports, raw.Field+".ports", raw.Pos, true)
	}
	return out
}

// portValues parses literal port values (no names: there is no service to
// look them up on), of a cidr or raw-peer call, or of dns. The advice given
// is only ever a form that loads there: dns has no "any".
func (r *resolver) portValues(vals []strPos, field string, pos Pos, dns bool) []Port {
	if len(vals) == 0 {
		advice := "(write ports: any for every port)"
		if dns {
			advice = dnsPortsAdvice
		}
		r.errorf(pos, field, "expected at least one port, found none %s", advice)
		return nil
	}
	var out []Port
	for i, v := range vals {
		f := fmt.Sprintf("%s[%d]", field, i)
		if msg := anyInList(v.S, dns); msg != "" {
			r.errorf(v.Pos, f, "%s", msg)
			continue
		}
		if !isPortValue(v.S) {
			r.errorf(v.Pos, f, "expected a port number (443, \"53/UDP\"), found the name %q; names only work for a service's own ports", v.S)
			continue
		}
		p, err := parsePortValue(v.S)
		if err != nil {
			r.errorf(v.Pos, f, "%v", err)
			continue
		}
		out = append(out, p)
	}
	return dedupPorts(out)
}

// --- namespaces and services -------------------------------------------------

func posLess(a, b Pos) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Column < b.Column
}

type isolation struct{ ingress, egress bool }

func (i isolation) String() string {
	switch {
	case i.ingress && i.egress:
		return "[ingress, egress]"
	case i.ingress:
		return "[ingress]"
	case i.egress:
		return "[egress]"
	}
	return "[]"
}

func (r *resolver) isolation(doc *rawDep) isolation {
	if !doc.IsolateSet {
		return isolation{true, true}
	}
	var iso isolation
	if len(doc.Isolate) == 0 {
		r.errorf(doc.IsolatePos, "isolate", "expected ingress, egress or both, found an empty list (leave isolate out for both)")
		return isolation{true, true}
	}
	for i, v := range doc.Isolate {
		f := fmt.Sprintf("isolate[%d]", i)
		switch v.S {
		case "ingress":
			if iso.ingress {
				r.errorf(v.Pos, f, "duplicate direction %q", v.S)
			}
			iso.ingress = true
		case "egress":
			if iso.egress {
				r.errorf(v.Pos, f, "duplicate direction %q", v.S)
			}
			iso.egress = true
		default:
			r.errorf(v.Pos, f, "unknown direction %q %s", v.S, hintOrList(v.S, []string{"ingress", "egress"}))
		}
	}
	return iso
}

func managedWord(m bool) string {
	if m {
		return "managed"
	}
	return "unmanaged"
}

func (r *resolver) resolveNamespaces(deps []*rawDep) {
	sort.SliceStable(deps, func(i, j int) bool { return posLess(deps[i].Pos, deps[j].Pos) })
	type nsState struct {
		managed bool
		iso     isolation
	}
	states := map[string]nsState{}
	for _, doc := range deps {
		name := doc.Namespace.S
		if name == "" && doc.Namespace.Pos.Line == 0 {
			continue // missing: reported while decoding
		}
		if msg := checkLabel("namespace", name); msg != "" {
			r.errorf(doc.Namespace.Pos, "namespace", "%s", msg)
		}
		managed := doc.Managed == nil || *doc.Managed
		iso := r.isolation(doc)
		if !managed {
			if doc.IsolateSet {
				r.errorf(doc.IsolatePos, "isolate", "not allowed in an unmanaged namespace (managed: false): netdep emits nothing for it")
			}
			// netdep isolates nothing it does not manage.
			iso = isolation{}
		}
		info, ok := r.namespaces[name]
		if !ok {
			info = &nsInfo{
				ns:       &Namespace{Name: name, Managed: managed, IsolateIngress: iso.ingress, IsolateEgress: iso.egress},
				first:    doc,
				services: map[string]*svcInfo{},
			}
			r.namespaces[name] = info
			r.nsNames = append(r.nsNames, name)
			states[name] = nsState{managed, iso}
		} else {
			st := states[name]
			first := info.first
			if st.managed != managed {
				pos, fpos := doc.ManagedPos, first.ManagedPos
				if doc.Managed == nil {
					pos = doc.Namespace.Pos
				}
				if first.Managed == nil {
					fpos = first.Namespace.Pos
				}
				r.errorf(pos, "managed", "namespace %q is %s here but %s at %s; every document of a namespace must agree (managed defaults to true)",
					name, managedWord(managed), managedWord(st.managed), fpos)
			} else if managed && st.iso != iso {
				pos, fpos := doc.IsolatePos, first.IsolatePos
				if !doc.IsolateSet {
					pos = doc.Namespace.Pos
				}
				if !first.IsolateSet {
					fpos = first.Namespace.Pos
				}
				r.errorf(pos, "isolate", "namespace %q isolates %s here but %s at %s; every document of a namespace must agree (isolate defaults to [ingress, egress])",
					name, iso, st.iso, fpos)
			}
		}
		if !contains(info.ns.Sources, doc.File) {
			info.ns.Sources = append(info.ns.Sources, doc.File)
		}
		for _, rs := range doc.Services {
			if prev, dup := info.services[rs.Name]; dup {
				r.errorf(rs.Pos, rs.Field, "service %q is already defined in namespace %q at %s", rs.Name, name, prev.raw.Pos)
				continue
			}
			si := r.service(name, managed, rs)
			info.services[rs.Name] = si
			info.ns.Services = append(info.ns.Services, si.svc)
			r.services = append(r.services, si)
		}
	}
	sort.Strings(r.nsNames)
	for _, info := range r.namespaces {
		sort.Strings(info.ns.Sources)
		sort.Slice(info.ns.Services, func(i, j int) bool { return info.ns.Services[i].Name < info.ns.Services[j].Name })
	}
	sort.Slice(r.services, func(i, j int) bool {
		a, b := r.services[i].svc, r.services[j].svc
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}

func (r *resolver) service(ns string, managed bool, rs *rawService) *svcInfo {
	svc := &Service{Namespace: ns, Name: rs.Name, Source: rs.Pos, Edge: rs.Edge}
	si := &svcInfo{raw: rs, svc: svc, badPorts: map[string]bool{}, portsUnknown: rs.PortsBroken}
	if msg := checkLabel("service name", rs.Name); msg != "" {
		r.errorf(rs.Pos, rs.Field, "%s", msg)
	}
	switch {
	case rs.Name == "kustomization":
		r.errorf(rs.Pos, rs.Field, "service name %q is reserved: its policy file would be kustomization.yaml, which kustomize reads as a kustomization; rename the service", rs.Name)
	case contains(reservedServices, rs.Name):
		r.errorf(rs.Pos, rs.Field, "service name %q is reserved for netdep's namespace-wide policy of that name; rename the service", rs.Name)
	}
	switch {
	case !rs.SelectorSet:
		svc.Selector = map[string]string{"app": rs.Name}
	case len(rs.Selector) == 0:
		r.errorf(rs.SelectorPos, rs.Field+".selector", "expected at least one label, found none (an empty selector would select every pod of the namespace)")
		svc.Selector = map[string]string{}
	default:
		svc.Selector = rs.Selector
		for _, msg := range checkSelector(rs.Selector) {
			r.errorf(rs.SelectorPos, rs.Field+".selector", "%s", msg)
		}
	}
	seen := map[string]string{}
	for _, rp := range rs.Ports {
		if msgs := validation.IsValidPortName(rp.Name); len(msgs) > 0 {
			r.errorf(rp.Value.Pos, rp.Field, "invalid port name %q: %s", rp.Name, k8sMessage(msgs))
		}
		if rp.Broken {
			si.badPorts[rp.Name] = true
			continue
		}
		p, err := parsePortValue(rp.Value.S)
		if err != nil {
			r.errorf(rp.Value.Pos, rp.Field, "%v", err)
			si.badPorts[rp.Name] = true
			continue
		}
		p.Name = rp.Name
		if other, dup := seen[p.String()]; dup {
			r.errorf(rp.Value.Pos, rp.Field, "port %s is already declared as %q; expected each port and protocol once", p, other)
			si.badPorts[rp.Name] = true
			continue
		}
		seen[p.String()] = rp.Name
		svc.Ports = append(svc.Ports, p)
	}
	sortPorts(svc.Ports)
	if rs.EnvsSet {
		svc.Environments, si.envs = r.envList(rs.Envs, rs.Field+".environments", rs.EnvsPos)
	}
	if !managed {
		if len(rs.Calls) > 0 {
			r.errorf(rs.Calls[0].Pos, rs.Field+".calls", "not allowed in an unmanaged namespace (managed: false): netdep emits nothing for it; list this service in the callee's from instead, or make the namespace managed")
		}
		if len(rs.From) > 0 {
			r.errorf(rs.From[0].Pos, rs.Field+".from", "not allowed in an unmanaged namespace (managed: false): netdep emits nothing for it; make the callers call this service instead, or make the namespace managed")
		}
	}
	return si
}

// envList validates an environments: list against the project file.
func (r *resolver) envList(list []strPos, field string, pos Pos) ([]string, map[string]bool) {
	if r.project == nil {
		r.errorf(pos, field, "environments need a project file declaring them, and this run has none; remove environments or add a project file")
		return nil, nil
	}
	if len(list) == 0 {
		r.errorf(pos, field, "expected at least one environment, found none (leave environments out for all)")
		return nil, nil
	}
	set := map[string]bool{}
	var out []string
	unknown := false
	for i, e := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case set[e.S]:
			r.errorf(e.Pos, f, "duplicate environment %q", e.S)
		case !contains(r.envNames, e.S):
			r.errorf(e.Pos, f, "unknown environment %q%s; %s declares %s", e.S, didYouMean(e.S, r.envNames), r.project.File, strings.Join(r.envNames, ", "))
			unknown = true
		default:
			set[e.S] = true
			out = append(out, e.S)
		}
	}
	if unknown {
		// What the list meant is unclear: checks that depend on it (an
		// entry that never applies) would only guess.
		return nil, nil
	}
	sort.Strings(out)
	return out, set
}

// checkSelectorOverlap rejects two services of one namespace where one's
// selector is a subset of the other's labels: NetworkPolicy selects pods by
// labels alone, so A's policy would also select B's pods and hand them A's
// allowances (and A's default-deny exceptions would leak both ways).
//
// Comparing every pair of services was quadratic (a namespace of 16,000
// services took minutes), so selectors are grouped (identical ones are one
// group) and indexed by label: the supersets of a selector are among the
// groups carrying its rarest label, which for real selectors (an app label
// of its own) is a handful. BenchmarkOneNamespace measures it.
func (r *resolver) checkSelectorOverlap() {
	for _, name := range r.nsNames {
		r.selectorOverlaps(r.namespaces[name])
	}
}

// selectorGroup is the services of a namespace that share one selector, in
// file order.
type selectorGroup struct {
	sel     map[string]string
	members []*svcInfo
}

func (r *resolver) selectorOverlaps(info *nsInfo) {
	var groups []*selectorGroup
	byKey := map[string]*selectorGroup{}
	for _, svc := range info.ns.Services {
		if len(svc.Selector) == 0 {
			continue
		}
		key := selectorKey(svc.Selector)
		g := byKey[key]
		if g == nil {
			g = &selectorGroup{sel: svc.Selector}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, info.services[svc.Name])
	}
	type label struct{ k, v string }
	carrying := map[label][]*selectorGroup{}
	for _, g := range groups {
		sort.SliceStable(g.members, func(i, j int) bool { return posLess(g.members[i].raw.Pos, g.members[j].raw.Pos) })
		for k, v := range g.sel {
			carrying[label{k, v}] = append(carrying[label{k, v}], g)
		}
	}
	for _, g := range groups {
		// The same selector: reported on each later service, naming the
		// first one it coexists with.
		for j, b := range g.members {
			for _, a := range g.members[:j] {
				if coexist(a.envs, b.envs) {
					r.errorf(selectorPos(b), selectorField(b), "selector %s is the same as service %q's (%s); each service needs labels of its own, or one policy would select both", selectorString(b.svc.Selector), a.svc.Name, a.raw.Pos)
					break
				}
			}
		}
		// Strict supersets carry every label of g, its rarest too.
		var rarest []*selectorGroup
		for k, v := range g.sel {
			if c := carrying[label{k, v}]; rarest == nil || len(c) < len(rarest) {
				rarest = c
			}
		}
		var supersets []*selectorGroup
		for _, h := range rarest {
			if len(h.sel) > len(g.sel) && subsetOf(g.sel, h.sel) {
				supersets = append(supersets, h)
			}
		}
		if len(supersets) == 0 {
			continue
		}
		for _, a := range g.members {
			var selected []*svcInfo
			for _, h := range supersets {
				for _, b := range h.members {
					if coexist(a.envs, b.envs) {
						selected = append(selected, b)
					}
				}
			}
			if len(selected) == 0 {
				continue
			}
			sort.SliceStable(selected, func(i, j int) bool { return posLess(selected[i].raw.Pos, selected[j].raw.Pos) })
			b := selected[0]
			more, whose := "", b.svc.Name+"'s"
			if n := len(selected) - 1; n > 0 {
				var names []string
				for _, o := range selected[1:min(len(selected), 4)] {
					names = append(names, o.svc.Name)
				}
				if n > 3 {
					names = append(names, fmt.Sprintf("%d more", n-3))
				}
				more = fmt.Sprintf(" and of %d other %s (%s)", n, plural(n, "service", "services"), strings.Join(names, ", "))
				whose = "their"
			}
			r.errorf(selectorPos(a), selectorField(a), "selector %s also selects the pods of service %q (selector %s at %s)%s; add a label to %s's selector that %s pods do not carry", selectorString(a.svc.Selector), b.svc.Name, selectorString(b.svc.Selector), b.raw.Pos, more, a.svc.Name, whose)
		}
	}
}

// selectorKey identifies a selector: its labels in key order, NUL-separated
// (no label key or value holds a NUL).
func selectorKey(sel map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(sel) {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(sel[k])
		b.WriteByte(0)
	}
	return b.String()
}

// selectorPos and selectorField place a problem with a service's selector:
// at selector: when written, at the service when it is the default.
func selectorPos(si *svcInfo) Pos {
	if si.raw.SelectorSet {
		return si.raw.SelectorPos
	}
	return si.raw.Pos
}

func selectorField(si *svcInfo) string {
	if si.raw.SelectorSet {
		return si.raw.Field + ".selector"
	}
	return si.raw.Field
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// coexist reports whether two environment sets (nil: all) share one.
func coexist(a, b map[string]bool) bool {
	if a == nil || b == nil {
		return true
	}
	for e := range a {
		if b[e] {
			return true
		}
	}
	return false
}

// --- entries -----------------------------------------------------------------

func (r *resolver) lookupNamespace(name string, pos Pos, field string) *nsInfo {
	info, ok := r.namespaces[name]
	if !ok {
		var valid []string
		for _, n := range r.nsNames {
			if checkLabel("namespace", n) == "" {
				valid = append(valid, n)
			} else if labelFix(n) == name {
				return nil // "Payments": its invalid name is the one mistake
			}
		}
		r.errorf(pos, field, "unknown namespace %q%s; no dependency file describes it (add one with managed: false to describe services there)", name, didYouMean(name, valid))
	}
	return info
}

// resolveEntries binds every calls and from entry. Entries only read the
// resolver (and report problems), so runs of services are resolved on every
// core, each into problems of its own, and joined in service order.
func (r *resolver) resolveEntries() {
	const run = 256
	chunks := (len(r.services) + run - 1) / run
	intents := make([][]*intent, chunks)
	probs := make([]Problems, chunks)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for c := range chunks {
		g.Go(func() error {
			rc := *r
			rc.probs = &probs[c]
			for _, si := range r.services[c*run : min((c+1)*run, len(r.services))] {
				for _, e := range si.raw.Calls {
					if it := rc.entry(si, e, false); it != nil {
						intents[c] = append(intents[c], it)
					}
				}
				for _, e := range si.raw.From {
					if it := rc.entry(si, e, true); it != nil {
						intents[c] = append(intents[c], it)
					}
				}
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no error
	for c := range chunks {
		r.intents = append(r.intents, intents[c]...)
		*r.probs = append(*r.probs, probs[c]...)
	}
}

func (r *resolver) entry(owner *svcInfo, e *rawEntry, from bool) *intent {
	it := &intent{owner: owner, entry: e, from: from}
	ok := true
	if e.EnvsSet {
		_, it.envs = r.envList(e.Envs, e.Field+".environments", e.EnvsPos)
		if it.envs == nil {
			ok = false
		}
	}
	var xok bool
	it.exception, xok = r.exception(e)
	ok = xok && ok
	switch e.Kind {
	case entryRef:
		ok = r.refEntry(it) && ok
	case entryCIDR:
		ok = r.cidrEntry(it) && ok
		ok = r.entryPorts(it) && ok
	case entryHost:
		if msg := checkHost(e.Host.S); msg != "" {
			r.errorf(e.Host.Pos, e.Field+".host", "%s", msg)
			ok = false
		}
		it.host = e.Host.S
		ok = r.entryPorts(it) && ok
	case entryRaw:
		if e.NamespaceSet {
			it.rawNS = e.Namespace.S
			if msg := checkLabel("namespace", e.Namespace.S); msg != "" {
				r.errorf(e.Namespace.Pos, e.Field+".namespace", "%s", msg)
				ok = false
			}
		} else {
			it.rawNS = owner.svc.Namespace
		}
		if len(e.Selector) > 0 {
			it.rawSel = e.Selector
			for _, msg := range checkSelector(e.Selector) {
				r.errorf(e.Pos, e.Field+".selector", "%s", msg)
				ok = false
			}
		}
		ok = r.entryPorts(it) && ok
	}
	if !ok {
		return nil
	}
	if r.project != nil && len(r.activeEnvs(it)) == 0 {
		r.neverActive(it)
		return nil
	}
	if e.Kind == entryCIDR && it.cidrName != "" && !r.checkNamedCIDR(it) {
		return nil
	}
	return it
}

// activeEnvs lists the declared environments where an intent applies: its
// owner (and peer service) exist there and the entry is not limited away.
func (r *resolver) activeEnvs(it *intent) []string {
	var out []string
	for _, env := range r.envNames {
		if in(it.owner.envs, env) && in(it.envs, env) && (it.peer == nil || in(it.peer.envs, env)) {
			out = append(out, env)
		}
	}
	return out
}

// in reports whether env is in set, nil meaning every environment.
func in(set map[string]bool, env string) bool {
	return set == nil || set[env]
}

func envPlural(envs []string) string {
	q := make([]string, len(envs))
	for i, e := range envs {
		q[i] = fmt.Sprintf("%q", e)
	}
	if len(q) == 1 {
		return "environment " + q[0]
	}
	return "environments " + strings.Join(q, ", ")
}

func envString(set map[string]bool) string {
	if set == nil {
		return "every environment"
	}
	return "[" + strings.Join(sortedKeys(set), ", ") + "]"
}

func (r *resolver) neverActive(it *intent) {
	e := it.entry
	pos, field := e.Pos, e.Field
	if e.EnvsSet {
		pos, field = e.EnvsPos, e.Field+".environments"
	}
	owner := it.owner.svc.ID() + " exists in " + envString(it.owner.envs)
	switch {
	case it.peer != nil && !e.EnvsSet:
		r.errorf(pos, field, "this entry never applies: %s and %s in %s, so no environment has both",
			owner, it.peer.svc.ID(), envString(it.peer.envs))
	case it.peer != nil:
		r.errorf(pos, field, "this entry never applies: it is limited to %s, but %s and %s in %s",
			envString(it.envs), owner, it.peer.svc.ID(), envString(it.peer.envs))
	default:
		r.errorf(pos, field, "this entry never applies: it is limited to %s, but %s", envString(it.envs), owner)
	}
}

// parseRef splits "[ns/]svc[:port[/PROTO]]".
func parseRef(s string) (ns, svc, port string, err error) {
	head, port, hasPort := strings.Cut(s, ":")
	if hasPort && port == "" {
		return "", "", "", fmt.Errorf("invalid reference %q: expected a port name or number after ':'", s)
	}
	ns, svc, hasNS := strings.Cut(head, "/")
	if !hasNS {
		ns, svc = "", head
	} else if ns == "" {
		return "", "", "", fmt.Errorf("invalid reference %q: expected a namespace before '/'", s)
	}
	if svc == "" {
		return "", "", "", fmt.Errorf("invalid reference %q: expected a service name as in \"cart\", \"cart:grpc\" or \"shop/cart:8080\"", s)
	}
	if strings.ContainsAny(svc, "/ ") {
		return "", "", "", fmt.Errorf("invalid reference %q: expected \"svc\", \"svc:port\", \"ns/svc\" or \"ns/svc:port\"", s)
	}
	return ns, svc, port, nil
}

func (r *resolver) refEntry(it *intent) bool {
	e := it.entry
	nsName, svcName, portSpec, err := parseRef(e.Ref.S)
	if err != nil {
		r.errorf(e.Ref.Pos, e.Field, "%v", err)
		return false
	}
	if nsName == "" {
		nsName = it.owner.svc.Namespace
	}
	info := r.lookupNamespace(nsName, e.Ref.Pos, e.Field)
	if info == nil {
		return false
	}
	peer, ok := info.services[svcName]
	if !ok {
		r.errorf(e.Ref.Pos, e.Field, "unknown service %q in namespace %q%s", svcName, nsName, hintOrNames(svcName, sortedKeys(info.services), "namespace "+strconv.Quote(nsName)+" declares"))
		return false
	}
	it.peer = peer
	// The port always belongs to the callee: the peer for calls, the owner
	// for from.
	callee := peer
	if it.from {
		callee = it.owner
	}
	ports, msg := r.calleePorts(callee, portSpec, it.from)
	if msg != "" {
		r.errorf(e.Ref.Pos, e.Field, "%s", msg)
	}
	if ports == nil {
		return false
	}
	it.ports = ports
	return true
}

// calleePorts resolves "", a port name, or "N[/PROTO]" on the callee. It
// returns the ports, or nil and the message to report; nil and "" mean the
// reference hit a port whose own declaration was invalid, which is reported
// there already (one mistake, one message).
func (r *resolver) calleePorts(callee *svcInfo, spec string, own bool) ([]Port, string) {
	svc := callee.svc
	who := func() string {
		if own {
			return "this service"
		}
		return fmt.Sprintf("service %q", svc.ID())
	}
	if len(svc.Ports) == 0 {
		switch {
		case len(callee.badPorts) > 0 || callee.portsUnknown:
			return nil, ""
		case own:
			return nil, "expected this service to declare ports, found none: callers have nothing to connect to; add the ports its pods listen on (ports: {http: 8080})"
		case !r.namespaces[svc.Namespace].ns.Managed:
			return nil, fmt.Sprintf("expected a service with ports, found service %q (%s) with none: it cannot be called; its namespace is managed: false, so only its document can say which ports its pods listen on: add them there", svc.ID(), svc.Source)
		}
		return nil, fmt.Sprintf("expected a service with ports, found service %q (%s) with none: it cannot be called; add the ports its pods listen on", svc.ID(), svc.Source)
	}
	if spec == "" {
		return append([]Port(nil), svc.Ports...), ""
	}
	if !isPortValue(spec) {
		var names []string
		for _, p := range svc.Ports {
			if p.Name == spec {
				return []Port{p}, ""
			}
			names = append(names, p.Name)
		}
		if callee.badPorts[spec] || callee.portsUnknown {
			return nil, ""
		}
		if strings.Contains(spec, "/") {
			return nil, fmt.Sprintf("invalid port %q: a protocol goes with a number (8080/TCP), a port name already has one", spec)
		}
		sort.Strings(names)
		return nil, fmt.Sprintf("unknown port %q on %s%s; it declares %s", spec, who(), didYouMean(spec, names), strings.Join(names, ", "))
	}
	num, proto, hasProto := strings.Cut(spec, "/")
	n, err := parsePortNumber(num)
	if err != nil {
		return nil, err.Error()
	}
	var want corev1.Protocol
	if hasProto {
		if want, err = parseProtocol(proto); err != nil {
			return nil, err.Error()
		}
	}
	var out []Port
	for _, p := range svc.Ports {
		if hasProto && p.Protocol != want {
			continue
		}
		switch {
		case p.EndPort == 0 && p.Port == n:
			out = append(out, p)
		case p.EndPort != 0 && p.Port <= n && n <= p.EndPort:
			// One port of a declared range: the rule opens that port only.
			out = append(out, Port{Protocol: p.Protocol, Port: n})
		}
	}
	if len(out) == 0 {
		if len(callee.badPorts) > 0 || callee.portsUnknown {
			return nil, "" // perhaps the port whose value is invalid
		}
		var decl []string
		for _, p := range svc.Ports {
			decl = append(decl, p.String())
		}
		return nil, fmt.Sprintf("%s does not declare port %s; it declares %s", who(), spec, strings.Join(decl, ", "))
	}
	return dedupPorts(out), ""
}

// entryPorts resolves the ports of a cidr or raw-peer entry: literal values
// for calls (no service to look names up on), the owner's own ports for from.
func (r *resolver) entryPorts(it *intent) bool {
	e := it.entry
	field := e.Field + ".ports"
	if e.AnyPort {
		it.any = true
		return true
	}
	if !it.from {
		if !e.PortsSet {
			r.errorf(e.Pos, field, "missing; expected the ports to allow (ports: [443]) or ports: any")
			return false
		}
		it.ports = r.portValues(e.Ports, field, e.PortsPos, false)
		return len(it.ports) > 0
	}
	if !e.PortsSet {
		ports, msg := r.calleePorts(it.owner, "", true)
		if msg != "" {
			r.errorf(e.Pos, e.Field, "%s", msg)
		}
		if ports == nil {
			return false
		}
		it.ports = ports
		return true
	}
	if len(e.Ports) == 0 {
		r.errorf(e.PortsPos, field, "expected at least one port, found none (leave ports out for all of this service's ports, or write ports: any)")
		return false
	}
	ok := true
	for i, v := range e.Ports {
		if msg := anyInList(v.S, false); msg != "" {
			r.errorf(v.Pos, fmt.Sprintf("%s[%d]", field, i), "%s", msg)
			ok = false
			continue
		}
		ports, msg := r.calleePorts(it.owner, v.S, true)
		if msg != "" {
			r.errorf(v.Pos, fmt.Sprintf("%s[%d]", field, i), "%s", msg)
		}
		if ports == nil {
			ok = false
			continue
		}
		it.ports = append(it.ports, ports...)
	}
	it.ports = dedupPorts(it.ports)
	return ok
}

func (r *resolver) cidrEntry(it *intent) bool {
	e := it.entry
	field := e.Field + ".cidr"
	ok := true
	var excepts []netip.Prefix
	for i, x := range e.Except {
		p, err := parseCIDR(x.S)
		if err != nil {
			r.errorf(x.Pos, fmt.Sprintf("%s.except[%d]", e.Field, i), "%v", err)
			ok = false
			continue
		}
		excepts = append(excepts, p)
	}
	sort.Slice(excepts, func(i, j int) bool { return prefixLess(excepts[i], excepts[j]) })
	it.except = excepts
	if looksLikeCIDR(e.CIDR.S) {
		p, err := parseCIDR(e.CIDR.S)
		if err != nil {
			r.errorf(e.CIDR.Pos, field, "%v", err)
			return false
		}
		it.cidr = p
		for i, x := range e.Except {
			xp, err := parseCIDR(x.S)
			if err != nil {
				continue
			}
			if msg := exceptProblem(xp, p); msg != "" {
				r.errorf(x.Pos, fmt.Sprintf("%s.except[%d]", e.Field, i), "%s", msg)
				ok = false
			}
		}
		return ok
	}
	it.cidrName = e.CIDR.S
	if r.project == nil {
		r.errorf(e.CIDR.Pos, field, "unknown cidr set %q: named cidr sets come from a project file, and this run has none (write a cidr like 10.0.0.0/8)", e.CIDR.S)
		return false
	}
	known := map[string]bool{}
	for _, s := range r.settings {
		for name := range s.cidrs {
			known[name] = true
		}
	}
	if !known[e.CIDR.S] {
		r.errorf(e.CIDR.Pos, field, "unknown cidr set %q%s; expected a cidr like 10.0.0.0/8 or a set that %s defines", e.CIDR.S, didYouMean(e.CIDR.S, sortedKeys(known)), r.project.File)
		return false
	}
	return ok
}

// exceptProblem says why x cannot be an except of block, "" if it can.
func exceptProblem(x, block netip.Prefix) string {
	if x.Addr().Is4() != block.Addr().Is4() {
		return fmt.Sprintf("expected an except of the same ip family as cidr %s (%s), found %s (%s)", block, family(block), x, family(x))
	}
	if !prefixInside(x, block) {
		return fmt.Sprintf("except %s is not inside cidr %s (expected a smaller block within it)", x, block)
	}
	return ""
}

// checkNamedCIDR checks, per environment where the entry applies, that the
// set exists there and that every except falls inside one of its blocks.
func (r *resolver) checkNamedCIDR(it *intent) bool {
	e := it.entry
	var undefined []string
	outside := make([][]string, len(it.except))
	for _, env := range r.activeEnvs(it) {
		set, defined := r.settings[env].cidrs[it.cidrName]
		if !defined {
			undefined = append(undefined, env)
			continue
		}
		for i, x := range it.except {
			inside := false
			for _, b := range set.blocks {
				if exceptProblem(x, b) == "" {
					inside = true
					break
				}
			}
			if !inside {
				outside[i] = append(outside[i], env)
			}
		}
	}
	ok := len(undefined) == 0
	if !ok {
		r.errorf(e.CIDR.Pos, e.Field+".cidr", "cidr set %q is not defined in %s, where this entry applies; define it there or under cluster, or limit the entry with environments", it.cidrName, envPlural(undefined))
	}
	for i, envs := range outside {
		if len(envs) == 0 {
			continue
		}
		ok = false
		pos := e.Pos
		if i < len(e.Except) {
			pos = e.Except[i].Pos
		}
		r.errorf(pos, fmt.Sprintf("%s.except[%d]", e.Field, i), "except %s is not inside any block of cidr set %q in %s", it.except[i], it.cidrName, envPlural(envs))
	}
	return ok
}

// --- the Spec ----------------------------------------------------------------

func (r *resolver) spec() *Spec {
	s := &Spec{}
	if r.project != nil {
		s.ProjectFile = r.project.File
		s.Layout = r.project.Layout
	}
	s.Exceptions = r.exceptions
	if r.project != nil {
		s.ExceptionWarnDays = r.project.WarnDays
	}
	for _, name := range r.nsNames {
		s.Namespaces = append(s.Namespaces, r.namespaces[name].ns)
	}
	// Environments only read the resolver's state: build them side by side.
	names := r.envNames
	if len(names) == 0 {
		names = []string{""}
	}
	s.Environments = make([]*Environment, len(names))
	var g errgroup.Group
	for i, env := range names {
		g.Go(func() error {
			s.Environments[i] = r.environment(env)
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no error
	r.checkGuardrails(s)
	return s
}

func (r *resolver) environment(env string) *Environment {
	out := &Environment{Name: env, Services: make([]*Service, 0, len(r.services))}
	set := r.settings[env]
	if set != nil {
		out.DNS = set.dns
		out.PodCIDRs = prefixStrings(set.pods)
		out.ServiceCIDRs = prefixStrings(set.services)
		out.Guardrails = set.guardrails
		out.Sensitive = set.sensitive
		out.Plugin, out.Mode, out.LogDenied = set.plugin, set.mode, set.logDenied
		out.Hosts = pinnedHosts(set.hosts)
	}
	exists := func(si *svcInfo) bool { return env == "" || in(si.envs, env) }
	for _, si := range r.services {
		if exists(si) {
			out.Services = append(out.Services, si.svc)
		}
	}
	// Rules are 200 bytes and an environment of 10,000 services has some
	// 90,000: count them first and allocate once, exactly.
	active := make([]*intent, 0, len(r.intents))
	n := 0
	for _, it := range r.intents {
		if !exists(it.owner) || (env != "" && !in(it.envs, env)) || (it.peer != nil && !exists(it.peer)) {
			continue
		}
		active = append(active, it)
		switch {
		case it.entry.Kind == entryRef:
			n += 2 // egress of the caller, ingress of the callee
		case it.entry.Kind == entryCIDR && it.cidrName != "":
			n += len(set.cidrs[it.cidrName].blocks)
		case it.entry.Kind == entryHost && set.hosts[it.host] != nil:
			n += len(set.hosts[it.host].blocks)
		default:
			n++
		}
	}
	out.Rules = make([]Rule, 0, n)
	for _, it := range active {
		src := it.entry.Pos
		over := it.entry.OverriddenBy.S
		x := it.exception
		dir := Egress
		if it.from {
			dir = Ingress
		}
		switch it.entry.Kind {
		case entryRef:
			caller, callee := it.owner, it.peer
			if it.from {
				caller, callee = it.peer, it.owner
			}
			out.Rules = append(out.Rules,
				Rule{Service: caller.svc, Direction: Egress, Peer: Peer{Kind: PeerService, Service: callee.svc}, Ports: it.ports, Source: src, OverriddenBy: over, Exception: x},
				Rule{Service: callee.svc, Direction: Ingress, Peer: Peer{Kind: PeerService, Service: caller.svc}, Ports: it.ports, Source: src, OverriddenBy: over, Exception: x})
		case entryRaw:
			out.Rules = append(out.Rules, Rule{Service: it.owner.svc, Direction: dir,
				Peer:  Peer{Kind: PeerSelector, Namespace: it.rawNS, Selector: it.rawSel},
				Ports: it.ports, AnyPort: it.any, Source: src, OverriddenBy: over, Exception: x})
		case entryCIDR:
			blocks := []netip.Prefix{it.cidr}
			if it.cidrName != "" {
				blocks = set.cidrs[it.cidrName].blocks
			}
			for _, b := range blocks {
				peer := Peer{Kind: PeerCIDR, CIDR: b.String(), CIDRName: it.cidrName}
				for _, x := range it.except {
					if exceptProblem(x, b) == "" {
						peer.Except = append(peer.Except, x.String())
					}
				}
				out.Rules = append(out.Rules, Rule{Service: it.owner.svc, Direction: dir, Peer: peer,
					Ports: it.ports, AnyPort: it.any, Source: src, OverriddenBy: over, Exception: x})
			}
		case entryHost:
			// The design's resolution: pinned addresses win whatever the
			// plugin (plain v1 ipBlock); else cilium allows the name;
			// else checkEnforcement reported the entry.
			var peers []Peer
			switch {
			case set.hosts[it.host] != nil:
				for _, b := range set.hosts[it.host].blocks {
					peers = append(peers, Peer{Kind: PeerCIDR, CIDR: b.String(), Host: it.host})
				}
			case set.plugin == PluginCilium:
				peers = []Peer{{Kind: PeerHost, Host: it.host}}
			}
			for _, peer := range peers {
				out.Rules = append(out.Rules, Rule{Service: it.owner.svc, Direction: Egress, Peer: peer,
					Ports: it.ports, AnyPort: it.any, Source: src, OverriddenBy: over, Exception: x})
			}
		}
	}
	out.Rules = sortedUniqueRules(out.Rules)
	return out
}

// sortedUniqueRules returns rules sorted stably by (service namespace,
// service name, direction, source position, peer), without a rule
// identical to an earlier one (a call declared on both sides, or twice):
// the first, by source position, explains it.
//
// An environment of 10,000 services has some 90,000 rules of about 200
// bytes each, and sort.SliceStable moved them O(n log² n) times through
// reflection: a fifth of loading. Here rule indexes are bucketed by service
// (a stable counting sort over the services' ranks), each bucket of a few
// rules is sorted on its own, and the rules are permuted in place.
func sortedUniqueRules(rules []Rule) []Rule {
	if len(rules) < 2 {
		return rules
	}
	// Rank the services by (namespace, name); equal names share a rank,
	// so the order is the one comparing names would give.
	ids := map[*Service]int32{}
	var svcs []*Service
	ruleSvc := make([]int32, len(rules))
	for i := range rules {
		s := rules[i].Service
		id, ok := ids[s]
		if !ok {
			id = int32(len(svcs))
			ids[s] = id
			svcs = append(svcs, s)
		}
		ruleSvc[i] = id
	}
	byName := make([]int32, len(svcs))
	for i := range byName {
		byName[i] = int32(i)
	}
	slices.SortFunc(byName, func(a, b int32) int {
		return cmp.Or(strings.Compare(svcs[a].Namespace, svcs[b].Namespace), strings.Compare(svcs[a].Name, svcs[b].Name))
	})
	rank := make([]int32, len(svcs))
	n := int32(0)
	for k, id := range byName {
		if k > 0 {
			prev := svcs[byName[k-1]]
			if prev.Namespace != svcs[id].Namespace || prev.Name != svcs[id].Name {
				n++
			}
		}
		rank[id] = n
	}
	// Stable counting sort of rule indexes by rank.
	start := make([]int32, n+2)
	for _, id := range ruleSvc {
		start[rank[id]+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	idx := make([]int32, len(rules))
	next := slices.Clone(start)
	for i, id := range ruleSvc {
		r := rank[id]
		idx[next[r]] = int32(i)
		next[r]++
	}
	// Within one service: direction, source, peer; ties keep their order.
	for r := 0; r+1 < len(start); r++ {
		if bucket := idx[start[r]:start[r+1]]; len(bucket) > 1 {
			slices.SortStableFunc(bucket, func(i, j int32) int { return compareInService(&rules[i], &rules[j]) })
		}
	}
	// Apply the permutation in place, cycle by cycle: a second array of
	// rules would be tens of megabytes of fresh pages to fault in.
	for i := range idx {
		if idx[i] < 0 {
			continue
		}
		tmp := rules[i]
		j := int32(i)
		for {
			k := idx[j]
			idx[j] = -1
			if k == int32(i) {
				rules[j] = tmp
				break
			}
			rules[j] = rules[k]
			j = k
		}
	}
	// Drop duplicates service by service: identical rules share a bucket.
	kept := 0
	var seen map[string]struct{}
	var key []byte
	for r := 0; r+1 < len(start); r++ {
		lo, hi := kept, int(start[r+1])
		// A hub called by thousands has a bucket as big: compare keys
		// through a map there rather than every pair.
		big := hi-int(start[r]) > 64
		if big {
			seen = make(map[string]struct{}, hi-int(start[r]))
		}
		for i := int(start[r]); i < hi; i++ {
			if big {
				key = appendRuleKey(key[:0], &rules[i])
				if _, dup := seen[string(key)]; dup {
					continue
				}
				seen[string(key)] = struct{}{}
			} else if containsRule(rules[lo:kept], &rules[i]) {
				continue
			}
			if kept != i {
				rules[kept] = rules[i]
			}
			kept++
		}
	}
	clear(rules[kept:]) // drop what the duplicates point at
	return rules[:kept]
}

func containsRule(rules []Rule, r *Rule) bool {
	for i := range rules {
		if sameRule(&rules[i], r) {
			return true
		}
	}
	return false
}

// sameRule reports whether two rules of one service allow the same
// connections: appendRuleKey's identity without building the keys.
func sameRule(a, b *Rule) bool {
	if a.Direction != b.Direction || a.AnyPort != b.AnyPort || a.Peer.Kind != b.Peer.Kind || len(a.Ports) != len(b.Ports) || a.Exception != b.Exception {
		return false
	}
	for i := range a.Ports {
		x, y := &a.Ports[i], &b.Ports[i]
		if x.Port != y.Port || x.EndPort != y.EndPort || x.Protocol != y.Protocol {
			return false
		}
	}
	if a.Peer.Kind == PeerService {
		return a.Peer.Service.Namespace == b.Peer.Service.Namespace && a.Peer.Service.Name == b.Peer.Service.Name
	}
	return peerKey(a.Peer) == peerKey(b.Peer)
}

func compareInService(a, b *Rule) int {
	if c := strings.Compare(string(a.Direction), string(b.Direction)); c != 0 {
		return c
	}
	if a.Source != b.Source {
		if posLess(a.Source, b.Source) {
			return -1
		}
		return 1
	}
	return strings.Compare(peerKey(a.Peer), peerKey(b.Peer))
}

// peerKey orders and identifies peers. CIDRs sort as written in canonical
// form; the zero-padded address keeps 9.0.0.0/8 before 10.0.0.0/8.
func peerKey(p Peer) string {
	switch p.Kind {
	case PeerService:
		return "0 " + p.Service.ID()
	case PeerCIDR:
		key := p.CIDR
		if pr, err := netip.ParsePrefix(p.CIDR); err == nil {
			a := pr.Addr().As16()
			key = fmt.Sprintf("%x/%03d", a, pr.Bits())
		}
		return "1 " + key + " " + strings.Join(p.Except, ",") + " " + p.CIDRName + " " + p.Host
	case PeerHost:
		return "3 " + p.Host
	default:
		return "2 " + p.Namespace + " " + selectorString(p.Selector)
	}
}

// appendRuleKey appends the identity of r (service, direction, peer,
// ports) to b.
func appendRuleKey(b []byte, r *Rule) []byte {
	b = append(b, r.Service.Namespace...)
	b = append(b, '/')
	b = append(b, r.Service.Name...)
	b = append(b, ' ')
	b = append(b, r.Direction...)
	b = append(b, ' ')
	if r.Peer.Kind == PeerService {
		b = append(b, "0 "...)
		b = append(b, r.Peer.Service.Namespace...)
		b = append(b, '/')
		b = append(b, r.Peer.Service.Name...)
	} else {
		b = append(b, peerKey(r.Peer)...)
	}
	if r.AnyPort {
		b = append(b, " any"...)
	}
	for _, p := range r.Ports {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(p.Port), 10)
		if p.EndPort != 0 {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(p.EndPort), 10)
		}
		b = append(b, '/')
		b = append(b, p.Protocol...)
	}
	if r.Exception != nil {
		// Names are unique per run: the name is the exception's identity.
		b = append(b, " exception "...)
		b = append(b, r.Exception.Name...)
	}
	return b
}

func prefixStrings(ps []netip.Prefix) []string {
	if len(ps) == 0 {
		return nil
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// anyInList is the message for "any" written as an item of a ports list
// ([any], [ANY]), "" for any other item.
func anyInList(s string, dns bool) string {
	if !strings.EqualFold(s, "any") {
		return ""
	}
	if dns {
		return fmt.Sprintf("expected a port number, found %q %s", s, dnsPortsAdvice)
	}
	return fmt.Sprintf("expected a port, found %q; for every port write ports: any, without brackets", s)
}
