// Package e2e proves netdep's policies on real packets: unmodified
// enforcement agents (kube-router's network-policy controller, and
// kube-network-policies) enforce them in turn, read from a real
// kube-apiserver, between real network namespaces; every flow of a universe
// of pods is probed with TCP and UDP and compared with the oracles, and the
// agents' verdicts with each other.
//
// It is a module of its own: the API server and the agents are built from
// their upstream modules (tools/*, each its own module too) and never enter
// netdep's go.mod. Run it with `make e2e` (NETDEP_E2E=1, as root).
//
// Everything a run creates lives in network namespaces named nde2e-<pid>-*:
// the node (etcd and kube-apiserver on its loopback, the agent and its
// iptables or nftables rules, ipsets and queues) and one namespace per pod or
// external host. A run deletes them when it ends, on failure and on
// SIGINT/SIGTERM too, and the next run removes those of a run that was
// killed outright.
package e2e
