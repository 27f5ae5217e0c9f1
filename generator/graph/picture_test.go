package graph

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/netdep/netdep/generator"
)

// dotPicture is what a DOT source declares, read back line by line: the
// cluster each node is in, node attributes and edges.
type dotPicture struct {
	cluster map[string]string // node -> cluster name ("" outside)
	attrs   map[string]string // node -> its attribute list
	edges   map[[2]string]string
}

var (
	dotQuoted  = `"(?:[^"\\]|\\.)*"`
	dotNodeRE  = regexp.MustCompile(`^\s*(` + dotQuoted + `) \[(.*)\];$`)
	dotEdgeRE  = regexp.MustCompile(`^\s*(` + dotQuoted + `) -> (` + dotQuoted + `)(?: \[(.*)\])?;$`)
	dotClustRE = regexp.MustCompile(`^\s*subgraph (` + dotQuoted + `) \{$`)
)

func readDOT(t *testing.T, src []byte) dotPicture {
	t.Helper()
	p := dotPicture{cluster: map[string]string{}, attrs: map[string]string{}, edges: map[[2]string]string{}}
	cluster := ""
	for i, line := range strings.Split(strings.TrimSuffix(string(src), "\n"), "\n") {
		if m := dotClustRE.FindStringSubmatch(line); m != nil {
			cluster = m[1]
			continue
		}
		if m := dotEdgeRE.FindStringSubmatch(line); m != nil {
			k := [2]string{m[1], m[2]}
			if _, dup := p.edges[k]; dup {
				t.Errorf("line %d: edge %s -> %s twice", i+1, m[1], m[2])
			}
			p.edges[k] = m[3]
			continue
		}
		if m := dotNodeRE.FindStringSubmatch(line); m != nil {
			if _, dup := p.attrs[m[1]]; dup {
				t.Errorf("line %d: node %s twice", i+1, m[1])
			}
			p.cluster[m[1]], p.attrs[m[1]] = cluster, m[2]
			continue
		}
		if strings.TrimSpace(line) == "}" {
			cluster = ""
		}
	}
	return p
}

func exampleGraph(t *testing.T, ex string) *Graph {
	t.Helper()
	out, err := generator.FromPaths([]string{"../../examples/" + ex}, generator.Options{SpecOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(out.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestDOTEdgesCarryTheirPorts: in every example, each edge of the graph is
// drawn through one node that shows exactly its caption, so Graphviz cannot
// set a caption apart from its line; environment-only edges are dashed end
// to end; the ports of an edge inside one namespace are drawn in its
// cluster.
func TestDOTEdgesCarryTheirPorts(t *testing.T) {
	for _, ex := range []string{"shop", "platform", "guardrails", "seed", "adopt"} {
		t.Run(ex, func(t *testing.T) {
			g := exampleGraph(t, ex)
			p := readDOT(t, DOT(g))
			nsOf := map[string]string{}
			for _, c := range g.Clusters {
				for _, n := range c.Nodes {
					nsOf[n.ID] = c.Namespace
				}
			}
			dashedEdges := 0
			for _, e := range g.Edges {
				from, to := dotQuote(e.From), dotQuote(e.To)
				var via []string
				for k, attrs := range p.edges {
					if k[0] == from && strings.Contains(attrs, "arrowhead=none") {
						if _, ok := p.edges[[2]string{k[1], to}]; ok {
							via = append(via, k[1])
						}
					}
				}
				if len(via) != 1 {
					t.Errorf("%s -> %s: drawn through %d ports nodes %v, want 1", e.From, e.To, len(via), via)
					continue
				}
				ports := via[0]
				if want := "label=" + dotQuote(e.Label()) + ","; !strings.HasPrefix(p.attrs[ports], want) {
					t.Errorf("%s -> %s: ports node [%s], want %s", e.From, e.To, p.attrs[ports], want)
				}
				if _, ok := p.edges[[2]string{from, to}]; ok {
					t.Errorf("%s -> %s: also drawn directly", e.From, e.To)
				}
				wantCluster := ""
				if ns := nsOf[e.From]; ns != "" && ns == nsOf[e.To] {
					wantCluster = dotQuote("cluster_" + ns)
				}
				if got := p.cluster[ports]; got != wantCluster {
					t.Errorf("%s -> %s: ports in cluster %q, want %q", e.From, e.To, got, wantCluster)
				}
				halves := []string{p.edges[[2]string{from, ports}], p.edges[[2]string{ports, to}], p.attrs[ports]}
				for i, attrs := range halves {
					if dashed := strings.Contains(attrs, "dashed"); dashed != (len(e.Environments) > 0) {
						t.Errorf("%s -> %s [%v]: part %d [%s] dashed=%v", e.From, e.To, e.Environments, i, attrs, dashed)
					}
				}
				if len(e.Environments) > 0 {
					dashedEdges++
					if !strings.Contains(e.Label(), "["+strings.Join(e.Environments, ", ")+"]") {
						t.Errorf("%s -> %s: caption %q does not name its environments", e.From, e.To, e.Label())
					}
				}
			}
			// Every node of the picture, its ports nodes and the legend's:
			// nothing else is drawn.
			legend := 0
			for id, c := range p.cluster {
				if c == `"cluster_ legend"` {
					legend++
				} else if !strings.Contains(id, " -> ") && graphNode(g, id) == nil {
					t.Errorf("node %s is neither the graph's nor the legend's", id)
				}
			}
			l := g.legend()
			if want := len(l.nodes) + 2 + len(l.edges); legend != want {
				t.Errorf("legend has %d nodes, want %d (%d samples, caller, callee, %d edges)", legend, want, len(l.nodes), len(l.edges))
			}
			if hasEnvSample := len(l.edges) > 1; hasEnvSample != (dashedEdges > 0) {
				t.Errorf("legend explains environment-only edges: %v, the picture has %d", hasEnvSample, dashedEdges)
			}
		})
	}
}

func graphNode(g *Graph, quoted string) *Node {
	for _, n := range g.nodes() {
		if dotQuote(n.ID) == quoted {
			return n
		}
	}
	return nil
}

// TestLegend: the legend samples exactly the kinds of node a picture
// draws (a managed service always), in both formats, and a diff picture has
// none.
func TestLegend(t *testing.T) {
	for _, tc := range []struct {
		ex   string
		want []string // sample keys
		envs []string // of the environment-only edge's sample, nil for none
	}{
		{"shop", []string{"service", "unmanaged", "selector", "cidr"}, []string{"prod"}},
		{"platform", []string{"service", "unmanaged", "cidr"}, []string{"prod"}},
		{"guardrails", []string{"service", "cidr"}, nil},
	} {
		t.Run(tc.ex, func(t *testing.T) {
			g := exampleGraph(t, tc.ex)
			l := g.legend()
			var keys []string
			for _, n := range l.nodes {
				keys = append(keys, n.key)
			}
			if fmt.Sprint(keys) != fmt.Sprint(tc.want) {
				t.Errorf("legend samples %v, want %v", keys, tc.want)
			}
			var envs []string
			for _, e := range l.edges {
				if e.envs != nil {
					envs = e.envs
				}
			}
			if fmt.Sprint(envs) != fmt.Sprint(tc.envs) {
				t.Errorf("environment-only sample %v, want %v", envs, tc.envs)
			}
			mmd := string(Mermaid(g))
			if !strings.Contains(mmd, "  subgraph legend[\"legend\"]\n") {
				t.Errorf("Mermaid has no legend subgraph:\n%s", mmd)
			}
			for _, k := range keys {
				if !regexp.MustCompile(`(?m)^    legend_` + k + `[\[({]`).MatchString(mmd) {
					t.Errorf("Mermaid legend has no %s sample", k)
				}
			}
			if tc.envs != nil && !strings.Contains(mmd, `legend_caller -.->|"only in [`+strings.Join(tc.envs, ", ")+`]"| legend_callee`) {
				t.Errorf("Mermaid legend has no dotted environment-only edge")
			}
			if !strings.Contains(string(DOT(g)), "subgraph \"cluster_ legend\" {\n    label=\"legend\";") {
				t.Errorf("DOT has no legend cluster")
			}
		})
	}
	for name, b := range map[string][]byte{"mermaid": MermaidChanges(sampleChanges()), "dot": DOT(Changes(sampleChanges()))} {
		if bytes.Contains(b, []byte("legend")) {
			t.Errorf("the %s diff picture has a legend", name)
		}
	}
}

// TestMermaidEdges: each edge is one Mermaid link carrying its caption,
// dotted when it exists in some environments only.
func TestMermaidEdges(t *testing.T) {
	g := exampleGraph(t, "shop")
	mmd := string(Mermaid(g))
	ids := g.ids()
	for _, e := range g.Edges {
		arrow := "-->"
		if len(e.Environments) > 0 {
			arrow = "-.->"
		}
		line := fmt.Sprintf("\n  %s %s|\"%s\"| %s\n", ids[e.From], arrow, mermaidText(e.Label()), ids[e.To])
		if strings.Count(mmd, line) != 1 {
			t.Errorf("want the link %q once", strings.TrimSpace(line))
		}
	}
}

// TestPictureDeterministic: the same spec draws the same bytes.
func TestPictureDeterministic(t *testing.T) {
	a, b := exampleGraph(t, "shop"), exampleGraph(t, "shop")
	if !bytes.Equal(DOT(a), DOT(b)) || !bytes.Equal(Mermaid(a), Mermaid(b)) {
		t.Errorf("two builds of examples/shop draw differently")
	}
}
