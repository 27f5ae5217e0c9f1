package graph

import (
	"fmt"
	"strings"
)

// DOT renders g in Graphviz's language (`dot -Tsvg` draws it): one cluster
// per namespace, unmanaged and undescribed namespaces dashed and grey, raw
// peers as dashed ellipses, address blocks as hexagons. Edges that exist in
// only some of the picture's environments are dashed; added edges are bold
// and green, removed ones dashed and red. Node names are the node IDs,
// quoted, so the source reads like the dependency files.
//
// An edge's ports are not a Graphviz edge label but a small node on the
// edge: caller -> [ports] -> callee. Graphviz places edge labels beside the
// middle of a long spline, where several edges bunch and the label seems to
// belong to a neighbour (and xlabels are placed after layout, over other
// edges); a node is laid out like the others, so it never overlaps one and
// the line visibly runs through it. The ports node of an edge between two
// services of one namespace sits in that namespace's cluster, so the edge
// stays inside it.
//
// A legend (when g.Legend) explains the shapes and strokes the picture uses.
func DOT(g *Graph) []byte {
	var b strings.Builder
	b.WriteString("digraph netdep {\n")
	b.WriteString("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.25, ranksep=0.3];\n")
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef5ff\", color=\"#3b6ea5\", fontname=\"Helvetica\", fontsize=11];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\", fontcolor=\"#333333\"];\n")
	nsOf := map[string]string{}
	for _, c := range g.Clusters {
		for _, n := range c.Nodes {
			nsOf[n.ID] = c.Namespace
		}
	}
	// inner: the edges whose ports node belongs in a namespace's cluster.
	inner := map[string][]*Edge{}
	var outer []*Edge
	for _, e := range g.Edges {
		if ns := nsOf[e.From]; ns != "" && ns == nsOf[e.To] {
			inner[ns] = append(inner[ns], e)
			continue
		}
		outer = append(outer, e)
	}
	for _, c := range g.Clusters {
		fmt.Fprintf(&b, "  subgraph %s {\n", dotQuote("cluster_"+c.Namespace))
		fmt.Fprintf(&b, "    label=%s;\n", dotQuote(c.Label()))
		if c.Managed {
			b.WriteString("    style=\"rounded\"; color=\"#3b6ea5\";\n")
		} else {
			b.WriteString("    style=\"rounded,dashed\"; color=\"#888888\"; fontcolor=\"#555555\";\n")
		}
		for _, n := range c.Nodes {
			b.WriteString("    " + dotNode(n) + "\n")
		}
		for _, e := range inner[c.Namespace] {
			b.WriteString("    " + dotPortsNode(dotPortsID(e), e) + "\n")
		}
		b.WriteString("  }\n")
	}
	for _, n := range g.Outside {
		b.WriteString("  " + dotNode(n) + "\n")
	}
	for _, e := range outer {
		b.WriteString("  " + dotPortsNode(dotPortsID(e), e) + "\n")
	}
	for _, e := range g.Edges {
		dotEdge(&b, "  ", dotPortsID(e), e)
	}
	if g.Legend {
		dotLegend(&b, g)
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// dotPortsID names the node that carries an edge's ports. Node IDs never
// contain " -> ", so it cannot be a node's name; the change keeps an added
// and a removed edge between the same nodes apart.
func dotPortsID(e *Edge) string {
	id := e.From + " -> " + e.To
	switch e.Change {
	case Added:
		id += " (added)"
	case Removed:
		id += " (removed)"
	}
	return id
}

// dotPortsNode is the box on an edge that says its ports: white, in the
// edge's colour, dashed when the edge is.
func dotPortsNode(id string, e *Edge) string {
	attrs := []string{"label=" + dotQuote(e.Label()), "shape=box", "fontsize=9", "height=0.2", `margin="0.06,0.02"`, `fillcolor="#ffffff"`}
	switch {
	case e.Change == Added:
		attrs = append(attrs, `color="#2e7d32"`, `fontcolor="#2e7d32"`, `style="rounded,filled,bold"`)
	case e.Change == Removed:
		attrs = append(attrs, `color="#c62828"`, `fontcolor="#c62828"`, `style="rounded,filled,dashed"`)
	case len(e.Environments) > 0:
		attrs = append(attrs, `color="#555555"`, `fontcolor="#333333"`, `style="rounded,filled,dashed"`)
	default:
		attrs = append(attrs, `color="#555555"`, `fontcolor="#333333"`)
	}
	return dotQuote(id) + " [" + strings.Join(attrs, ", ") + "];"
}

// dotEdge writes the two halves of an edge, through its ports node id: no
// arrowhead at the ports, both halves in the edge's stroke.
func dotEdge(b *strings.Builder, indent, id string, e *Edge) {
	var style []string
	switch {
	case e.Change == Added:
		style = []string{`color="#2e7d32"`, "penwidth=2"}
	case e.Change == Removed:
		style = []string{`color="#c62828"`, "style=dashed"}
	case len(e.Environments) > 0:
		style = []string{"style=dashed"}
	}
	fmt.Fprintf(b, "%s%s -> %s [%s];\n", indent, dotQuote(e.From), dotQuote(id), strings.Join(append([]string{"arrowhead=none"}, style...), ", "))
	fmt.Fprintf(b, "%s%s -> %s", indent, dotQuote(id), dotQuote(e.To))
	if len(style) > 0 {
		fmt.Fprintf(b, " [%s]", strings.Join(style, ", "))
	}
	b.WriteString(";\n")
}

// dotLegend draws a "legend" cluster with a sample of each kind of node and
// edge the picture uses. Its names start with a space, which no node ID
// does, so they cannot meet the picture's.
func dotLegend(b *strings.Builder, g *Graph) {
	l := g.legend()
	b.WriteString("  subgraph \"cluster_ legend\" {\n")
	b.WriteString("    label=\"legend\"; style=\"rounded\"; color=\"#bbbbbb\"; fontcolor=\"#555555\";\n")
	var ids []string
	for _, item := range l.nodes {
		n := &Node{ID: " legend " + item.key, Kind: item.kind, Label: item.label}
		ids = append(ids, dotQuote(n.ID))
		b.WriteString("    " + dotNode(n) + "\n")
	}
	// Lay the samples out in a row: rankdir=LR turns a chain of invisible
	// edges into one.
	if len(ids) > 1 {
		fmt.Fprintf(b, "    %s [style=invis];\n", strings.Join(ids, " -> "))
	}
	const caller, callee = " legend caller", " legend callee"
	b.WriteString("    " + dotNode(&Node{ID: caller, Label: legendCaller}) + "\n")
	b.WriteString("    " + dotNode(&Node{ID: callee, Label: legendCallee}) + "\n")
	for _, item := range l.edges {
		e := item.edge(caller, callee)
		id := " legend " + item.key
		b.WriteString("    " + dotPortsNode(id, e) + "\n")
		dotEdge(b, "    ", id, e)
	}
	b.WriteString("  }\n")
}

func dotNode(n *Node) string {
	attrs := []string{"label=" + dotQuote(nodeLabel(n, "\n"))}
	switch n.Kind {
	case Unmanaged:
		attrs = append(attrs, `fillcolor="#f4f4f4"`, `color="#888888"`, `style="rounded,filled,dashed"`)
	case Selector:
		attrs = append(attrs, "shape=ellipse", `fillcolor="#fff8e1"`, `color="#b8860b"`, `style="filled,dashed"`)
	case CIDR:
		attrs = append(attrs, "shape=hexagon", `fillcolor="#e8f4fd"`, `color="#1f77b4"`, `style="filled"`)
	}
	return dotQuote(n.ID) + " [" + strings.Join(attrs, ", ") + "];"
}

// dotQuote makes s a DOT quoted string: backslash and quote escaped,
// newlines as \n (a centred line break).
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
