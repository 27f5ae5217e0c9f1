// Package e2e proves netdep's policies on real packets: an unmodified
// enforcement agent (kube-router's network-policy controller) enforces them,
// read from a real kube-apiserver, between real network namespaces, and every
// flow of a universe of pods is probed with TCP and UDP and compared with an
// oracle.
//
// It is a module of its own: the API server and the agent are built from
// their upstream modules (tools/*, each its own module too) and never enter
// netdep's go.mod. Run it with `make e2e` (NETDEP_E2E=1, as root).
//
// Everything a run creates lives in network namespaces named nde2e-<pid>-*:
// the node (etcd and kube-apiserver on its loopback, the agent and its
// iptables rules and ipsets) and one namespace per pod or external host. A
// run deletes them when it ends, on failure and on SIGINT/SIGTERM too, and
// the next run removes those of a run that was killed outright.
package e2e
