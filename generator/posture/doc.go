// Package posture is netdep's security posture report: what the policies in
// force mean for an auditor, computed from the evaluated policies (package
// eval, over the probe world of package world or over the workloads of any
// manifests), never from the dependency files alone, so hand edits of the
// tree, foreign policies and ClusterNetworkPolicies count.
//
// Per environment it reports:
//
//   - isolation coverage: per namespace, how many of its services (or
//     workloads) a NetworkPolicy isolates for ingress and for egress, and
//     whether a new pod with no labels would be isolated;
//   - exposure: every service that addresses outside the cluster, or pods of
//     namespaces nobody manages, may open connections to, with the ports;
//   - egress to the outside: per service, the address classes it may reach;
//   - blast radius: per service, what a compromised pod reaches in one hop
//     and transitively (services, namespaces, the outside), largest first;
//   - cross-namespace flows, and flows into the namespaces marked sensitive;
//   - the whole allowed connectivity as a list "src => dst : conns", as
//     netpol-analyzer and roxctl list it.
//
// Compare puts two revisions' figures side by side. A Report is written as
// markdown, html (one self-contained page), json, text or csv (the
// connectivity list). The package never prints and never exits.
package posture
