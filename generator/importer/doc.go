// Package importer bootstraps dependency files from what a cluster already
// has, and compares declared dependencies with observed traffic.
//
//   - Policies reads existing NetworkPolicies and the workloads they select,
//     evaluates the policies (package eval) over a universe of those
//     workloads, and writes the dependency files whose generated policies
//     allow the same flows, or the closest narrower ones. It checks its own
//     result with verify.Check against the original policies and names every
//     difference in its report: nothing it cannot express is widened or
//     dropped silently.
//   - Flows builds dependency files from observed traffic: Hubble flow logs
//     (`hubble observe -o json`) and Otterize ClientIntents.
//   - Drift compares a spec with observed traffic: dependencies declared but
//     never used, and traffic that nothing declares.
//
// Files are rendered in the compact schema of docs/reference.md, one per
// namespace, sorted, each entry commented with where it came from. The
// package never prints and never exits.
package importer
