package diff

import (
	"strings"

	"github.com/netdep/netdep/generator/graph"
)

// maxPictureEdges keeps the picture of a change readable; a larger change is
// better read from the flow table alone.
const maxPictureEdges = 40

// picture draws the flows an environment gains and loses as a Mermaid graph
// (GitHub and GitLab render it inside a pull-request comment): only the
// edges the change touches and their ends. nil when there is nothing to draw
// or too much to read.
func picture(e *EnvReport) []byte {
	n := len(e.FlowsAdded) + len(e.FlowsRemoved)
	if n == 0 || n > maxPictureEdges {
		return nil
	}
	edges := make([]graph.ChangedEdge, 0, n)
	changed, _, _ := flowLines(e)
	// A connection whose ports changed is one edge labelled as the table
	// shows it ("8080/TCP → 8080-8081/TCP"), green when it gains ports.
	for _, l := range changed {
		gains := !fromPorts(l.After).Subtract(fromPorts(l.Before)).IsEmpty()
		edges = append(edges, graph.ChangedEdge{From: node(l.From), To: node(l.To), Ports: []string{l.portsText("→")}, Removed: !gains})
	}
	for _, part := range []struct {
		flows   []Flow
		removed bool
	}{{e.FlowsAdded, false}, {e.FlowsRemoved, true}} {
		for _, f := range part.flows {
			if changedConnection(f) {
				continue
			}
			ports := make([]string, len(f.Ports))
			for i, p := range f.Ports {
				ports[i] = p.String()
			}
			edges = append(edges, graph.ChangedEdge{From: node(f.From), To: node(f.To), Ports: ports, Removed: part.removed})
		}
	}
	return graph.MermaidChanges(edges)
}

// node maps a flow endpoint to the picture's node kinds.
func node(ep Endpoint) graph.Endpoint {
	switch ep.Kind {
	case KindService:
		return graph.Endpoint{Kind: graph.Service, Namespace: ep.Namespace, Name: ep.Service, Managed: true}
	case KindSelector, KindPods:
		return graph.Endpoint{Kind: graph.Selector, Namespace: ep.Namespace, Name: strings.TrimPrefix(ep.String(), ep.Namespace+"/"), Managed: true}
	case KindUnmanaged:
		return graph.Endpoint{Kind: graph.Unmanaged, Name: ep.String()}
	default:
		return graph.Endpoint{Kind: graph.CIDR, Name: ep.String()}
	}
}
