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
func DOT(g *Graph) []byte {
	var b strings.Builder
	b.WriteString("digraph netdep {\n")
	b.WriteString("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.3, ranksep=0.8];\n")
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef5ff\", color=\"#3b6ea5\", fontname=\"Helvetica\", fontsize=11];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\", fontcolor=\"#333333\"];\n")
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
		b.WriteString("  }\n")
	}
	for _, n := range g.Outside {
		b.WriteString("  " + dotNode(n) + "\n")
	}
	for _, e := range g.Edges {
		attrs := []string{"label=" + dotQuote(e.Label())}
		switch {
		case e.Change == Added:
			attrs = append(attrs, `color="#2e7d32"`, `fontcolor="#2e7d32"`, "penwidth=2")
		case e.Change == Removed:
			attrs = append(attrs, `color="#c62828"`, `fontcolor="#c62828"`, "style=dashed")
		case len(e.Environments) > 0:
			attrs = append(attrs, "style=dashed")
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", dotQuote(e.From), dotQuote(e.To), strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	return []byte(b.String())
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
