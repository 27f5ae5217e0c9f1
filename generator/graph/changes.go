package graph

import (
	"cmp"
	"slices"
)

// Endpoint is one end of a changed edge, as a flow diff names it.
type Endpoint struct {
	// Kind decides the shape: Service, Unmanaged, Selector (any pods named
	// by labels, or "(unlabelled)") or CIDR.
	Kind NodeKind
	// Namespace is the cluster the node is drawn in; "" draws it outside
	// every namespace (addresses, "netdep-outside/(unlabelled)").
	Namespace string
	// Name is the caption: the service name, "(pods k=v)", "10.0.0.0/8", ...
	Name string
	// Managed draws the namespace's cluster solid rather than dashed.
	Managed bool
}

func (e Endpoint) id() string {
	if e.Namespace == "" {
		return e.Name
	}
	return e.Namespace + "/" + e.Name
}

// ChangedEdge is one edge a change adds or removes.
type ChangedEdge struct {
	From, To Endpoint
	// Ports label the edge ("8080/TCP"), as the diff prints them.
	Ports   []string
	Removed bool
}

// Changes pictures only the given edges and their ends: the part of the
// graph a change touches. `netdep diff -o markdown` renders it with
// Mermaid under each environment; added edges are green, removed ones red
// and dotted. Edges are drawn in sorted order, so the output does not depend
// on the order of changes.
func Changes(changes []ChangedEdge) *Graph {
	g := &Graph{}
	clusters := map[string]*Cluster{}
	seen := map[string]bool{}
	add := func(e Endpoint) string {
		id := e.id()
		if seen[id] {
			return id
		}
		seen[id] = true
		n := &Node{ID: id, Kind: e.Kind, Label: e.Name}
		if e.Namespace == "" {
			g.Outside = append(g.Outside, n)
			return id
		}
		c := clusters[e.Namespace]
		if c == nil {
			c = &Cluster{Namespace: e.Namespace, Described: true, Managed: e.Managed}
			clusters[e.Namespace] = c
			g.Clusters = append(g.Clusters, c)
		}
		c.Nodes = append(c.Nodes, n)
		return id
	}
	for _, ch := range changes {
		e := &Edge{From: add(ch.From), To: add(ch.To), Ports: ch.Ports, Change: Added}
		if ch.Removed {
			e.Change = Removed
		}
		g.Edges = append(g.Edges, e)
	}
	slices.SortFunc(g.Clusters, func(a, b *Cluster) int { return cmp.Compare(a.Namespace, b.Namespace) })
	byID := func(a, b *Node) int { return cmp.Compare(a.ID, b.ID) }
	for _, c := range g.Clusters {
		slices.SortFunc(c.Nodes, byID)
	}
	slices.SortFunc(g.Outside, byID)
	sortEdges(g.Edges)
	return g
}

// MermaidChanges is Mermaid(Changes(changes)): the changed part of the
// graph as a Mermaid flowchart, ready for a ```mermaid block.
func MermaidChanges(changes []ChangedEdge) []byte {
	return Mermaid(Changes(changes))
}
