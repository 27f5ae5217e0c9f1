package graph

// The legend's two sample services, between which its sample edges run.
const (
	legendCaller = "caller"
	legendCallee = "callee"
)

// legendNode is a sample node of the legend: drawn like any node of its
// kind, captioned with what that kind means.
type legendNode struct {
	key   string // unique among the legend's nodes and edges
	kind  NodeKind
	label string
}

// legendEdge is a sample edge of the legend, from caller to callee.
type legendEdge struct {
	key    string
	label  string
	envs   []string
	change Change
}

func (l legendEdge) edge(from, to string) *Edge {
	return &Edge{From: from, To: to, Ports: []string{l.label}, Environments: l.envs, Change: l.change}
}

type legend struct {
	nodes []legendNode
	edges []legendEdge
}

// legend lists what the picture needs explained, in a fixed order: the
// kinds of node it draws (a managed service always), a plain edge, and the
// kinds of edge it has beyond that. An environment-only edge's sample names
// the environments of the picture's first such edge, so the legend reads
// like the edges it explains.
func (g *Graph) legend() legend {
	kinds := map[NodeKind]bool{Service: true}
	unmanagedNS := false
	for _, c := range g.Clusters {
		unmanagedNS = unmanagedNS || !c.Managed
	}
	for _, n := range g.nodes() {
		kinds[n.Kind] = true
	}
	var l legend
	l.nodes = append(l.nodes, legendNode{"service", Service, "service of a\nmanaged namespace"})
	if kinds[Unmanaged] || unmanagedNS {
		l.nodes = append(l.nodes, legendNode{"unmanaged", Unmanaged, "service of an\nunmanaged namespace\n(no policies)"})
	}
	if kinds[Selector] {
		l.nodes = append(l.nodes, legendNode{"selector", Selector, "pods named\nby labels"})
	}
	if kinds[CIDR] {
		l.nodes = append(l.nodes, legendNode{"cidr", CIDR, "addresses outside\nthe cluster"})
	}
	l.edges = append(l.edges, legendEdge{key: "edge", label: "allowed ports"})
	var envs []string
	added, removed := false, false
	for _, e := range g.Edges {
		if envs == nil && len(e.Environments) > 0 && e.Change == Unchanged {
			envs = e.Environments
		}
		added = added || e.Change == Added
		removed = removed || e.Change == Removed
	}
	if envs != nil {
		l.edges = append(l.edges, legendEdge{key: "environments", label: "only in", envs: envs})
	}
	if added {
		l.edges = append(l.edges, legendEdge{key: "added", label: "added", change: Added})
	}
	if removed {
		l.edges = append(l.edges, legendEdge{key: "removed", label: "removed", change: Removed})
	}
	return l
}
