// Package importer bootstraps dependency files from what a cluster already
// has, and compares declared dependencies with observed traffic.
//
//   - ImportPolicies reads existing NetworkPolicies and the workloads they
//     select (every kind with a pod template; pods the policies name by
//     labels no workload carries become services with those labels),
//     evaluates the policies (package eval) over a universe of those
//     workloads, and writes the dependency files whose generated policies
//     allow the same flows, or the closest ones. It checks its own result
//     as `netdep verify --manifests` does, with verify's reader and check
//     (verify.LoadManifests, verify.CheckManifests), and reports what verify
//     finds, each difference with its reason, plus the approximations verify
//     cannot see, each with the original rule: nothing is widened or dropped
//     silently. services.go, universe.go, edges.go, cidrs.go and scan.go
//     build the files; check.go checks and explains them; report.go writes
//     the report.
//   - ReadObservedFiles reads observed traffic: Hubble flow logs (`hubble
//     observe -o json`, hubble.go, line by line in bounded memory) and
//     Otterize ClientIntents (otterize.go), checking names, labels and ports
//     at their own file, line and column. Flows (flows.go) builds dependency
//     files from it.
//   - CompareObserved (drift.go) compares a spec with observed traffic:
//     dependencies declared but never used, and traffic nothing declares.
//
// Files are rendered in the compact schema of docs/reference.md, one per
// namespace, sorted, each entry commented with where it came from. The
// package never prints and never exits.
package importer
