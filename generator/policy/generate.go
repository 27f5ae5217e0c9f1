package policy

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/schema"
)

// Names of the namespace-wide policies. schema reserves them as service names.
const (
	DefaultDenyName = "default-deny"
	AllowDNSName    = "allow-dns"
	AllowEgressName = "allow-egress"
	// AllowDNSIngressName admits DNS from every pod into the cluster DNS
	// pods when their namespace is managed and isolated for ingress.
	AllowDNSIngressName = "allow-dns-ingress"
)

// everyPod is the peer "every pod of every namespace" (an empty
// namespaceSelector): no schema namespace is named "*".
var everyPod = schema.Peer{Kind: schema.PeerSelector, Namespace: "*"}

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
	for _, name := range envs {
		if spec.Environment(name) == nil {
			return nil, fmt.Errorf("spec has no resolved environment %q", name)
		}
	}
	// Environments are built side by side, each numbering its peers and
	// ports on its own; merge then renders and renumbers them into g in
	// environment order, so ids (and so everything after) do not depend on
	// scheduling.
	g := newGen(spec)
	locals := make([]*numbering, len(envs))
	perEnv := make([]map[unitKey]*unit, len(envs))
	errs := make([]error, len(envs))
	var eg errgroup.Group
	for i, name := range envs {
		eg.Go(func() error {
			locals[i] = newNumbering()
			perEnv[i], errs[i] = g.buildUnits(spec.Environment(name), locals[i])
			return nil
		})
	}
	_ = eg.Wait() // errors are in errs
	for _, err := range errs {
		if err != nil {
			return nil, err // the first environment's, whichever finished first
		}
	}
	var keys []unitKey
	seen := map[unitKey]bool{}
	for i, units := range perEnv {
		g.merge(locals[i], units)
		for k := range units {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	g.rank()

	set := &Set{}
	if !spec.Implicit() {
		set.Environments = spec.EnvNames()
		set.Overlays = make([][]*networkingv1.NetworkPolicy, len(envs))
	}
	var placed []placement
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
			placed = append(placed, placement{versions[0], k.name, -1})
			continue
		}
		placed = split(placed, set.Environments, k, versions, present == len(envs))
	}
	// Rendering a policy reads only the merged gen: render them all on
	// every core, then file them in the order split chose.
	rendered := make([]*networkingv1.NetworkPolicy, len(placed))
	var rg errgroup.Group
	rg.SetLimit(runtime.GOMAXPROCS(0))
	const run = 256
	for lo := 0; lo < len(placed); lo += run {
		rg.Go(func() error {
			for i := lo; i < min(lo+run, len(placed)); i++ {
				rendered[i] = placed[i].unit.policy(placed[i].name)
			}
			return nil
		})
	}
	_ = rg.Wait() // rendering cannot fail
	for i, p := range placed {
		if p.env < 0 {
			set.Base = append(set.Base, rendered[i])
		} else {
			set.Overlays[p.env] = append(set.Overlays[p.env], rendered[i])
		}
	}
	for i := range set.Overlays {
		sortPolicies(set.Overlays[i])
	}
	sortPolicies(set.Base)
	cluster := make([][]*v1beta1.ClusterNetworkPolicy, len(envs))
	alpha := make([]bool, len(envs))
	mixed := false
	for i, name := range envs {
		env := spec.Environment(name)
		cluster[i] = ClusterPolicies(spec, env)
		alpha[i] = env.ClusterAPI() == schema.APIV1alpha1
		mixed = mixed || alpha[i] != alpha[0]
	}
	switch {
	case set.Environments == nil:
		set.ClusterBase, set.ClusterBaseV1Alpha1 = cluster[0], alpha[0]
	case mixed:
		// An object in the base is written once, in one API: with
		// environments in both, each keeps its own.
		set.ClusterOverlays, set.ClusterOverlaysV1Alpha1 = cluster, alpha
	default:
		set.ClusterBase, set.ClusterOverlays = splitCluster(cluster)
		set.ClusterBaseV1Alpha1, set.ClusterOverlaysV1Alpha1 = alpha[0], alpha
	}
	plugins, err := pluginObjects(spec)
	if err != nil {
		return nil, err
	}
	set.Plugins = plugins
	return set, nil
}

// pluginObjects builds, per environment, what its plugin adds to the
// NetworkPolicies: CiliumNetworkPolicies for host calls on cilium, the
// log: denied policies on calico. A host rule on any other plugin is a
// spec the loader should have refused (v1 cannot name a host).
func pluginObjects(spec *schema.Spec) ([]PluginObjects, error) {
	var out []PluginObjects
	for _, name := range spec.EnvNames() {
		env := spec.Environment(name)
		po := PluginObjects{Env: name, Plugin: env.PluginOrDefault(), Audit: env.Audit()}
		switch po.Plugin {
		case schema.PluginCilium:
			cnps, err := ciliumPolicies(spec, env)
			if err != nil {
				return nil, fmt.Errorf("environment %s: %w", name, err)
			}
			po.Cilium = cnps
		case schema.PluginCalico:
			po.Calico = calicoPolicies(spec, env)
		}
		if po.Plugin != schema.PluginCilium {
			for i := range env.Rules {
				if r := &env.Rules[i]; r.Peer.Kind == schema.PeerHost {
					return nil, fmt.Errorf("environment %s: service %s: host %s: plugin %s cannot allow egress by DNS name", name, r.Service.ID(), r.Peer.Host, po.Plugin)
				}
			}
		}
		out = append(out, po)
	}
	return out, nil
}

// dnsByGuardrail reports whether ns needs no allow-dns NetworkPolicy in
// env because the cluster tiers already say the same: in v1alpha1, a
// namespace the BaselineAdminNetworkPolicy covers, with the dns guardrail's
// Admin Accept of the environment's DNS. There allow-dns would change no
// verdict of the API, but kube-network-policies v0.8.0 skips the baseline
// for every pod a NetworkPolicy selects, in either direction: allow-dns,
// which selects every pod, would switch off the Baseline's ingress deny for
// the pods nothing else selects (tests/e2e measured it).
func dnsByGuardrail(env *schema.Environment, ns *schema.Namespace) bool {
	if env.ClusterAPI() != schema.APIV1alpha1 || !env.BaselineDeny(ns) {
		return false
	}
	for _, g := range env.AdminGuardrails() {
		if g.Kind == schema.GuardrailDNS {
			return true
		}
	}
	return false
}

// placement is a policy split decided on: the unit to render, its name, and
// where it goes (the index of an environment's overlay, -1 for the base).
type placement struct {
	unit *unit
	name string
	env  int
}

// split places one policy's per-environment versions into base and overlays.
func split(placed []placement, envs []string, k unitKey, versions []*unit, everywhere bool) []placement {
	if everywhere {
		common := versions[0].atoms
		same := true
		for _, u := range versions[1:] {
			if !slices.Equal(common, u.atoms) {
				same = false
			}
			common = intersect(common, u.atoms)
		}
		if same {
			return append(placed, placement{versions[0], k.name, -1})
		}
		if len(common) > 0 || versions[0].alwaysEmit {
			shared := versions[0].with(common)
			if shared.exception != nil {
				shared.policyTypes = shared.directions() // only allows
			}
			placed = append(placed, placement{shared, k.name, -1})
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
				placed = append(placed, placement{extra, k.name + "." + envs[i], i})
			}
			return placed
		}
	}
	for i, u := range versions {
		if u != nil {
			placed = append(placed, placement{u, k.name, i})
		}
	}
	return placed
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
	// openEgress renders one empty egress rule: every destination.
	openEgress bool
	// exception is set on an exception's policy (annotated with it).
	exception *schema.Exception
	// atoms are sorted and unique once merged (atom.compare).
	atoms []atom
	// gen is where the atoms' peers and ports are.
	gen *gen
}

func (u *unit) with(atoms []atom) *unit {
	c := *u
	c.atoms = atoms
	return &c
}

func (u *unit) directions() []networkingv1.PolicyType {
	var in, eg bool
	for _, a := range u.atoms {
		if a.ingress {
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

// gen holds what building policies computes once and reuses: rendering the
// same peer or port for every policy that names it is most of the work on
// large organisations. Peers and ports are interned by their canonical key
// (the string that orders and identifies them): an atom is then three small
// numbers, and comparing the atoms of a policy across environments is a
// merge of sorted slices rather than string-keyed map operations. Each
// environment numbers its peers and ports on its own (numbering); merge
// renders them into the one gen every unit then refers to.
type gen struct {
	spec       *schema.Spec
	namespaces map[string]*schema.Namespace

	peers   []renderedPeer   // by peer id
	peerIDs map[string]int32 // by key
	ports   []renderedPort   // by port id; 0 is every port ("*")
	portIDs map[string]int32 // by key
	// peerRank and portRank order ids by key, filled by rank once every
	// unit is built.
	peerRank, portRank []int32

	// seen numbers the peers and ports merged so far by identity, in
	// front of rendering; peerOf and portOf map its ids to gen's.
	seen           *numbering
	peerOf, portOf []int32
}

type svcPeerKey struct {
	service *schema.Service
	sameNS  bool
}

type otherPeerKey struct {
	own   string
	other string // a string identity of a raw or CIDR peer
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
		peerIDs: map[string]int32{}, portIDs: map[string]int32{"*": 0},
		ports: []renderedPort{{key: "*"}},
		seen:  newNumbering(), portOf: []int32{0}}
	for _, ns := range spec.Namespaces {
		g.namespaces[ns.Name] = ns
	}
	return g
}

// peer returns the id of p as seen from a policy in namespace own,
// rendering it the first time: a service peer depends only on the service
// and whether it is in the policy's own namespace.
func (g *gen) peer(own string, p *schema.Peer) int32 {
	if n := g.seen.peer(own, p); int(n) < len(g.peerOf) {
		return g.peerOf[n]
	}
	id := g.internPeer(renderPeer(own, *p))
	g.peerOf = append(g.peerOf, id)
	return id
}

// otherKey identifies a raw-selector or CIDR peer as seen from namespace own.
func otherKey(own string, p schema.Peer) otherPeerKey {
	if p.Kind == schema.PeerCIDR {
		return otherPeerKey{own: own, other: "c" + p.CIDR + "|" + strings.Join(p.Except, ",")}
	}
	return otherPeerKey{own: own, other: "s" + p.Namespace + "|" + labelKey(p.Selector)}
}

// internPeer returns the id of the peer with this key, the first rendering
// of it being the one every policy shares.
func (g *gen) internPeer(peer networkingv1.NetworkPolicyPeer, key string) int32 {
	if id, ok := g.peerIDs[key]; ok {
		return id
	}
	id := int32(len(g.peers))
	g.peers = append(g.peers, renderedPeer{peer: peer, key: key})
	g.peerIDs[key] = id
	return id
}

func (g *gen) port(p schema.Port) int32 {
	if n := g.seen.port(p); int(n) < len(g.portOf) {
		return g.portOf[n]
	}
	port, key := renderPort(p)
	id, ok := g.portIDs[key]
	if !ok {
		id = int32(len(g.ports))
		g.ports = append(g.ports, renderedPort{port: port, key: key})
		g.portIDs[key] = id
	}
	g.portOf = append(g.portOf, id)
	return id
}

// numbering gives peers and ports ids by their identity alone, without
// rendering them: environments are numbered side by side, and merge renders
// each distinct peer and port once, into the shared gen (which keeps a
// numbering of its own in front of rendering).
type numbering struct {
	svcPeers   map[svcPeerKey]int32
	otherPeers map[otherPeerKey]int32
	peers      []peerRef // by local id
	portIDs    map[schema.Port]int32
	ports      []schema.Port // by local id; 0 is every port
}

// peerRef is a peer as a policy in namespace own sees it; the peer is the
// spec's own (rules outlive Generate), not a copy of it.
type peerRef struct {
	own  string
	peer *schema.Peer
}

func newNumbering() *numbering {
	return &numbering{svcPeers: map[svcPeerKey]int32{}, otherPeers: map[otherPeerKey]int32{},
		portIDs: map[schema.Port]int32{}, ports: []schema.Port{{}}}
}

func (n *numbering) peer(own string, p *schema.Peer) int32 {
	if p.Kind == schema.PeerService {
		return intern(n.svcPeers, svcPeerKey{service: p.Service, sameNS: p.Service.Namespace == own}, &n.peers, peerRef{own, p})
	}
	return intern(n.otherPeers, otherKey(own, *p), &n.peers, peerRef{own, p})
}

func (n *numbering) port(p schema.Port) int32 {
	p.Name = "" // the name never reaches the policy: ports are numeric
	return intern(n.portIDs, p, &n.ports, p)
}

// intern returns the id of k in ids, appending v to list (whose index is
// the id) the first time.
func intern[K comparable, V any](ids map[K]int32, k K, list *[]V, v V) int32 {
	if id, ok := ids[k]; ok {
		return id
	}
	id := int32(len(*list))
	*list = append(*list, v)
	ids[k] = id
	return id
}

// merge renumbers the units one environment built into g, rendering the
// peers and ports its numbering met (the first rendering of a key stays the
// one every policy shares), and sorts each unit's atoms by the new ids.
func (g *gen) merge(local *numbering, units map[unitKey]*unit) {
	peers := make([]int32, len(local.peers))
	for i, r := range local.peers {
		peers[i] = g.peer(r.own, r.peer)
	}
	ports := make([]int32, len(local.ports)) // 0 stays 0, every port
	for i, p := range local.ports[1:] {
		ports[i+1] = g.port(p)
	}
	for _, u := range units {
		for i, a := range u.atoms {
			u.atoms[i] = atom{ingress: a.ingress, peer: peers[a.peer], port: ports[a.port]}
		}
		slices.SortFunc(u.atoms, atom.compare)
		u.atoms = slices.Compact(u.atoms)
		u.gen = g
	}
}

// rank orders peer and port ids by their keys, the order policies list
// them in.
func (g *gen) rank() {
	g.peerRank = rankByKey(len(g.peers), func(i int) string { return g.peers[i].key })
	g.portRank = rankByKey(len(g.ports), func(i int) string { return g.ports[i].key })
}

func rankByKey(n int, key func(int) string) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(i)
	}
	sort.Slice(ids, func(i, j int) bool { return key(int(ids[i])) < key(int(ids[j])) })
	rank := make([]int32, n)
	for r, id := range ids {
		rank[id] = int32(r)
	}
	return rank
}

// buildUnits builds one environment's units, numbering peers and ports with
// n; it only reads g, so environments can be built at once.
func (g *gen) buildUnits(env *schema.Environment, n *numbering) (map[unitKey]*unit, error) {
	spec := g.spec
	units := map[unitKey]*unit{}
	byService := map[*schema.Service]*unit{}
	for _, ns := range spec.Namespaces {
		if !ns.Managed || !(ns.IsolateIngress || ns.IsolateEgress) {
			continue
		}
		source := strings.Join(ns.Sources, ",")
		if env.NetworkPolicyDeny(ns) {
			// Without it (defaultDeny: baseline) the Baseline-tier
			// ClusterNetworkPolicies deny what nothing allows; in v1alpha1
			// a namespace isolated one way keeps it (schema.BaselineDeny).
			units[unitKey{ns.Name, DefaultDenyName}] = &unit{
				namespace:   ns.Name,
				policyTypes: policyTypes(ns.IsolateIngress, ns.IsolateEgress),
				source:      source,
				wave:        DenyWave,
				alwaysEmit:  true,
				gen:         g,
			}
		}
		if !ns.IsolateEgress {
			// An ingress-only namespace's pods get egress isolation with
			// one rule that allows everything: the same traffic as no
			// egress policy, but the step to [ingress, egress] then only
			// adds allows (allow-dns, each service's egress rules) while
			// this policy still admits all, and GitOps engines prune it
			// after they apply the rest (Flux always, Argo CD with
			// PruneLast). Without it, allow-dns and every service policy
			// each isolate egress on their own, one object at a time, and
			// cut what the others carry until the last one is applied
			// (tests/e2e TestFluxGitOps records every such state).
			units[unitKey{ns.Name, AllowEgressName}] = &unit{
				namespace:   ns.Name,
				policyTypes: policyTypes(false, true),
				source:      source,
				wave:        AllowWave,
				alwaysEmit:  true,
				openEgress:  true,
				gen:         g,
			}
		}
		if ns.IsolateEgress && env.DNS != nil && !dnsByGuardrail(env, ns) {
			dns := &unit{
				namespace:   ns.Name,
				policyTypes: policyTypes(false, true),
				source:      source,
				wave:        AllowWave,
				gen:         g,
			}
			for i := range env.DNS.Peers {
				peer := n.peer(ns.Name, &env.DNS.Peers[i])
				for _, port := range env.DNS.Ports {
					dns.add(schema.Egress, peer, n.port(port))
				}
			}
			units[unitKey{ns.Name, AllowDNSName}] = dns
		}
		if ns.IsolateIngress && env.DNS != nil {
			// The cluster DNS lives here: isolating its ingress would cut
			// DNS for every pod of the cluster.
			for i := range env.DNS.Peers {
				p := &env.DNS.Peers[i]
				if p.Kind != schema.PeerSelector || p.Namespace != ns.Name {
					continue
				}
				if _, dup := units[unitKey{ns.Name, AllowDNSIngressName}]; dup {
					return nil, fmt.Errorf("namespace %s: more than one DNS selector", ns.Name)
				}
				dns := &unit{
					namespace:   ns.Name,
					selector:    p.Selector,
					policyTypes: policyTypes(true, false),
					source:      source,
					wave:        AllowWave,
					gen:         g,
				}
				peer := n.peer(ns.Name, &everyPod)
				for _, port := range env.DNS.Ports {
					dns.add(schema.Ingress, peer, n.port(port))
				}
				units[unitKey{ns.Name, AllowDNSIngressName}] = dns
			}
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
			gen:         g,
		}
		units[k] = u
		byService[s] = u
	}
	var exceptional []*unit
	for i := range env.Rules {
		r := &env.Rules[i]
		if r.Peer.Kind == schema.PeerHost {
			// A host by name: NetworkPolicy v1 has only ipBlock. The
			// environment's plugin carries it (ciliumPolicies); the
			// service's own policy still isolates its egress.
			continue
		}
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
		if x := r.Exception; x != nil {
			// An exception's rules get a policy of their own: deleting one
			// file closes it, and the file says whose it is.
			k := unitKey{r.Service.Namespace, ExceptionPolicyName(r.Service.Name, x.Name)}
			xu := units[k]
			if xu == nil {
				xu = &unit{namespace: u.namespace, selector: u.selector, source: r.Source.File, wave: AllowWave, exception: x, gen: g}
				units[k] = xu
				exceptional = append(exceptional, xu)
			}
			u = xu
		}
		peer := n.peer(r.Service.Namespace, &r.Peer)
		if r.AnyPort {
			u.add(r.Direction, peer, 0)
			continue
		}
		for _, p := range r.Ports {
			u.add(r.Direction, peer, n.port(p))
		}
	}
	for _, u := range exceptional {
		// Only allows: the service's own policy isolates.
		u.policyTypes = u.directions()
	}
	return units, nil
}

// atom is one allowed (direction, peer, port) of a policy: peer and port
// are ids in gen, port 0 meaning every port. Ids stand for canonical keys
// one to one, so equal atoms are equal (direction, peer key, port key).
type atom struct {
	ingress    bool
	peer, port int32
}

// compare is any fixed total order; sets of atoms are sorted by it.
func (a atom) compare(b atom) int {
	if a.ingress != b.ingress {
		if !a.ingress {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.peer, b.peer); c != 0 {
		return c
	}
	return cmp.Compare(a.port, b.port)
}

func (u *unit) add(dir schema.Direction, peer, port int32) {
	u.atoms = append(u.atoms, atom{ingress: dir == schema.Ingress, peer: peer, port: port})
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
		if p.Namespace == everyPod.Namespace {
			return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}}, "1ns:*"
		}
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

// intersect and subtract work on sorted, unique atom slices.
func intersect(a, b []atom) []atom {
	var out []atom
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch c := a[i].compare(b[j]); {
		case c < 0:
			i++
		case c > 0:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

func subtract(a, b []atom) []atom {
	var out []atom
	j := 0
	for _, x := range a {
		for j < len(b) && b[j].compare(x) < 0 {
			j++
		}
		if j < len(b) && b[j] == x {
			continue
		}
		out = append(out, x)
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
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: u.policyPeers(g), Ports: g.ports})
	}
	for _, g := range u.groups(schema.Egress) {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: u.policyPeers(g), Ports: g.ports})
	}
	if u.openEgress {
		np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{}}
	}
	if x := u.exception; x != nil {
		np.Annotations[ExceptionAnnotation] = x.Name
		np.Annotations[ExceptionOwnerAnnotation] = x.Owner
		np.Annotations[ExceptionExpiresAnnotation] = x.ExpiresText()
		np.Annotations[ExceptionReasonAnnotation] = x.Reason
	}
	return np
}

type group struct {
	key   string
	peers []int32
	ports []networkingv1.NetworkPolicyPort
}

// groups returns the rules of one direction: peers with the same port set
// share a rule, rules ordered by their port keys joined with ";", peers in
// a rule by their keys, ports by theirs ("*", every port, subsumes the rest).
func (u *unit) groups(dir schema.Direction) []group {
	g := u.gen
	ingress := dir == schema.Ingress
	var atoms []atom
	for _, a := range u.atoms {
		if a.ingress == ingress {
			atoms = append(atoms, a)
		}
	}
	if len(atoms) == 0 {
		return nil
	}
	// By peer key, then port key: each peer's ports come as a sorted run.
	slices.SortFunc(atoms, func(a, b atom) int {
		if c := cmp.Compare(g.peerRank[a.peer], g.peerRank[b.peer]); c != 0 {
			return c
		}
		return cmp.Compare(g.portRank[a.port], g.portRank[b.port])
	})
	var out []group
	byPorts := map[string]int{}
	var b strings.Builder
	for i := 0; i < len(atoms); {
		j := i
		anyPort := false
		for j < len(atoms) && atoms[j].peer == atoms[i].peer {
			anyPort = anyPort || atoms[j].port == 0
			j++
		}
		run := atoms[i:j]
		if anyPort {
			run = []atom{{port: 0}}
		}
		b.Reset()
		for k, a := range run {
			if k > 0 {
				b.WriteByte(';')
			}
			b.WriteString(g.ports[a.port].key)
		}
		gk := b.String()
		n, ok := byPorts[gk]
		if !ok {
			n = len(out)
			byPorts[gk] = n
			grp := group{key: gk}
			for _, a := range run {
				if p := g.ports[a.port].port; p != nil {
					grp.ports = append(grp.ports, *p)
				}
			}
			out = append(out, grp)
		}
		out[n].peers = append(out[n].peers, atoms[i].peer)
		i = j
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

func (u *unit) policyPeers(grp group) []networkingv1.NetworkPolicyPeer {
	out := make([]networkingv1.NetworkPolicyPeer, len(grp.peers))
	for i, id := range grp.peers {
		out[i] = u.gen.peers[id].peer
	}
	return out
}
