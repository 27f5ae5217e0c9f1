package graph

import (
	"fmt"
	"slices"
	"strings"
)

// Mermaid classes: how each kind of node is drawn. Mermaid has no per-edge
// class, so changed edges are coloured by linkStyle index.
var mermaidClasses = []struct{ name, style string }{
	{"unmanaged", "fill:#f4f4f4,stroke:#888888,stroke-dasharray:5 5,color:#444444"},
	{"selector", "fill:#fff8e1,stroke:#b8860b,stroke-dasharray:3 3"},
	{"cidr", "fill:#e8f4fd,stroke:#1f77b4"},
}

// Mermaid renders g as a Mermaid flowchart (left to right): one subgraph
// per namespace, unmanaged and undescribed namespaces dashed, raw peers as
// stadiums, address blocks as hexagons. Edges that exist in only some of the
// picture's environments are dotted; added edges are thick and green,
// removed ones dotted and red. Mermaid draws an edge's label on the edge
// itself, so it needs no ports nodes (see DOT). With g.Legend, a "legend"
// subgraph shows a sample of each kind of node and edge the picture uses.
func Mermaid(g *Graph) []byte {
	ids := g.ids()
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	classes := map[string][]string{}
	node := func(indent string, n *Node) {
		label := mermaidText(nodeLabel(n, " "))
		id := ids[n.ID]
		switch n.Kind {
		case Selector:
			fmt.Fprintf(&b, "%s%s([\"%s\"])\n", indent, id, label)
			classes["selector"] = append(classes["selector"], id)
		case CIDR:
			fmt.Fprintf(&b, "%s%s{{\"%s\"}}\n", indent, id, label)
			classes["cidr"] = append(classes["cidr"], id)
		default:
			fmt.Fprintf(&b, "%s%s[\"%s\"]\n", indent, id, label)
			if n.Kind == Unmanaged {
				classes["unmanaged"] = append(classes["unmanaged"], id)
			}
		}
	}
	var dashed []string
	for _, c := range g.Clusters {
		id := ids[clusterKey(c.Namespace)]
		fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", id, mermaidText(c.Label()))
		for _, n := range c.Nodes {
			node("    ", n)
		}
		b.WriteString("  end\n")
		if !c.Managed {
			dashed = append(dashed, id)
		}
	}
	for _, n := range g.Outside {
		node("  ", n)
	}
	edges := g.Edges
	var l legend
	if g.Legend {
		// The legend is a subgraph of samples; its edges come after the
		// picture's, so linkStyle indexes of the picture's edges do not move.
		l = g.legend()
		fmt.Fprintf(&b, "  subgraph %s[\"legend\"]\n", ids[legendKey("")])
		for _, item := range l.nodes {
			key := legendKey(item.key)
			node("    ", &Node{ID: key, Kind: item.kind, Label: item.label})
		}
		node("    ", &Node{ID: legendKey(legendCaller), Label: legendCaller})
		node("    ", &Node{ID: legendKey(legendCallee), Label: legendCallee})
		b.WriteString("  end\n")
		edges = slices.Clone(edges)
		for _, item := range l.edges {
			edges = append(edges, item.edge(legendKey(legendCaller), legendKey(legendCallee)))
		}
	}
	var added, removed []string
	for i, e := range edges {
		arrow := "-->"
		switch {
		case e.Change == Added:
			arrow = "==>"
			added = append(added, fmt.Sprint(i))
		case e.Change == Removed:
			arrow = "-.->"
			removed = append(removed, fmt.Sprint(i))
		case len(e.Environments) > 0:
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", ids[e.From], arrow, mermaidText(e.Label()), ids[e.To])
	}
	for _, id := range dashed {
		fmt.Fprintf(&b, "  style %s stroke-dasharray:5 5\n", id)
	}
	if g.Legend {
		fmt.Fprintf(&b, "  style %s fill:#ffffff,stroke:#bbbbbb,color:#555555\n", ids[legendKey("")])
	}
	for _, c := range mermaidClasses {
		if len(classes[c.name]) > 0 {
			fmt.Fprintf(&b, "  classDef %s %s\n", c.name, c.style)
			fmt.Fprintf(&b, "  class %s %s\n", strings.Join(classes[c.name], ","), c.name)
		}
	}
	if len(added) > 0 {
		fmt.Fprintf(&b, "  linkStyle %s stroke:#2e7d32,color:#2e7d32\n", strings.Join(added, ","))
	}
	if len(removed) > 0 {
		fmt.Fprintf(&b, "  linkStyle %s stroke:#c62828,color:#c62828\n", strings.Join(removed, ","))
	}
	return []byte(b.String())
}

// nodeLabel is the node's caption, with its environments when limited.
func nodeLabel(n *Node, sep string) string {
	if len(n.Environments) == 0 {
		return n.Label
	}
	return n.Label + sep + "[" + strings.Join(n.Environments, ", ") + "]"
}

// mermaidText escapes a label for a quoted Mermaid string: quotes become
// entity codes, as Mermaid documents, and line breaks <br>.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "\n", "<br>").Replace(s)
}
