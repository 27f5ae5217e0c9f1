package posture

import (
	"fmt"
	"sort"

	"github.com/netdep/netdep/generator/eval"
)

// Graph is the html page's picture of an environment, laid out here so the
// page needs no layout engine: service by service up to Options.GraphLimit
// services (and 8 edges per service on average), namespace by namespace
// above.
type Graph struct {
	// Level is "service" or "namespace".
	Level         string      `json:"level"`
	Width, Height int         `json:"-"`
	Boxes         []GraphBox  `json:"-"`
	Nodes         []GraphNode `json:"nodes"`
	Edges         []GraphEdge `json:"edges"`
	Services      int         `json:"services"`
	// Omitted are the namespace pairs not drawn (MaxGraphEdges).
	Omitted int `json:"omitted,omitempty"`
}

// MaxGraphEdges is the most namespace-to-namespace arrows the graph draws:
// the pairs with the most connections. Past a few thousand arrows a page is
// neither readable nor quick; the cross-namespace table and the json have
// every pair.
const MaxGraphEdges = 1500

// GraphBox is a namespace's frame.
type GraphBox struct {
	Name       string
	X, Y, W, H int
}

// GraphNode is a service, a namespace, or the outside of the cluster.
type GraphNode struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Label string `json:"-"`
	NS    string `json:"ns"`
	// Count is how many services a namespace node stands for.
	Count int `json:"count,omitempty"`
	// Exposed: reachable from outside the cluster.
	Exposed bool `json:"exposed,omitempty"`
	Outside bool `json:"outside,omitempty"`
	X       int  `json:"-"`
	Y       int  `json:"-"`
}

// GraphEdge is allowed connections from one node to another.
type GraphEdge struct {
	From  int    `json:"from"`
	To    int    `json:"to"`
	Ports string `json:"ports,omitempty"`
	// Flows is how many service connections a namespace edge stands for.
	Flows int `json:"flows,omitempty"`
	// Policies are the rules that allow the connection's first port:
	// "egress ns/name[0]", "ingress ns/name[1]", or "egress not isolated".
	Policies []string `json:"policies,omitempty"`
	X1       int      `json:"-"`
	Y1       int      `json:"-"`
	X2       int      `json:"-"`
	Y2       int      `json:"-"`
	// CX, CY is the control point of the edge's curve: bent to its left,
	// so the two directions of a pair and edges along a row stay apart.
	CX int `json:"-"`
	CY int `json:"-"`
}

const (
	cell     = 110 // a node's square in a namespace box
	boxHead  = 26
	pageW    = 860
	boxGap   = 20
	outsideH = 70
)

func buildGraph(in input, adj [][]edge, exposedOutside []bool, egress [][]Peer) *Graph {
	var subjects []int
	edges := 0
	for i, p := range in.pods {
		if p.subject {
			subjects = append(subjects, i)
			edges += len(adj[i])
		}
	}
	g := &Graph{Services: len(subjects)}
	if len(subjects) <= in.graphLimit && edges <= 8*in.graphLimit {
		g.Level = "service"
		serviceGraph(g, in, subjects, adj, exposedOutside, egress)
	} else {
		g.Level = "namespace"
		namespaceGraph(g, in, subjects, adj, exposedOutside, egress)
	}
	return g
}

// group is a namespace's nodes, for the layout.
type group struct {
	ns    string
	nodes []int // indices into g.Nodes
}

// layout places each namespace's nodes on a small grid in its box, and the
// boxes in rows across the page (shelf packing, in name order), under a
// band for the outside of the cluster.
func layout(g *Graph, groups []group) {
	x, y, rowH := boxGap, outsideH+boxGap, 0
	for _, gr := range groups {
		cols := 1
		for cols*cols < len(gr.nodes) {
			cols++
		}
		if cols > 8 {
			cols = 8
		}
		rows := (len(gr.nodes) + cols - 1) / cols
		w, h := cols*cell, boxHead+rows*cell
		if x+w > pageW && x > boxGap {
			x, y = boxGap, y+rowH+boxGap
			rowH = 0
		}
		g.Boxes = append(g.Boxes, GraphBox{Name: gr.ns, X: x, Y: y, W: w, H: h})
		for k, ni := range gr.nodes {
			g.Nodes[ni].X = x + (k%cols)*cell + cell/2
			g.Nodes[ni].Y = y + boxHead + (k/cols)*cell + cell/2
		}
		x += w + boxGap
		rowH = max(rowH, h)
	}
	g.Width = pageW + boxGap
	g.Height = y + rowH + boxGap
	for i := range g.Nodes {
		if g.Nodes[i].Outside {
			g.Nodes[i].X, g.Nodes[i].Y = g.Width/2, outsideH/2
		}
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		e.X1, e.Y1 = g.Nodes[e.From].X, g.Nodes[e.From].Y
		e.X2, e.Y2 = g.Nodes[e.To].X, g.Nodes[e.To].Y
		// Perpendicular offset of a fifth of the length, in integers.
		dx, dy := e.X2-e.X1, e.Y2-e.Y1
		e.CX = (e.X1+e.X2)/2 - dy/5
		e.CY = (e.Y1+e.Y2)/2 + dx/5
	}
}

func groupsOf(g *Graph) []group {
	var groups []group
	for i, n := range g.Nodes {
		if n.Outside {
			continue
		}
		if len(groups) == 0 || groups[len(groups)-1].ns != n.NS {
			groups = append(groups, group{ns: n.NS})
		}
		groups[len(groups)-1].nodes = append(groups[len(groups)-1].nodes, i)
	}
	return groups
}

func serviceGraph(g *Graph, in input, subjects []int, adj [][]edge, exposedOutside []bool, egress [][]Peer) {
	sorted := append([]int(nil), subjects...)
	sort.SliceStable(sorted, func(a, b int) bool { return in.pods[sorted[a]].name < in.pods[sorted[b]].name })
	id := map[int]int{}
	for _, p := range sorted {
		id[p] = len(g.Nodes)
		g.Nodes = append(g.Nodes, GraphNode{ID: len(g.Nodes), Name: in.pods[p].name, Label: shortName(in.pods[p]), NS: in.pods[p].ns, Exposed: exposedOutside[p]})
	}
	outside := -1
	outsideNode := func() int {
		if outside < 0 {
			outside = len(g.Nodes)
			g.Nodes = append(g.Nodes, GraphNode{ID: outside, Name: "outside the cluster", Label: "outside the cluster", Outside: true})
		}
		return outside
	}
	for _, p := range sorted {
		if exposedOutside[p] {
			g.Edges = append(g.Edges, GraphEdge{From: outsideNode(), To: id[p], Ports: "from addresses outside the cluster"})
		}
	}
	for _, p := range sorted {
		for _, e := range adj[p] {
			g.Edges = append(g.Edges, GraphEdge{From: id[p], To: id[e.dst], Ports: e.ports.String(), Policies: allowing(in.ev, p, e)})
		}
		if len(egress[p]) > 0 {
			g.Edges = append(g.Edges, GraphEdge{From: id[p], To: outsideNode(), Ports: "to addresses outside the cluster"})
		}
	}
	layout(g, groupsOf(g))
}

func namespaceGraph(g *Graph, in input, subjects []int, adj [][]edge, exposedOutside []bool, egress [][]Peer) {
	count := map[string]int{}
	exposed := map[string]bool{}
	leaves := map[string]bool{}
	for _, p := range subjects {
		ns := in.pods[p].ns
		count[ns]++
		exposed[ns] = exposed[ns] || exposedOutside[p]
		leaves[ns] = leaves[ns] || len(egress[p]) > 0
	}
	var names []string
	for n := range count {
		names = append(names, n)
	}
	sort.Strings(names)
	id := map[string]int{}
	for _, n := range names {
		id[n] = len(g.Nodes)
		g.Nodes = append(g.Nodes, GraphNode{ID: len(g.Nodes), Name: n, Label: fmt.Sprintf("%s (%d)", n, count[n]), NS: n, Count: count[n], Exposed: exposed[n]})
	}
	flows := map[[2]int]int{}
	for _, p := range subjects {
		for _, e := range adj[p] {
			a, b := id[in.pods[p].ns], id[in.pods[e.dst].ns]
			if a != b {
				flows[[2]int{a, b}]++
			}
		}
	}
	var keys [][2]int
	for k := range flows {
		keys = append(keys, k)
	}
	if len(keys) > MaxGraphEdges {
		sort.Slice(keys, func(i, j int) bool {
			if fi, fj := flows[keys[i]], flows[keys[j]]; fi != fj {
				return fi > fj
			}
			if keys[i][0] != keys[j][0] {
				return keys[i][0] < keys[j][0]
			}
			return keys[i][1] < keys[j][1]
		})
		g.Omitted = len(keys) - MaxGraphEdges
		keys = keys[:MaxGraphEdges]
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	outside := -1
	if len(exposed) > 0 || len(leaves) > 0 {
		outside = len(g.Nodes)
		g.Nodes = append(g.Nodes, GraphNode{ID: outside, Name: "outside the cluster", Label: "outside the cluster", Outside: true})
	}
	for _, n := range names {
		if exposed[n] {
			g.Edges = append(g.Edges, GraphEdge{From: outside, To: id[n], Ports: "from addresses outside the cluster"})
		}
	}
	for _, k := range keys {
		g.Edges = append(g.Edges, GraphEdge{From: k[0], To: k[1], Flows: flows[k], Ports: fmt.Sprintf("%d connections", flows[k])})
	}
	for _, n := range names {
		if leaves[n] {
			g.Edges = append(g.Edges, GraphEdge{From: id[n], To: outside, Ports: "to addresses outside the cluster"})
		}
	}
	if outside >= 0 && len(g.Edges) == 0 {
		g.Nodes = g.Nodes[:outside]
	}
	// Every namespace is one box of one node: lay them out as one group
	// per namespace.
	layout(g, groupsOf(g))
}

// shortName is a node's label inside its namespace's box: the name
// without its namespace, cut to fit the box (the title has it whole).
func shortName(p pod) string {
	s := p.name
	if len(s) > len(p.ns)+1 && s[:len(p.ns)+1] == p.ns+"/" {
		s = s[len(p.ns)+1:]
	}
	if r := []rune(s); len(r) > 17 {
		s = string(r[:16]) + "…"
	}
	return s
}

// allowing names the rules that allow e's first port from pod src.
func allowing(ev *eval.Evaluator, src int, e edge) []string {
	r := e.ports.Ranges()[0]
	v := ev.Explain(eval.Query{Src: eval.PodEndpoint(src), Dst: eval.PodEndpoint(e.dst), Protocol: r.Protocol, Port: r.From})
	var out []string
	side := func(what string, d eval.Direction) {
		switch {
		case d.Cluster != nil:
			out = append(out, what+" "+d.Cluster.String())
		case len(d.Isolating) == 0:
			out = append(out, what+" not isolated")
		default:
			for _, a := range d.Allowing {
				out = append(out, what+" "+a.String())
			}
		}
	}
	side("egress", v.Egress)
	side("ingress", v.Ingress)
	return out
}
