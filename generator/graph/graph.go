package graph

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/netdep/netdep/generator/report"
	"github.com/netdep/netdep/schema"
)

// NodeKind says what a node stands for, and so how it is drawn.
type NodeKind int

const (
	// Service is a declared service of a managed namespace.
	Service NodeKind = iota
	// Unmanaged is a declared service of a namespace netdep does not manage
	// (managed: false): described so others can name it, given no policy.
	Unmanaged
	// Selector is pods a dependency file names by namespace and labels (a
	// raw peer) rather than as a service; "(all pods)" when it has no
	// labels.
	Selector
	// CIDR is addresses: a literal block (minus its excepts) or a named set.
	CIDR
)

// Graph is a picture model: clusters of nodes and the edges between them.
// Build makes one from a spec; callers may also assemble one (see Changes).
type Graph struct {
	// Clusters group nodes by namespace, sorted by name.
	Clusters []*Cluster
	// Outside are nodes in no namespace (CIDRs), sorted by ID.
	Outside []*Node
	// Edges are sorted by (From, To).
	Edges []*Edge
	// Legend draws a legend: a sample of each kind of node and edge the
	// picture shows. Build sets it; the changed-edges picture of a diff
	// does not, it sits under a comment that says what + and - mean.
	Legend bool
}

// Cluster is one namespace.
type Cluster struct {
	Namespace string
	// Managed is false for namespaces netdep does not manage or that no
	// file describes (the namespace of a raw peer); they are drawn dashed.
	Managed bool
	// Described is false for a namespace only a raw peer names.
	Described bool
	Nodes     []*Node // sorted by ID
}

// Label is the cluster's caption.
func (c *Cluster) Label() string {
	switch {
	case !c.Described:
		return c.Namespace + " (not described)"
	case !c.Managed:
		return c.Namespace + " (unmanaged)"
	}
	return c.Namespace
}

// Node is one box of the picture.
type Node struct {
	// ID is unique in the graph and stable across runs: "ns/svc" for
	// services, "ns/{k=v,...}" for selectors, the block or set name for
	// CIDRs.
	ID    string
	Kind  NodeKind
	Label string
	// Environments the node exists in, when not all of the picture's.
	Environments []string
}

// Change marks an edge of a diff picture.
type Change int

const (
	// Unchanged is an edge of a plain picture.
	Unchanged Change = iota
	// Added is an edge the change adds.
	Added
	// Removed is an edge the change removes.
	Removed
)

// Edge is every connection declared from one node to another.
type Edge struct {
	From, To string // node IDs
	// Ports label the edge: "8080/TCP", "53/UDP", "9000-9100/TCP", "any".
	Ports []string
	// Environments the edge exists in, when not all of the picture's.
	Environments []string
	Change       Change
}

// Label is the edge's caption: its ports, then its environments.
func (e *Edge) Label() string {
	s := strings.Join(e.Ports, ", ")
	if len(e.Environments) > 0 {
		s += " [" + strings.Join(e.Environments, ", ") + "]"
	}
	switch e.Change {
	case Added:
		s = "+ " + s
	case Removed:
		s = "- " + s
	}
	return s
}

// Build pictures the graph declared in envs (every environment of the spec
// when envs is empty). With more than one environment, nodes and edges that
// do not exist in all of them carry the environments they exist in.
func Build(spec *schema.Spec, envs ...string) (*Graph, error) {
	if len(envs) == 0 {
		envs = spec.EnvNames()
	}
	b := &builder{spec: spec, nodes: map[string]*Node{}, nodeEnvs: map[string][]string{},
		edges: map[[2]string]*Edge{}, edgeEnvs: map[[2]string][]string{}, ports: map[[2]string]map[string]schema.Port{},
		cidrBlocks: map[string]map[string]string{}}
	for _, name := range envs {
		env := spec.Environment(name)
		if env == nil {
			return nil, fmt.Errorf("unknown environment %q", name)
		}
		b.env(env)
	}
	return b.graph(envs), nil
}

type builder struct {
	spec     *schema.Spec
	nodes    map[string]*Node
	nodeEnvs map[string][]string
	edges    map[[2]string]*Edge
	edgeEnvs map[[2]string][]string
	ports    map[[2]string]map[string]schema.Port
	// cidrBlocks: named set -> environment -> its blocks, to tell whether a
	// set's label can show its blocks.
	cidrBlocks map[string]map[string]string
	nsOf       map[string]string
}

func (b *builder) node(id string, kind NodeKind, label, ns, env string) {
	if _, ok := b.nodes[id]; !ok {
		b.nodes[id] = &Node{ID: id, Kind: kind, Label: label}
		if b.nsOf == nil {
			b.nsOf = map[string]string{}
		}
		b.nsOf[id] = ns
	}
	if envs := b.nodeEnvs[id]; len(envs) == 0 || envs[len(envs)-1] != env {
		b.nodeEnvs[id] = append(envs, env)
	}
}

func (b *builder) env(env *schema.Environment) {
	for _, s := range env.Services {
		b.service(s, env.Name)
	}
	for _, r := range env.Rules {
		local := b.service(r.Service, env.Name)
		peer := b.peer(r.Peer, env.Name)
		from, to := local, peer
		if r.Direction == schema.Ingress {
			from, to = peer, local
		}
		k := [2]string{from, to}
		if b.edges[k] == nil {
			b.edges[k] = &Edge{From: from, To: to}
			b.ports[k] = map[string]schema.Port{}
		}
		if envs := b.edgeEnvs[k]; len(envs) == 0 || envs[len(envs)-1] != env.Name {
			b.edgeEnvs[k] = append(envs, env.Name)
		}
		if r.AnyPort {
			b.ports[k]["any"] = schema.Port{}
		}
		for _, p := range r.Ports {
			key := schema.Port{Protocol: p.Protocol, Port: p.Port, EndPort: p.EndPort}.String()
			if prev, ok := b.ports[k][key]; !ok || prev.Name == "" {
				b.ports[k][key] = p
			}
		}
	}
}

func (b *builder) service(s *schema.Service, env string) string {
	kind := Service
	if ns := b.spec.Namespace(s.Namespace); ns == nil || !ns.Managed {
		kind = Unmanaged
	}
	b.node(s.ID(), kind, s.Name, s.Namespace, env)
	return s.ID()
}

func (b *builder) peer(p schema.Peer, env string) string {
	switch p.Kind {
	case schema.PeerService:
		return b.service(p.Service, env)
	case schema.PeerSelector:
		label := "(all pods)"
		if p.Selector != nil {
			label = labelsString(p.Selector)
		}
		id := p.Namespace + "/" + label
		b.node(id, Selector, label, p.Namespace, env)
		return id
	case schema.PeerHost:
		// An external service by name: a node of its own, outside the
		// cluster like an address block.
		id := "host " + p.Host
		b.node(id, CIDR, id, "", env)
		return id
	}
	if p.Host != "" {
		// A pinned host: its addresses, under its name.
		p.CIDRName = "host " + p.Host
	}
	block := p.CIDR
	if len(p.Except) > 0 {
		block += " except " + strings.Join(p.Except, ", ")
	}
	if p.CIDRName == "" {
		b.node(block, CIDR, block, "", env)
		return block
	}
	if b.cidrBlocks[p.CIDRName] == nil {
		b.cidrBlocks[p.CIDRName] = map[string]string{}
	}
	if prev := b.cidrBlocks[p.CIDRName][env]; prev != "" {
		block = prev + ", " + block
	}
	b.cidrBlocks[p.CIDRName][env] = block
	b.node(p.CIDRName, CIDR, p.CIDRName, "", env)
	return p.CIDRName
}

func (b *builder) graph(envs []string) *Graph {
	g := &Graph{Legend: true}
	clusters := map[string]*Cluster{}
	for id, n := range b.nodes {
		if n.Kind == CIDR {
			// A named set shows its blocks when they are the same in every
			// environment it is used in.
			if blocks := b.cidrBlocks[id]; len(blocks) > 0 {
				n.Label = id + "\n" + cidrLines(blocks, envs)
			}
		}
		if e := b.nodeEnvs[id]; len(e) < len(envs) {
			n.Environments = e
		}
		ns := b.nsOf[id]
		if ns == "" {
			g.Outside = append(g.Outside, n)
			continue
		}
		c := clusters[ns]
		if c == nil {
			c = &Cluster{Namespace: ns}
			if sns := b.spec.Namespace(ns); sns != nil {
				c.Described, c.Managed = true, sns.Managed
			}
			clusters[ns] = c
			g.Clusters = append(g.Clusters, c)
		}
		c.Nodes = append(c.Nodes, n)
	}
	slices.SortFunc(g.Clusters, func(a, b *Cluster) int { return cmp.Compare(a.Namespace, b.Namespace) })
	byID := func(a, b *Node) int { return cmp.Compare(a.ID, b.ID) }
	for _, c := range g.Clusters {
		slices.SortFunc(c.Nodes, byID)
	}
	slices.SortFunc(g.Outside, byID)
	for k, e := range b.edges {
		ports := make([]schema.Port, 0, len(b.ports[k]))
		any := false
		for s, p := range b.ports[k] {
			if s == "any" {
				any = true
				continue
			}
			ports = append(ports, p)
		}
		slices.SortFunc(ports, comparePorts)
		if any {
			e.Ports = []string{"any"}
		}
		for _, p := range ports {
			e.Ports = append(e.Ports, portLabel(p))
		}
		if en := b.edgeEnvs[k]; len(en) < len(envs) {
			e.Environments = en
		}
		g.Edges = append(g.Edges, e)
	}
	sortEdges(g.Edges)
	return g
}

// cidrLines lists a named set's blocks, each with the environments that use
// it when they are not all the same.
func cidrLines(blocks map[string]string, envs []string) string {
	var order []string
	byBlock := map[string][]string{}
	for _, env := range envs {
		bl, ok := blocks[env]
		if !ok {
			continue
		}
		if byBlock[bl] == nil {
			order = append(order, bl)
		}
		byBlock[bl] = append(byBlock[bl], env)
	}
	if len(order) == 1 {
		return order[0]
	}
	lines := make([]string, len(order))
	for i, bl := range order {
		lines[i] = bl + " [" + strings.Join(byBlock[bl], ", ") + "]"
	}
	return strings.Join(lines, "\n")
}

// portLabel is "grpc 7070/TCP" for a named port, "7070/TCP" otherwise.
func portLabel(p schema.Port) string {
	s := schema.Port{Protocol: p.Protocol, Port: p.Port, EndPort: p.EndPort}.String()
	if p.Name != "" {
		return p.Name + " " + s
	}
	return s
}

func sortEdges(es []*Edge) {
	slices.SortFunc(es, func(a, b *Edge) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), cmp.Compare(a.Change, b.Change))
	})
}

func comparePorts(a, b schema.Port) int {
	return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Port, b.Port), cmp.Compare(a.EndPort, b.EndPort))
}

func labelsString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// nodes returns every node of g in drawing order.
func (g *Graph) nodes() []*Node {
	var out []*Node
	for _, c := range g.Clusters {
		out = append(out, c.Nodes...)
	}
	return append(out, g.Outside...)
}

// clusterKey keys a cluster in the map ids returns; node IDs never start
// with a space.
func clusterKey(ns string) string { return " cluster " + ns }

// legendKey keys a sample node of the legend in the map ids returns, and
// the legend itself when key is "".
func legendKey(key string) string { return " legend " + key }

// ids gives every cluster and node an identifier safe in Mermaid, derived
// from its name so that a small change to the graph is a small change to
// the text: "ns_<namespace>" for clusters, "<namespace>__<service>" for
// nodes in a namespace, "net_<name>" for addresses.
func (g *Graph) ids() map[string]string {
	out := map[string]string{}
	used := map[string]bool{}
	add := func(key, id string) {
		base := id
		for i := 2; used[id]; i++ {
			id = base + "_" + strconv.Itoa(i)
		}
		used[id] = true
		out[key] = id
	}
	for _, c := range g.Clusters {
		add(clusterKey(c.Namespace), "ns_"+safeID(c.Namespace))
	}
	for _, c := range g.Clusters {
		for _, n := range c.Nodes {
			add(n.ID, safeID(n.ID))
		}
	}
	for _, n := range g.Outside {
		add(n.ID, "net_"+safeID(n.ID))
	}
	if g.Legend {
		// Added last, so a picture's own names never change for the legend.
		add(legendKey(""), "legend")
		for _, n := range g.legend().nodes {
			add(legendKey(n.key), "legend_"+n.key)
		}
		add(legendKey(legendCaller), "legend_"+legendCaller)
		add(legendKey(legendCallee), "legend_"+legendCallee)
	}
	return out
}

func safeID(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '/':
			b.WriteString("__")
		default:
			b.WriteByte('_')
		}
	}
	return strings.TrimRight(b.String(), "_")
}

// The graph's output formats.
const (
	FormatMermaid = "mermaid"
	FormatDOT     = "dot"
)

// Formats are mermaid and dot: g is a report.Report.
func (g *Graph) Formats() []string { return []string{FormatMermaid, FormatDOT} }

// Write writes g as a Mermaid flowchart or a Graphviz digraph.
func (g *Graph) Write(w io.Writer, format string) error {
	var b []byte
	switch format {
	case FormatMermaid:
		b = Mermaid(g)
	case FormatDOT:
		b = DOT(g)
	default:
		return report.UnknownFormat(format, g)
	}
	_, err := w.Write(b)
	return err
}
