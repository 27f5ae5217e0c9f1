// Package graph draws the declared dependency graph: namespaces as clusters,
// services as nodes, one edge per (caller, callee) labelled with its ports.
// Services of unmanaged namespaces, address blocks (CIDRs) and raw peers
// (pods a dependency file names by selector) are drawn differently, and an
// edge or service that exists in only some environments says which. A
// legend (legend.go) samples each kind of node and edge a picture draws.
//
// It is pure: a resolved schema.Spec in, text out (Mermaid in mermaid.go,
// Graphviz DOT in dot.go), byte-identical for the same spec. It never reads
// files and never looks at a NetworkPolicy: it pictures what the dependency
// files declare, which is what verify proves the policies implement.
//
// The implicit DNS egress of egress-isolated namespaces is not drawn: it
// would add an edge from every service and hide the graph people wrote.
package graph
