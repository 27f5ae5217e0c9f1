package policy

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netdep/netdep/schema"
)

// Names of the namespace-wide policies. schema reserves them as service names.
const (
	DefaultDenyName = "default-deny"
	AllowDNSName    = "allow-dns"
)

// NamespaceLabel is the label the API server puts on every namespace (since
// Kubernetes 1.21); cross-namespace peers select on it.
const NamespaceLabel = "kubernetes.io/metadata.name"

// Generate turns a resolved spec into policies.
//
// Every policy is first built per environment as a set of atoms (direction,
// peer, port). A policy whose atoms are the same everywhere goes to the base.
// A service policy that differs keeps the shared atoms in the base and gets an
// additive policy "<name>.<env>" in each environment that has more: policies
// are a union, so an environment's extra edges need no patch of the base (and
// strategic-merge patches would replace whole rule lists). The dot cannot
// occur in a service name (a DNS-1123 label), so the additive name never
// collides with a service's own policy.
func Generate(spec *schema.Spec) (*Set, error) {
	envs := spec.EnvNames()
	g := newGen(spec)
	perEnv := make([]map[unitKey]*unit, len(envs))
	var keys []unitKey
	seen := map[unitKey]bool{}
	for i, name := range envs {
		env := spec.Environment(name)
		if env == nil {
			return nil, fmt.Errorf("spec has no resolved environment %q", name)
		}
		units, err := g.buildUnits(env)
		if err != nil {
			return nil, err
		}
		perEnv[i] = units
		for k := range units {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })

	set := &Set{}
	if len(spec.Environments) > 0 {
		set.Environments = append([]string(nil), spec.Environments...)
		set.Overlays = make([][]*networkingv1.NetworkPolicy, len(envs))
	}
	for _, k := range keys {
		versions := make([]*unit, len(envs))
		present := 0
		for i := range envs {
			if u := perEnv[i][k]; u != nil {
				versions[i] = u
				present++
			}
		}
		if set.Environments == nil {
			set.Base = append(set.Base, versions[0].policy(k.name))
			continue
		}
		split(set, k, versions, present == len(envs))
	}
	for i := range set.Overlays {
		sortPolicies(set.Overlays[i])
	}
	sortPolicies(set.Base)
	return set, nil
}

// split places one policy's per-environment versions into base and overlays.
func split(set *Set, k unitKey, versions []*unit, everywhere bool) {
	if everywhere {
		common := versions[0].atoms
		same := true
		for _, u := range versions[1:] {
			if !sameKeys(common, u.atoms) {
				same = false
			}
			common = intersect(common, u.atoms)
		}
		if same {
			set.Base = append(set.Base, versions[0].policy(k.name))
			return
		}
		if len(common) > 0 || versions[0].alwaysEmit {
			base := versions[0].with(common)
			set.Base = append(set.Base, base.policy(k.name))
			for i, u := range versions {
				extra := u.with(subtract(u.atoms, common))
				if len(extra.atoms) == 0 {
					continue
				}
				// The additive policy only adds allows: the base policy
				// already isolates, so it names just the directions it has
				// rules for.
				extra.policyTypes = extra.directions()
				extra.wave = AllowWave
				name := k.name + "." + set.Environments[i]
				set.Overlays[i] = append(set.Overlays[i], extra.policy(name))
			}
			return
		}
	}
	for i, u := range versions {
		if u != nil {
			set.Overlays[i] = append(set.Overlays[i], u.policy(k.name))
		}
	}
}

type unitKey struct{ namespace, name string }

func (a unitKey) less(b unitKey) bool {
	if a.namespace != b.namespace {
		return a.namespace < b.namespace
	}
	return a.name < b.name
}

// unit is one policy in one environment before rendering.
type unit struct {
	namespace   string
	selector    map[string]string // nil: every pod of the namespace
	policyTypes []networkingv1.PolicyType
	source      string
	wave        string
	// alwaysEmit keeps a base policy even when the environments share no
	// rule: a service's own policy documents (and enforces) its isolation.
	alwaysEmit bool
	atoms      map[string]atom
}

func (u *unit) with(atoms map[string]atom) *unit {
	c := *u
	c.atoms = atoms
	return &c
}

func (u *unit) directions() []networkingv1.PolicyType {
	var in, eg bool
	for _, a := range u.atoms {
		if a.dir == schema.Ingress {
			in = true
		} else {
			eg = true
		}
	}
	return policyTypes(in, eg)
}

func policyTypes(ingress, egress bool) []networkingv1.PolicyType {
	var out []networkingv1.PolicyType
	if ingress {
		out = append(out, networkingv1.PolicyTypeIngress)
	}
	if egress {
		out = append(out, networkingv1.PolicyTypeEgress)
	}
	return out
}

// gen holds what one Generate call computes once and reuses: rendering the
// same peer or port for every policy that names it is most of the work on
// large organisations.
type gen struct {
	spec       *schema.Spec
	namespaces map[string]*schema.Namespace
	peers      map[peerCacheKey]renderedPeer
	ports      map[schema.Port]renderedPort
}

type peerCacheKey struct {
	own string
	// one of: the service, or a string identity of a raw or CIDR peer
	service *schema.Service
	other   string
}

type renderedPeer struct {
	peer networkingv1.NetworkPolicyPeer
	key  string
}

type renderedPort struct {
	port *networkingv1.NetworkPolicyPort
	key  string
}

func newGen(spec *schema.Spec) *gen {
	g := &gen{spec: spec, namespaces: map[string]*schema.Namespace{},
		peers: map[peerCacheKey]renderedPeer{}, ports: map[schema.Port]renderedPort{}}
	for _, ns := range spec.Namespaces {
		g.namespaces[ns.Name] = ns
	}
	return g
}

func (g *gen) peer(own string, p schema.Peer) renderedPeer {
	k := peerCacheKey{own: own}
	switch p.Kind {
	case schema.PeerService:
		k.service = p.Service
	case schema.PeerCIDR:
		k.other = "c" + p.CIDR + "|" + strings.Join(p.Except, ",")
	default:
		k.other = "s" + p.Namespace + "|" + labelKey(p.Selector)
	}
	if r, ok := g.peers[k]; ok {
		return r
	}
	peer, key := renderPeer(own, p)
	r := renderedPeer{peer: peer, key: key}
	g.peers[k] = r
	return r
}

func (g *gen) port(p schema.Port) renderedPort {
	p.Name = "" // the name never reaches the policy: ports are numeric
	if r, ok := g.ports[p]; ok {
		return r
	}
	port, key := renderPort(p)
	r := renderedPort{port: port, key: key}
	g.ports[p] = r
	return r
}

func (g *gen) buildUnits(env *schema.Environment) (map[unitKey]*unit, error) {
	spec := g.spec
	units := map[unitKey]*unit{}
	byService := map[*schema.Service]*unit{}
	for _, ns := range spec.Namespaces {
		if !ns.Managed || !(ns.IsolateIngress || ns.IsolateEgress) {
			continue
		}
		source := strings.Join(ns.Sources, ",")
		units[unitKey{ns.Name, DefaultDenyName}] = &unit{
			namespace:   ns.Name,
			policyTypes: policyTypes(ns.IsolateIngress, ns.IsolateEgress),
			source:      source,
			wave:        DenyWave,
			alwaysEmit:  true,
			atoms:       map[string]atom{},
		}
		if ns.IsolateEgress && env.DNS != nil {
			dns := &unit{
				namespace:   ns.Name,
				policyTypes: policyTypes(false, true),
				source:      source,
				wave:        AllowWave,
				atoms:       map[string]atom{},
			}
			for _, p := range env.DNS.Peers {
				for _, port := range env.DNS.Ports {
					dns.add(g, schema.Egress, ns.Name, p, &port)
				}
			}
			units[unitKey{ns.Name, AllowDNSName}] = dns
		}
	}
	for _, s := range env.Services {
		ns := g.namespaces[s.Namespace]
		if ns == nil {
			return nil, fmt.Errorf("service %s: namespace not in spec", s.ID())
		}
		if !ns.Managed || !(ns.IsolateIngress || ns.IsolateEgress) {
			continue
		}
		k := unitKey{s.Namespace, s.Name}
		if _, dup := units[k]; dup {
			return nil, fmt.Errorf("service %s: policy name %q is taken", s.ID(), s.Name)
		}
		u := &unit{
			namespace:   s.Namespace,
			selector:    s.Selector,
			policyTypes: policyTypes(ns.IsolateIngress, ns.IsolateEgress),
			source:      s.Source.File,
			wave:        AllowWave,
			alwaysEmit:  true,
			atoms:       map[string]atom{},
		}
		units[k] = u
		byService[s] = u
	}
	for _, r := range env.Rules {
		u := byService[r.Service]
		if u == nil {
			continue // unmanaged namespace, or service absent here
		}
		ns := g.namespaces[r.Service.Namespace]
		if r.Direction == schema.Ingress && !ns.IsolateIngress ||
			r.Direction == schema.Egress && !ns.IsolateEgress {
			// A direction netdep does not isolate is open anyway; an allow
			// rule there would claim control it does not have.
			continue
		}
		if r.AnyPort {
			u.add(g, r.Direction, r.Service.Namespace, r.Peer, nil)
			continue
		}
		for _, p := range r.Ports {
			u.add(g, r.Direction, r.Service.Namespace, r.Peer, &p)
		}
	}
	return units, nil
}

// atom is one allowed (direction, peer, port) of a policy. A nil port means
// every port.
type atom struct {
	dir  schema.Direction
	peer networkingv1.NetworkPolicyPeer
	port *networkingv1.NetworkPolicyPort
	// peerKey and portKey are canonical strings used for grouping, equality
	// across environments and sorting.
	peerKey, portKey string
}

func (u *unit) add(g *gen, dir schema.Direction, ownNamespace string, p schema.Peer, port *schema.Port) {
	rp := g.peer(ownNamespace, p)
	a := atom{dir: dir, peer: rp.peer, peerKey: rp.key, portKey: "*"}
	if port != nil {
		r := g.port(*port)
		a.port, a.portKey = r.port, r.key
	}
	u.atoms[string(dir)+"|"+a.peerKey+"|"+a.portKey] = a
}

func renderPeer(ownNamespace string, p schema.Peer) (networkingv1.NetworkPolicyPeer, string) {
	switch p.Kind {
	case schema.PeerCIDR:
		except := append([]string(nil), p.Except...)
		sort.Strings(except)
		return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: p.CIDR, Except: except}},
			"2cidr:" + p.CIDR + " except " + strings.Join(except, ",")
	case schema.PeerService:
		return podPeer(ownNamespace, p.Service.Namespace, p.Service.Selector)
	default:
		return podPeer(ownNamespace, p.Namespace, p.Selector)
	}
}

// podPeer selects pods in namespace ns. Within the policy's own namespace a
// podSelector alone suffices (a nil namespaceSelector means "this
// namespace"). Across namespaces the namespaceSelector and podSelector go in
// the SAME peer, which ANDs them; two peers would OR them and admit every pod
// of the namespace plus every matching pod of the policy's own namespace.
func podPeer(ownNamespace, ns string, selector map[string]string) (networkingv1.NetworkPolicyPeer, string) {
	var peer networkingv1.NetworkPolicyPeer
	if ns != ownNamespace {
		key := "1ns:" + ns + " pods:" + labelKey(selector)
		peer.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{NamespaceLabel: ns}}
		if selector != nil {
			peer.PodSelector = &metav1.LabelSelector{MatchLabels: copyLabels(selector)}
		}
		return peer, key
	}
	key := "0pods:" + labelKey(selector)
	// nil selector: every pod of the own namespace, written as an empty
	// podSelector (a peer with neither selector is invalid).
	peer.PodSelector = &metav1.LabelSelector{MatchLabels: copyLabels(selector)}
	return peer, key
}

func copyLabels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func labelKey(m map[string]string) string {
	if m == nil {
		return "*"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}

// renderPort always writes the protocol: relying on the API server's TCP
// default would make the manifest mean something else to tools that read it
// raw.
func renderPort(p schema.Port) (*networkingv1.NetworkPolicyPort, string) {
	proto := p.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	port := intstr.FromInt32(p.Port)
	out := &networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &port}
	key := fmt.Sprintf("%s/%05d", proto, p.Port)
	if p.EndPort > p.Port {
		end := p.EndPort
		out.EndPort = &end
		key += fmt.Sprintf("-%05d", end)
	}
	return out, key
}

func sameKeys(a, b map[string]atom) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func intersect(a, b map[string]atom) map[string]atom {
	out := map[string]atom{}
	for k, v := range a {
		if _, ok := b[k]; ok {
			out[k] = v
		}
	}
	return out
}

func subtract(a, b map[string]atom) map[string]atom {
	out := map[string]atom{}
	for k, v := range a {
		if _, ok := b[k]; !ok {
			out[k] = v
		}
	}
	return out
}

// policy renders the unit. Peers are grouped into one rule per distinct port
// set: a rule allows the cross product of its peers and ports, so grouping
// peers with identical port sets allows exactly the atoms and nothing more.
func (u *unit) policy(name string) *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   u.namespace,
			Labels:      map[string]string{ManagedByLabel: ManagedByValue},
			Annotations: map[string]string{SourceAnnotation: u.source, SyncWaveAnnotation: u.wave},
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: copyLabels(u.selector)},
			PolicyTypes: u.policyTypes,
		},
	}
	for _, g := range u.groups(schema.Ingress) {
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: g.policyPeers(), Ports: g.ports})
	}
	for _, g := range u.groups(schema.Egress) {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: g.policyPeers(), Ports: g.ports})
	}
	return np
}

type group struct {
	key   string
	peers []*peerPorts
	ports []networkingv1.NetworkPolicyPort
}

type peerPorts struct {
	peer  networkingv1.NetworkPolicyPeer
	key   string
	ports map[string]*networkingv1.NetworkPolicyPort
}

func (u *unit) groups(dir schema.Direction) []group {
	byPeer := map[string]*peerPorts{}
	for _, a := range u.atoms {
		if a.dir != dir {
			continue
		}
		pp := byPeer[a.peerKey]
		if pp == nil {
			pp = &peerPorts{peer: a.peer, key: a.peerKey, ports: map[string]*networkingv1.NetworkPolicyPort{}}
			byPeer[a.peerKey] = pp
		}
		pp.ports[a.portKey] = a.port
	}
	byPorts := map[string]*group{}
	for _, pp := range byPeer {
		if _, any := pp.ports["*"]; any {
			// Every port subsumes the listed ones.
			pp.ports = map[string]*networkingv1.NetworkPolicyPort{"*": nil}
		}
		portKeys := sortedKeys(pp.ports)
		gk := strings.Join(portKeys, ";")
		g := byPorts[gk]
		if g == nil {
			g = &group{key: gk}
			for _, k := range portKeys {
				if p := pp.ports[k]; p != nil {
					g.ports = append(g.ports, *p)
				}
			}
			byPorts[gk] = g
		}
		g.peers = append(g.peers, pp)
	}
	out := make([]group, 0, len(byPorts))
	for _, g := range byPorts {
		sort.Slice(g.peers, func(i, j int) bool { return g.peers[i].key < g.peers[j].key })
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

func (g group) policyPeers() []networkingv1.NetworkPolicyPeer {
	out := make([]networkingv1.NetworkPolicyPeer, len(g.peers))
	for i, pp := range g.peers {
		out[i] = pp.peer
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
