// Package eval owns netdep's NetworkPolicy semantics: given a universe of
// namespaces, pods and addresses outside the cluster, and a set of
// networking.k8s.io/v1 NetworkPolicies, it answers who may reach whom, on
// which protocols and ports. `netdep verify` and `netdep diff` are built on it.
//
// It owns, in this order:
//
//   - decoding NetworkPolicies from multi-document YAML manifests (Decode);
//   - the API server's defaulting (Default) and the checks the API server
//     would reject an object for (Validate);
//   - compiling policies over equivalence classes of pods and of addresses
//     (New), so that the whole connectivity matrix is computed with bitsets
//     rather than pair by pair (Evaluator.Reachability);
//   - answering a single question with the policies and rules that decide it
//     (Evaluator.Explain).
//
// Semantics are those of the Kubernetes API reference for NetworkPolicy
// (networking.k8s.io/v1) as stored by the API server after defaulting. Where
// upstream leaves a behaviour to the network plugin, this package picks one
// and says so:
//
//   - ipBlock peers match pod IPs when the universe gives pods IPs (as
//     Calico, Antrea and kube-network-policies do); pods without IPs are
//     never matched by an ipBlock. A pod with several IPs is matched when any
//     of them is.
//   - Only TCP, UDP and SCTP are modelled, on ports 1-65535.
//   - A named port resolves on the destination pod of the connection, by
//     name and protocol, per pod (for an egress rule that is the peer); on
//     an address outside the cluster it matches nothing.
//   - A peer with no field set (`- {}`) is rejected by the API server and
//     so by Validate and New; it does not mean "everyone" (a rule without
//     from/to does).
//   - Address classes (Externals) cover the whole address space, pod IPs
//     included: give the pod and service CIDRs in Universe.Addresses to see
//     them as classes of their own.
//   - Addresses outside the cluster are never isolated: a connection from an
//     external address needs only ingress at its destination pod, one to an
//     external address only egress at its source pod. Connections between
//     two external addresses are not reported by Reachability (Explain
//     calls them allowed: no policy can isolate them).
//   - A pod's connection to itself (loopback) is not reported by
//     Reachability.Flows; Ports and Explain evaluate it by the rules like a
//     connection between two replicas.
//
// The package never prints and never exits; it returns values and errors.
package eval
