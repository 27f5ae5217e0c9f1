package graph

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"

	"github.com/netdep/netdep/tests/golden"
)

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

func sampleChanges() []ChangedEdge {
	return []ChangedEdge{
		{From: Endpoint{Kind: Service, Namespace: "storefront", Name: "frontend", Managed: true},
			To: Endpoint{Kind: Service, Namespace: "storefront", Name: "cart", Managed: true}, Ports: []string{"7070/TCP"}},
		{From: Endpoint{Kind: Service, Namespace: "storefront", Name: "frontend", Managed: true},
			To: Endpoint{Kind: Service, Namespace: "catalog", Name: "search", Managed: true}, Ports: []string{"9200/TCP"}, Removed: true},
		{From: Endpoint{Kind: Service, Namespace: "payments", Name: "payment", Managed: true},
			To: Endpoint{Kind: CIDR, Name: "198.51.100.0/25"}, Ports: []string{"443/TCP"}},
		{From: Endpoint{Kind: Unmanaged, Namespace: "monitoring", Name: "prometheus"},
			To: Endpoint{Kind: Service, Namespace: "storefront", Name: "frontend", Managed: true}, Ports: []string{"9090/TCP"}},
		{From: Endpoint{Kind: Selector, Namespace: "storefront", Name: "(other pods)", Managed: true},
			To: Endpoint{Kind: Service, Namespace: "storefront", Name: "cart", Managed: true}, Ports: []string{"7070/TCP", "53/UDP"}, Removed: true},
	}
}

// TestMermaidChanges: the changed part of a graph, as netdep diff shows it,
// does not depend on the order of the changes.
func TestMermaidChanges(t *testing.T) {
	changes := sampleChanges()
	got := MermaidChanges(changes)
	checkGolden(t, "changes.mmd", got)
	checkGolden(t, "changes.dot", DOT(Changes(changes)))
	slices.Reverse(changes)
	if again := MermaidChanges(changes); string(again) != string(got) {
		t.Errorf("the picture depends on the order of the changes:\n%s", again)
	}
}

// TestBuildEnvironments: one environment draws only what exists there,
// without environment marks; every environment marks what differs.
func TestBuildEnvironments(t *testing.T) {
	out, err := generator.FromPaths([]string{"../../examples/shop"})
	if err != nil {
		t.Fatal(err)
	}
	all, err := Build(out.Spec)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := Build(out.Spec, "prod")
	if err != nil {
		t.Fatal(err)
	}
	find := func(g *Graph, from, to string) *Edge {
		for _, e := range g.Edges {
			if e.From == from && e.To == to {
				return e
			}
		}
		return nil
	}
	if e := find(all, "storefront/frontend", "storefront/toolbox"); e == nil || !slices.Equal(e.Environments, []string{"dev"}) {
		t.Errorf("all environments: frontend -> toolbox = %+v, want an edge marked [dev]", e)
	}
	if e := find(prod, "storefront/frontend", "storefront/toolbox"); e != nil {
		t.Errorf("prod draws frontend -> toolbox, which exists in dev only")
	}
	if e := find(prod, "storefront/frontend", "catalog/search"); e == nil || len(e.Environments) != 0 {
		t.Errorf("prod: frontend -> search = %+v, want an unmarked edge", e)
	}
	if _, err := Build(out.Spec, "qa"); err == nil {
		t.Errorf("Build accepted an unknown environment")
	}
}

// TestBuildHosts: a host call is a node named by its host outside the
// cluster; a pinned one draws its addresses under the host's name.
func TestBuildHosts(t *testing.T) {
	out, err := generator.FromPaths([]string{"../../examples/shop"})
	if err != nil {
		t.Fatal(err)
	}
	spec := out.Spec
	dev, staging := spec.Environment("dev"), spec.Environment("staging")
	pay := dev.Services[0]
	dev.Rules = append(dev.Rules, schema.Rule{Service: pay, Direction: schema.Egress, Peer: schema.Peer{Kind: schema.PeerHost, Host: "api.stripe.com"}, AnyPort: true})
	staging.Rules = append(staging.Rules, schema.Rule{Service: pay, Direction: schema.Egress, Peer: schema.Peer{Kind: schema.PeerCIDR, CIDR: "203.0.113.10/32", Host: "api.stripe.com"}, AnyPort: true})
	g, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	var node *Node
	for _, n := range g.Outside {
		if n.ID == "host api.stripe.com" {
			node = n
		}
	}
	if node == nil || node.Kind != CIDR {
		t.Fatalf("no outside node host api.stripe.com: %+v", g.Outside)
	}
	found := false
	for _, e := range g.Edges {
		found = found || e.From == pay.ID() && e.To == "host api.stripe.com"
	}
	if !found {
		t.Errorf("no edge %s -> host api.stripe.com", pay.ID())
	}
}
